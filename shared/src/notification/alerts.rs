//! What the platform's admins must hear about: a message waiting in a
//! dead-letter queue. A message there is work for a person: an event a
//! consumer could not handle after every retry. For the payment consumers
//! (`payment-processor`, `payment-refunder`, `booking-confirmation`) that
//! is a payment that needs a manual look; the redrive route sends it back.
//!
//! A scheduled check reads every dead-letter queue's depth and emails the
//! configured admin address about each queue that holds messages: once per
//! queue and hour while messages wait (the send ledger's key is the queue
//! and the hour), so a stuck queue is not forgotten and not a flood.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::ports::{Claim, Mailer, OutgoingMail, SendError, SendLedger, Settled};
use super::{Channel, NoticeKey};
use crate::AppError;
use crate::clock::Clock;
use crate::identity::Email;
use crate::ports::DeadLetterQueues;

/// Consumers whose dead letters are payments waiting for a person.
const PAYMENT_CONSUMERS: [&str; 3] = [
    "payment-processor",
    "payment-refunder",
    "booking-confirmation",
];

/// The admin alert use case.
#[derive(Debug)]
pub struct AdminAlerts<Q, L, M, C> {
    pub queues: Q,
    pub ledger: L,
    pub mail: M,
    pub clock: C,
    /// The platform admins' address.
    pub to: Email,
    pub lease: Duration,
}

/// What one check did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertCheck {
    /// Queues holding messages, with how many.
    pub waiting: Vec<(String, u64)>,
    /// Queues an alert went out for in this check.
    pub alerted: Vec<String>,
}

fn alert_key(queue: &str, at: DateTime<Utc>) -> NoticeKey {
    NoticeKey::of_alert(&format!("DLQ#{queue}#{}", at.format("%Y-%m-%dT%H")))
}

fn alert_mail(to: &Email, queue: &str, depth: u64) -> OutgoingMail {
    let payments = PAYMENT_CONSUMERS.contains(&queue);
    let subject = format!(
        "[booking platform] {depth} message{} in the {queue} dead-letter queue",
        if depth == 1 { "" } else { "s" }
    );
    let why = if payments {
        "These are payments that need a manual look: the saga could not finish them after every retry."
    } else {
        "Its consumer could not handle these events after every retry."
    };
    let text = format!(
        "{depth} message{} wait in the {queue} dead-letter queue.\n\n{why}\n\n\
         Read them: GET /admin/dead-letters/{queue}\n\
         Once the cause is fixed, send them back: POST /admin/dead-letters/{queue}/redrive\n\n\
         This alert repeats every hour while messages wait.\n",
        if depth == 1 { "" } else { "s" }
    );
    let html = format!(
        "<!DOCTYPE html><html><body><pre>{}</pre></body></html>",
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    );
    OutgoingMail {
        to: to.clone(),
        subject,
        text,
        html,
    }
}

impl<Q, L, M, C> AdminAlerts<Q, L, M, C>
where
    Q: DeadLetterQueues,
    L: SendLedger,
    M: Mailer,
    C: Clock,
{
    /// Alerts the admins about every dead-letter queue holding messages,
    /// unless this hour's alert about it went out already. A mail provider
    /// failing for now is an error: the next check tries again.
    pub async fn check(&self) -> Result<AlertCheck, AppError> {
        let now = self.clock.now();
        let mut check = AlertCheck::default();
        for (queue, depth) in self.queues.depths().await? {
            if depth == 0 {
                continue;
            }
            check.waiting.push((queue.clone(), depth));
            let key = alert_key(&queue, now);
            match self
                .ledger
                .claim(&key, Channel::Email, now, now + self.lease)
                .await?
            {
                Claim::Go => {}
                Claim::Done | Claim::Busy => continue,
            }
            match self
                .mail
                .send_mail(&alert_mail(&self.to, &queue, depth))
                .await
            {
                Ok(provider_id) => {
                    self.ledger
                        .settle(&key, Channel::Email, &Settled::Sent { provider_id }, now)
                        .await?;
                    tracing::warn!(
                        queue,
                        depth,
                        "admins alerted: messages wait in a dead-letter queue"
                    );
                    check.alerted.push(queue);
                }
                Err(SendError::Permanent(reason)) => {
                    tracing::error!(queue, reason, "the admin alert address refused the alert");
                    self.ledger
                        .settle(&key, Channel::Email, &Settled::Failed { reason }, now)
                        .await?;
                }
                Err(SendError::Transient(why)) => {
                    self.ledger.release(&key, Channel::Email).await?;
                    return Err(AppError::Unavailable {
                        code: "ALERT_NOT_SENT",
                        message: format!("the admin alert could not be sent now: {why}"),
                    });
                }
            }
        }
        Ok(check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::memory::{MemoryDeadLetters, MemoryNotifications, MemoryPostOffice};
    use crate::clock::FixedClock;
    use crate::ports::DeadLetter;

    fn letter(id: &str) -> DeadLetter {
        DeadLetter {
            message_id: id.into(),
            receive_count: Some(5),
            sent_at: None,
            event: None,
            body: Some("{}".into()),
        }
    }

    fn alerts() -> AdminAlerts<MemoryDeadLetters, MemoryNotifications, MemoryPostOffice, FixedClock>
    {
        AdminAlerts {
            queues: MemoryDeadLetters::with_queues(&["event-log", "payment-processor"]),
            ledger: MemoryNotifications::default(),
            mail: MemoryPostOffice::default(),
            clock: FixedClock::at_rfc3339("2027-01-10T09:10:00Z"),
            to: Email::parse("ops@example.com").unwrap(),
            lease: Duration::seconds(30),
        }
    }

    #[tokio::test]
    async fn a_queue_holding_messages_is_alerted_once_an_hour_and_an_empty_one_never() {
        let a = alerts();
        assert_eq!(a.check().await.unwrap(), AlertCheck::default());
        a.queues.put("payment-processor", letter("m1"));
        a.queues.put("payment-processor", letter("m2"));
        let first = a.check().await.unwrap();
        assert_eq!(first.waiting, [("payment-processor".to_owned(), 2)]);
        assert_eq!(first.alerted, ["payment-processor"]);
        let mails = a.mail.mails();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].to.to_string(), "ops@example.com");
        assert_eq!(
            mails[0].subject,
            "[booking platform] 2 messages in the payment-processor dead-letter queue"
        );
        assert!(mails[0].text.contains("payments that need a manual look"));
        assert!(
            mails[0]
                .text
                .contains("POST /admin/dead-letters/payment-processor/redrive")
        );

        // Five minutes later: the same hour, no second alert.
        a.clock.advance(Duration::minutes(5));
        assert!(a.check().await.unwrap().alerted.is_empty());
        // The next hour, still waiting: alerted again.
        a.clock.advance(Duration::hours(1));
        assert_eq!(a.check().await.unwrap().alerted, ["payment-processor"]);
        assert_eq!(a.mail.mails().len(), 2);
    }

    #[tokio::test]
    async fn a_mail_provider_down_is_tried_again_by_the_next_check() {
        let a = alerts();
        a.queues.put("event-log", letter("m1"));
        a.mail
            .fail_next(Channel::Email, [SendError::Transient("Throttling".into())]);
        assert!(matches!(a.check().await, Err(AppError::Unavailable { .. })));
        assert_eq!(a.check().await.unwrap().alerted, ["event-log"]);
        let mails = a.mail.mails();
        assert_eq!(mails.len(), 1);
        assert!(mails[0].text.contains("could not handle these events"));
    }
}

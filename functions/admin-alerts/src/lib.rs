//! The admin alert check (see [`shared::notification::alerts`]): every
//! five minutes, emails the admins about each dead-letter queue holding
//! messages, once per queue and hour while they wait.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use lambda_runtime::LambdaEvent;
use shared::clock::Clock;
use shared::notification::alerts::{AdminAlerts, AlertCheck};
use shared::notification::ports::{Mailer, SendLedger};
use shared::ports::DeadLetterQueues;

pub async fn handle<Q, L, M, C>(
    alerts: &AdminAlerts<Q, L, M, C>,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<AlertCheck, lambda_runtime::Error>
where
    Q: DeadLetterQueues,
    L: SendLedger,
    M: Mailer,
    C: Clock,
{
    let check = alerts.check().await?;
    tracing::info!(waiting = check.waiting.len(), alerted = check.alerted.len(), request_id = %event.context.request_id, "alert check done");
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use shared::adapters::memory::{MemoryDeadLetters, MemoryNotifications, MemoryPostOffice};
    use shared::clock::FixedClock;
    use shared::identity::Email;
    use shared::ports::DeadLetter;

    const FIXTURE: &str = include_str!("../../../events/admin-alerts/scheduled-event.json");

    fn scheduled() -> LambdaEvent<CloudWatchEvent> {
        let event: CloudWatchEvent = serde_json::from_str(FIXTURE).unwrap();
        LambdaEvent::new(event, lambda_runtime::Context::default())
    }

    #[tokio::test]
    async fn a_dead_letter_is_one_alert_to_the_admins() {
        let alerts = AdminAlerts {
            queues: MemoryDeadLetters::with_queues(&["payment-refunder", "event-log"]),
            ledger: MemoryNotifications::default(),
            mail: MemoryPostOffice::default(),
            clock: FixedClock::at_rfc3339("2027-01-14T08:00:30Z"),
            to: Email::parse("ops@example.com").unwrap(),
            lease: Duration::seconds(30),
        };
        let quiet = handle(&alerts, scheduled()).await.unwrap();
        assert!(quiet.waiting.is_empty() && alerts.mail.mails().is_empty());
        alerts.queues.put(
            "payment-refunder",
            DeadLetter {
                message_id: "m1".into(),
                receive_count: Some(5),
                sent_at: None,
                event: None,
                body: Some("{}".into()),
            },
        );
        let check = handle(&alerts, scheduled()).await.unwrap();
        assert_eq!(check.alerted, ["payment-refunder"]);
        handle(&alerts, scheduled()).await.unwrap();
        let mails = alerts.mail.mails();
        assert_eq!(mails.len(), 1);
        assert!(
            mails[0]
                .subject
                .contains("1 message in the payment-refunder")
        );
    }
}

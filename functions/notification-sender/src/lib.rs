//! Sends what each event tells a customer (see
//! [`shared::notification::service`]): fed by its own queue, which the
//! bus fills with the events customers hear about. A message whose send
//! failed for now is reported failed, so SQS delivers it again (the
//! channels already sent are not repeated) and, after the queue's limit,
//! moves it to the dead-letter queue.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::EventEnvelope;
use shared::booking::ports::BookingReader;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::clock::Clock;
use shared::consumer::{MessageError, each_event};
use shared::notification::ports::{
    Inbox, Mailer, PreferenceStore, ReminderSchedule, SendLedger, Texter,
};
use shared::notification::service::{Notifications, NotifyError, Outcome};
use shared::ports::UserStore;

pub async fn handle<U, B, K, S, M, T, C>(
    notifications: &Notifications<U, B, K, S, M, T, C>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error>
where
    U: UserStore,
    B: BookingReader,
    K: VenueStore + ResourceStore,
    S: SendLedger + Inbox + PreferenceStore + ReminderSchedule,
    M: Mailer,
    T: Texter,
    C: Clock,
{
    Ok(each_event(&event.payload, |e| on_event(notifications, e)).await)
}

async fn on_event<U, B, K, S, M, T, C>(
    notifications: &Notifications<U, B, K, S, M, T, C>,
    event: EventEnvelope,
) -> Result<(), MessageError>
where
    U: UserStore,
    B: BookingReader,
    K: VenueStore + ResourceStore,
    S: SendLedger + Inbox + PreferenceStore + ReminderSchedule,
    M: Mailer,
    T: Texter,
    C: Clock,
{
    match notifications.on_event(&event).await {
        Ok(Outcome::Nothing { why }) => {
            tracing::info!(event_id = %event.id, event_type = %event.event_type, why, "nothing to send");
            Ok(())
        }
        Ok(Outcome::Notified(_)) => Ok(()),
        Err(NotifyError::BadEvent(e)) => Err(MessageError::BadEvent(e)),
        Err(NotifyError::App(e)) => Err(MessageError::App(e)),
        Err(NotifyError::Retry(why)) => Err(MessageError::Unavailable(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::booking::BookingStatus;
    use shared::identity::Language;
    use shared::testing::booking::booking;
    use shared::testing::notification::Twin;

    fn batch() -> LambdaEvent<SqsEvent> {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/notification-sender/sqs-customer-events.json"
        ))
        .expect("fixture parses");
        LambdaEvent::new(batch, lambda_runtime::Context::default())
    }

    async fn twin() -> Twin {
        let mut confirmed = booking();
        confirmed.status = BookingStatus::Confirmed;
        shared::testing::notification::twin(&confirmed, Language::En).await
    }

    #[tokio::test]
    async fn a_batch_sends_each_notice_once_and_reports_only_the_malformed_event() {
        let n = twin().await;
        for _ in 0..3 {
            let response = handle(&n, batch()).await.unwrap();
            let failed: Vec<_> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            assert_eq!(failed, ["msg-02"], "the confirmation without its number");
        }
        assert_eq!(n.mail.mails().len(), 1);
        assert_eq!(n.sms.texts().len(), 1);
        let owner = booking().user_id;
        assert_eq!(n.store.inbox(&owner).len(), 1);
    }

    #[tokio::test]
    async fn a_provider_down_fails_the_message_so_the_queue_delivers_it_again() {
        use shared::notification::Channel;
        use shared::notification::ports::SendError;
        let n = twin().await;
        n.mail
            .fail_next(Channel::Email, [SendError::Transient("Throttling".into())]);
        let response = handle(&n, batch()).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["msg-01", "msg-02"]);
        handle(&n, batch()).await.unwrap();
        assert_eq!(n.mail.mails().len(), 1);
        assert_eq!(n.sms.texts().len(), 1);
    }
}

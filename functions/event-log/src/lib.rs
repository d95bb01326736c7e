//! The event log: every platform event, recorded exactly once.
//!
//! Reads the EventBridge events its rule routes to its SQS queue. A message
//! that is not a platform event is reported as a batch item failure, so it is
//! retried and then lands in the queue's dead-letter queue for inspection.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use shared::EventEnvelope;
use shared::ports::{EventLog, Recorded};

#[derive(Debug, thiserror::Error)]
enum MessageError {
    #[error("the message has no body")]
    NoBody,
    #[error("the message is not a platform event: {0}")]
    NotAnEvent(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] shared::AppError),
}

async fn process(log: &impl EventLog, message: &SqsMessage) -> Result<Recorded, MessageError> {
    let body = message.body.as_deref().ok_or(MessageError::NoBody)?;
    let event: EventBridgeEvent<EventEnvelope> = serde_json::from_str(body)?;
    let source = event.source.as_str();
    let envelope = &event.detail;
    let recorded = log.record(source, envelope).await?;
    tracing::info!(
        event_id = %envelope.id,
        event_type = %envelope.event_type,
        correlation_id = %envelope.correlation_id,
        ?recorded,
        "event logged"
    );
    Ok(recorded)
}

pub async fn handle(
    log: &impl EventLog,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    let messages = &event.payload.records;
    let outcomes =
        futures::future::join_all(messages.iter().map(|message| process(log, message))).await;
    let mut response = SqsBatchResponse::default();
    for (message, outcome) in messages.iter().zip(outcomes) {
        if let Err(error) = outcome {
            let message_id = message.message_id.clone().unwrap_or_default();
            tracing::error!(%message_id, %error, "message not logged; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryEventLog;

    fn fixture() -> SqsEvent {
        serde_json::from_str(include_str!("../../../events/event-log/sqs-events.json"))
            .expect("fixture parses")
    }

    fn invoke(payload: SqsEvent) -> LambdaEvent<SqsEvent> {
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
        response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect()
    }

    #[tokio::test]
    async fn every_event_in_a_batch_is_recorded() {
        let log = MemoryEventLog::default();
        let response = handle(&log, invoke(fixture())).await.unwrap();
        assert_eq!(failed_ids(&response), vec!["msg-poison".to_owned()]);
        assert_eq!(log.len(), 2);
    }

    #[tokio::test]
    async fn receiving_a_batch_twice_records_each_event_once() {
        let log = MemoryEventLog::default();
        handle(&log, invoke(fixture())).await.unwrap();
        let again = handle(&log, invoke(fixture())).await.unwrap();
        assert_eq!(failed_ids(&again), vec!["msg-poison".to_owned()]);
        assert_eq!(log.len(), 2);
    }

    #[tokio::test]
    async fn a_store_failure_fails_every_message_for_a_retry() {
        let log = MemoryEventLog::default();
        log.set_failing(true);
        let response = handle(&log, invoke(fixture())).await.unwrap();
        assert_eq!(response.batch_item_failures.len(), 3);
        assert!(log.is_empty());
    }
}

//! The shape every event consumer shares: an SQS batch of EventBridge events
//! in, a partial batch response out.
//!
//! Each message is handled on its own; a failed one is reported by id, so
//! SQS delivers only it again and, after the queue's `maxReceiveCount`, moves
//! it to the dead-letter queue. A message that is not a platform event fails
//! the same way and ends in the dead-letter queue for inspection.

use std::future::Future;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

use crate::events::{DecodeError, Event};
use crate::telemetry::xray;
use crate::{AppError, EventEnvelope};

/// Why a message was not handled.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("the message has no body")]
    NoBody,
    #[error("the message is not a platform event: {0}")]
    NotAnEvent(#[source] serde_json::Error),
    /// Not the event this consumer can read: a wrong type or version, a
    /// missing or malformed field. Retrying cannot help; it ends in the
    /// dead-letter queue.
    #[error(transparent)]
    BadEvent(#[from] DecodeError),
    /// A dependency is down or a write failed; a redelivery may succeed.
    #[error(transparent)]
    App(#[from] AppError),
    /// A dependency outside the platform (the card gateway) is unavailable.
    #[error("{0}")]
    Unavailable(String),
}

/// The platform event an SQS message carries (an EventBridge event whose
/// `detail` is the envelope).
pub fn envelope(message: &SqsMessage) -> Result<EventEnvelope, MessageError> {
    let body = message.body.as_deref().ok_or(MessageError::NoBody)?;
    let event: EventBridgeEvent<EventEnvelope> =
        serde_json::from_str(body).map_err(MessageError::NotAnEvent)?;
    Ok(event.detail)
}

/// The typed event an envelope carries (see [`EventEnvelope::decode`]).
pub fn decode<E: Event>(event: &EventEnvelope) -> Result<E, MessageError> {
    Ok(event.decode()?)
}

/// Runs `handle` on every event of the batch concurrently and reports the
/// messages it failed.
pub async fn each_event<F, Fut>(batch: &SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(EventEnvelope) -> Fut,
    Fut: Future<Output = Result<(), MessageError>>,
{
    let outcomes = futures::future::join_all(batch.records.iter().map(|message| {
        let handled = envelope(message).map(|event| {
            // One subsegment per event, annotated with its correlation id.
            let traced = xray::subsegment(event.event_type.as_str(), &event.correlation_id);
            (handle(event), traced)
        });
        async move {
            let (fut, traced) = handled?;
            let outcome = fut.await;
            if let Some(mut traced) = traced {
                traced.outcome(match outcome {
                    Ok(()) => xray::Outcome::Ok,
                    Err(_) => xray::Outcome::Failed,
                });
            }
            outcome
        }
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (message, outcome) in batch.records.iter().zip(outcomes) {
        if let Err(error) = outcome {
            let message_id = message.message_id.clone().unwrap_or_default();
            let receives = message
                .attributes
                .get("ApproximateReceiveCount")
                .cloned()
                .unwrap_or_default();
            tracing::error!(%message_id, %receives, error = %error_chain(&error), "message failed; it will be retried");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorrelationId;

    fn message(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.into());
        m.body = Some(body.into());
        m
    }

    fn bus_event(envelope: &EventEnvelope) -> String {
        serde_json::json!({
            "version": "0", "id": "e-1", "detail-type": envelope.event_type.as_str(),
            "source": "booking-platform.booking", "account": "123456789012",
            "time": "2026-11-21T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": envelope,
        })
        .to_string()
    }

    #[tokio::test]
    async fn only_the_failed_messages_of_a_batch_are_reported() {
        let ok = EventEnvelope::of(
            &crate::events::Ping::Diagnostic { note: "one".into() },
            CorrelationId::generate(),
        )
        .unwrap();
        let bad = EventEnvelope::of(
            &crate::events::Ping::Diagnostic { note: "two".into() },
            CorrelationId::generate(),
        )
        .unwrap();
        let mut batch = SqsEvent::default();
        batch.records = vec![
            message("m-ok", &bus_event(&ok)),
            message("m-bad", &bus_event(&bad)),
            message("m-poison", "not json"),
        ];
        let response = each_event(&batch, |event| async move {
            if event.data["note"] == "two" {
                Err(MessageError::Unavailable("down".into()))
            } else {
                Ok(())
            }
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m-bad", "m-poison"]);
    }
}

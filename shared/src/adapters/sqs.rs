//! Dead-letter queues: what failed, and sending it back.
//!
//! Every consumer's queue has a dead-letter queue that receives a message
//! after `maxReceiveCount` failed deliveries. Admins (`dlq:redrive`) list a
//! dead-letter queue's messages and move them back to the queue they came
//! from, once the cause is fixed; consumers are idempotent, so a message
//! that was in fact handled changes nothing the second time.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde::Deserialize;

use crate::AppError;
pub use crate::ports::{DeadLetter, DeadLetterQueues, MAX_BATCH};

/// A consumer's queue and its dead-letter queue, by URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueuePair {
    pub source: String,
    pub dead_letters: String,
}

/// The dead-letter queues of the platform, by consumer name.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    client: Client,
    queues: BTreeMap<String, QueuePair>,
}

impl DeadLetters {
    /// `queues` is the JSON of `DEAD_LETTER_QUEUES`:
    /// `{"<name>": {"source": "<url>", "dead_letters": "<url>"}, ...}`.
    pub fn new(client: Client, queues: &str) -> Result<Self, serde_json::Error> {
        Ok(Self {
            client,
            queues: serde_json::from_str(queues)?,
        })
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.queues.keys().map(String::as_str)
    }

    fn pair(&self, name: &str) -> Result<&QueuePair, AppError> {
        self.queues.get(name).ok_or_else(|| AppError::NotFound {
            code: "QUEUE_NOT_FOUND",
            what: format!(
                "the queue {name:?} (known: {})",
                self.names().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// How many messages wait in each dead-letter queue (approximate, as
    /// SQS counts).
    pub async fn depths(&self) -> Result<BTreeMap<String, u64>, AppError> {
        let mut out = BTreeMap::new();
        for (name, pair) in &self.queues {
            let attrs = self
                .client
                .get_queue_attributes()
                .queue_url(&pair.dead_letters)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send()
                .await
                .map_err(|e| AppError::internal("reading a queue's depth", e))?;
            let depth = attrs
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            out.insert(name.clone(), depth);
        }
        Ok(out)
    }

    /// Up to `limit` messages of a dead-letter queue, left in place: they
    /// are received (hidden for a moment, so each page brings new ones) and
    /// made visible again at once.
    pub async fn list(&self, name: &str, limit: u32) -> Result<Vec<DeadLetter>, AppError> {
        let pair = self.pair(name)?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut handles = Vec::new();
        while (out.len() as u32) < limit {
            let batch = self.receive(&pair.dead_letters, 30).await?;
            if batch.is_empty() {
                break;
            }
            for message in batch {
                handles.extend(message.receipt_handle().map(str::to_owned));
                let id = message.message_id().unwrap_or_default().to_owned();
                if (out.len() as u32) < limit && seen.insert(id) {
                    out.push(dead_letter(&message));
                }
            }
        }
        for handle in handles {
            self.client
                .change_message_visibility()
                .queue_url(&pair.dead_letters)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(|e| AppError::internal("releasing a dead letter", e))?;
        }
        Ok(out)
    }

    /// Moves up to `limit` messages of a dead-letter queue back to its
    /// source queue: each is sent again, then deleted from the dead-letter
    /// queue (at least once: a crash between the two sends it twice, which
    /// idempotent consumers absorb). Returns how many moved.
    pub async fn redrive(&self, name: &str, limit: u32) -> Result<u32, AppError> {
        let pair = self.pair(name)?;
        let mut moved = 0;
        while moved < limit {
            let batch = self.receive(&pair.dead_letters, 30).await?;
            if batch.is_empty() {
                break;
            }
            for message in batch {
                self.client
                    .send_message()
                    .queue_url(&pair.source)
                    .message_body(message.body().unwrap_or_default())
                    .send()
                    .await
                    .map_err(|e| AppError::internal("sending a message back", e))?;
                if let Some(handle) = message.receipt_handle() {
                    self.client
                        .delete_message()
                        .queue_url(&pair.dead_letters)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .map_err(|e| AppError::internal("deleting a dead letter", e))?;
                }
                moved += 1;
            }
        }
        tracing::info!(queue = name, moved, "dead letters redriven");
        Ok(moved)
    }

    async fn receive(
        &self,
        url: &str,
        visibility: i32,
    ) -> Result<Vec<aws_sdk_sqs::types::Message>, AppError> {
        Ok(self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a dead-letter queue", e))?
            .messages
            .unwrap_or_default())
    }
}

/// An event as an admin may see it: a card token (in `BookingCreated`) is
/// shown as `[redacted]`. A redrive sends the message itself, untouched.
fn redact(mut event: serde_json::Value) -> serde_json::Value {
    if let Some(token) = event.pointer_mut("/data/payment/card_token") {
        *token = serde_json::Value::from("[redacted]");
    }
    event
}

fn dead_letter(message: &aws_sdk_sqs::types::Message) -> DeadLetter {
    let attr =
        |name: MessageSystemAttributeName| message.attributes().and_then(|a| a.get(&name)).cloned();
    let body = message.body().unwrap_or_default();
    let event = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("detail").cloned())
        .filter(|d| d.get("id").is_some() && d.get("type").is_some())
        .map(redact);
    DeadLetter {
        message_id: message.message_id().unwrap_or_default().to_owned(),
        receive_count: attr(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|c| c.parse().ok()),
        sent_at: attr(MessageSystemAttributeName::SentTimestamp),
        body: event.is_none().then(|| body.to_owned()),
        event,
    }
}

impl DeadLetterQueues for DeadLetters {
    async fn depths(&self) -> Result<BTreeMap<String, u64>, AppError> {
        DeadLetters::depths(self).await
    }

    async fn list(&self, name: &str, limit: u32) -> Result<Vec<DeadLetter>, AppError> {
        DeadLetters::list(self, name, limit).await
    }

    async fn redrive(&self, name: &str, limit: u32) -> Result<u32, AppError> {
        DeadLetters::redrive(self, name, limit).await
    }
}

/// The outbox's parking queue (`OUTBOX_PARKING_QUEUE_URL`): events the
/// bus refused for good, each with why, kept for 14 days under an alarm.
#[derive(Debug, Clone)]
pub struct SqsParking {
    client: Client,
    queue_url: String,
}

impl SqsParking {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl crate::ports::Parking for SqsParking {
    async fn park(
        &self,
        event: &crate::ports::OutgoingEvent,
        reason: &str,
    ) -> Result<(), AppError> {
        let body = serde_json::json!({
            "reason": reason,
            "source": event.source,
            "envelope": event.envelope,
        });
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                AppError::internal(
                    "parking an outbox event",
                    aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_shows_its_event_without_the_card_token() {
        let body = serde_json::json!({
            "detail-type": "BookingCreated", "source": "booking-platform.booking",
            "detail": { "id": "e-1", "type": "BookingCreated", "data": {
                "booking_id": "b-1", "payment": { "method": "card", "card_token": "tok_visa" } } }
        });
        let message = aws_sdk_sqs::types::Message::builder()
            .message_id("m-1")
            .body(body.to_string())
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "5")
            .build();
        let letter = dead_letter(&message);
        let event = letter.event.expect("a platform event");
        assert_eq!(event["data"]["payment"]["card_token"], "[redacted]");
        assert_eq!(event["data"]["booking_id"], "b-1");
        assert_eq!(letter.receive_count, Some(5));
        assert!(letter.body.is_none());
    }

    #[test]
    fn a_message_that_is_not_an_event_is_shown_raw() {
        let message = aws_sdk_sqs::types::Message::builder()
            .message_id("m-2")
            .body("not json")
            .build();
        let letter = dead_letter(&message);
        assert!(letter.event.is_none());
        assert_eq!(letter.body.as_deref(), Some("not json"));
    }
}

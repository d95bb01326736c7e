//! SQS event source mappings: long-polling pollers that invoke with a
//! batch, delete what succeeded and leave the partial batch response's
//! failures to become visible again (and reach their dead-letter queue).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use axum::body::Bytes;
use base64::Engine;
use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;

use super::{REGION, failed_ids, stopped};
use crate::model::SqsSource;
use crate::runtime::{FunctionPool, Outcome};

/// Pollers per SQS mapping: a batch stuck in one invocation does not stop
/// the queue.
pub const SQS_POLLERS: usize = 2;

/// How long one receive waits on an empty queue (SQS's most).
const LONG_POLL_SECONDS: i32 = 20;

pub async fn sqs_poller(
    sqs: aws_sdk_sqs::Client,
    pool: Arc<FunctionPool>,
    source: SqsSource,
    queue_url: String,
    shutdown: watch::Receiver<bool>,
) {
    let batch_size = i32::try_from(source.batch_size.clamp(1, 10)).unwrap_or(10);
    let mut failures_in_a_row = 0u32;
    let mut stopping = shutdown.clone();
    while !stopped(&shutdown) {
        // Long polls of 20 s, as Lambda's pollers make: a message sent
        // meanwhile is answered at once, and an idle queue costs one
        // request per 20 s per poller instead of one per second.
        let receive = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(batch_size)
            .wait_time_seconds(LONG_POLL_SECONDS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send();
        let received = tokio::select! {
            received = receive => received,
            _ = stopping.changed() => break,
        };
        let messages = match received {
            Ok(out) => {
                failures_in_a_row = 0;
                out.messages.unwrap_or_default()
            }
            Err(err) => {
                failures_in_a_row += 1;
                if failures_in_a_row == 1 || failures_in_a_row.is_multiple_of(30) {
                    tracing::warn!(target: "esm", "{}: cannot receive from {}: {}", pool.spec.binary, source.queue_arn, aws_sdk_sqs::error::DisplayErrorContext(err));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Json> = messages
            .iter()
            .map(|m| {
                let attributes: Map<String, Json> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect())
                    .unwrap_or_default();
                let message_attributes: Map<String, Json> = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    json!({
                                        "stringValue": v.string_value(),
                                        "binaryValue": v.binary_value().map(|b| base64::engine::general_purpose::STANDARD.encode(b.as_ref())),
                                        "stringListValues": [],
                                        "binaryListValues": [],
                                        "dataType": v.data_type(),
                                    }),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": source.queue_arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        let payload = Bytes::from(json!({ "Records": records }).to_string());
        let ids: HashSet<String> = messages
            .iter()
            .filter_map(|m| m.message_id().map(str::to_owned))
            .collect();
        let failed = match pool.invoke(payload).await {
            Outcome::Success(body) if source.report_batch_item_failures => failed_ids(&body, &ids).unwrap_or_else(|| {
                tracing::warn!(target: "esm", "{}: malformed batch response; the whole batch will be retried", pool.spec.binary);
                ids.clone()
            }),
            Outcome::Success(_) => HashSet::new(),
            // The messages become visible again after their visibility timeout.
            _ => ids.clone(),
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.message_id().is_some_and(|id| !failed.contains(id)))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(m.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect();
        if !failed.is_empty() {
            tracing::info!(target: "esm", "{}: {} of {} messages failed and return to the queue", pool.spec.binary, failed.len(), messages.len());
        }
        if !done.is_empty()
            && let Err(err) = sqs
                .delete_message_batch()
                .queue_url(&queue_url)
                .set_entries(Some(done))
                .send()
                .await
        {
            tracing::warn!(target: "esm", "{}: delete failed (messages will be redelivered): {}", pool.spec.binary, aws_sdk_sqs::error::DisplayErrorContext(err));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_batch_response_names_only_known_messages() {
        let batch: HashSet<String> = ["a".to_owned(), "b".to_owned()].into();
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &batch),
            Some(["b".to_owned()].into())
        );
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[]}"#, &batch),
            Some(HashSet::new())
        );
        assert_eq!(failed_ids(b"null", &batch), Some(HashSet::new()));
        assert_eq!(
            failed_ids(
                br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
                &batch
            ),
            None
        );
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &batch),
            None
        );
    }
}

//! The outbox relay: the table's stream -> EventBridge.
//!
//! Every outbox item inserted by a transaction is published at least once.
//! Failures are reported per record: Lambda resumes the shard from the first
//! failed record, so nothing after an unpublished event is checkpointed past it.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamo::{OutboxItem, entity, keys};
use shared::ports::{EventPublisher, OutgoingEvent};

/// The outbox event a stream record carries, if any.
///
/// Only inserts of `OUTBOX` items count; other entities and TTL removals are
/// not events. An outbox item that cannot be decoded is logged and skipped:
/// retrying can never publish it, and it stays in the table for inspection.
fn outbox_event(record: &EventRecord) -> Option<OutgoingEvent> {
    if record.event_name != "INSERT" {
        return None;
    }
    let image = &record.change.new_image;
    let is_outbox = matches!(
        image.get(keys::ENTITY),
        Some(serde_dynamo::AttributeValue::S(e)) if e == entity::OUTBOX
    );
    if !is_outbox {
        return None;
    }
    let decoded = serde_dynamo::from_item::<_, OutboxItem>(image.clone())
        .map_err(|e| e.to_string())
        .and_then(|item| {
            item.envelope()
                .map(|envelope| OutgoingEvent {
                    source: item.source,
                    envelope,
                })
                .map_err(|e| e.to_string())
        });
    match decoded {
        Ok(event) => Some(event),
        Err(error) => {
            tracing::error!(
                sequence_number = record.change.sequence_number.as_deref().unwrap_or("?"),
                %error,
                "undecodable outbox item skipped"
            );
            None
        }
    }
}

pub async fn handle(
    publisher: &impl EventPublisher,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let records = event.payload.records;
    let mut batch = Vec::new();
    let mut sequence_numbers = Vec::new();
    for record in &records {
        if let Some(outgoing) = outbox_event(record) {
            sequence_numbers.push(record.change.sequence_number.clone());
            batch.push(outgoing);
        }
    }
    for outgoing in &batch {
        tracing::info!(
            event_id = %outgoing.envelope.id,
            event_type = %outgoing.envelope.event_type,
            correlation_id = %outgoing.envelope.correlation_id,
            "relaying outbox event"
        );
    }
    let failures = publisher.publish(&batch).await;
    // Lambda retries from the lowest reported sequence number onward, so the
    // first failure in stream order is the one to report.
    let first_failure = failures.iter().map(|f| f.index).min();
    let mut response = DynamoDbEventResponse::default();
    if let Some(index) = first_failure {
        for failure in &failures {
            tracing::error!(
                event_id = %batch[failure.index].envelope.id,
                reason = %failure.reason,
                "outbox event not published; the shard will retry from it"
            );
        }
        let mut item = DynamoDbBatchItemFailure::default();
        item.item_identifier = sequence_numbers[index].clone();
        response.batch_item_failures.push(item);
    }
    tracing::info!(
        records = records.len(),
        relayed = batch.len() - failures.len(),
        failed = failures.len(),
        "outbox batch done"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryPublisher;

    fn fixture() -> Event {
        serde_json::from_str(include_str!(
            "../../../events/outbox-relay/stream-insert.json"
        ))
        .expect("fixture parses")
    }

    fn invoke(payload: Event) -> LambdaEvent<Event> {
        LambdaEvent::new(payload, lambda_runtime::Context::default())
    }

    #[tokio::test]
    async fn outbox_inserts_are_published_and_other_records_ignored() {
        let publisher = MemoryPublisher::default();
        let response = handle(&publisher, invoke(fixture())).await.unwrap();
        assert!(response.batch_item_failures.is_empty());
        let published = publisher.published();
        assert_eq!(published.len(), 2, "two outbox inserts in the fixture");
        assert_eq!(published[0].source, "booking-platform.platform");
        assert_eq!(published[0].envelope.event_type.as_str(), "Ping");
        assert_eq!(
            published[1].envelope.correlation_id.as_str(),
            "fixture-corr-2"
        );
    }

    #[tokio::test]
    async fn a_failed_publish_reports_the_first_failed_sequence_number() {
        let publisher = MemoryPublisher::default();
        let event = fixture();
        let second: OutboxItem =
            serde_dynamo::from_item(event.records[2].change.new_image.clone()).unwrap();
        publisher.refuse(second.envelope().unwrap().id);
        let response = handle(&publisher, invoke(event)).await.unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, vec![Some("300".to_owned())]);
    }
}

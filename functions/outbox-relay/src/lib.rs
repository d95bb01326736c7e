//! The outbox relay: the table's stream -> EventBridge.
//!
//! Every outbox item inserted by a transaction is published at least once.
//! Failures the bus may get over (throttling, an outage) are reported per
//! record: Lambda resumes the shard from the first failed record, so nothing
//! after an unpublished event is checkpointed past it. An event the bus
//! refuses for good (too large, malformed) cannot hold the shard back: it
//! is parked, with why, in the outbox's parking queue (an alarm watches
//! it) and the shard moves on. Whatever still fails is bounded by the
//! mapping in template.yaml: bisected batches, a finite number of retries,
//! then the batch's place in the stream goes to the same queue.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamo::{OutboxItem, entity, keys};
use shared::ports::{EventPublisher, OutgoingEvent, Parking};
use shared::telemetry::xray;

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
    parking: &impl Parking,
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
    // One subsegment per event relayed, annotated with its correlation id.
    let mut traced: Vec<Option<xray::Traced>> = Vec::with_capacity(batch.len());
    for outgoing in &batch {
        tracing::info!(
            event_id = %outgoing.envelope.id,
            event_type = %outgoing.envelope.event_type,
            correlation_id = %outgoing.envelope.correlation_id,
            "relaying outbox event"
        );
        let name = format!("relay {}", outgoing.envelope.event_type);
        traced.push(xray::subsegment(&name, &outgoing.envelope.correlation_id));
    }
    let mut failures = Vec::new();
    let mut parked = 0;
    for failure in publisher.publish(&batch).await {
        let outgoing = &batch[failure.index];
        // Parked or left for a retry, the event did not reach the bus.
        if let Some(Some(traced)) = traced.get_mut(failure.index) {
            traced.outcome(xray::Outcome::Failed);
        }
        if failure.permanent {
            match parking.park(outgoing, &failure.reason).await {
                Ok(()) => {
                    tracing::error!(
                        event_id = %outgoing.envelope.id,
                        event_type = %outgoing.envelope.event_type,
                        reason = %failure.reason,
                        "outbox event refused by the bus for good; parked"
                    );
                    parked += 1;
                    continue;
                }
                Err(e) => {
                    tracing::error!(event_id = %outgoing.envelope.id, error = %e, "cannot park an outbox event")
                }
            }
        }
        failures.push(failure);
    }
    // Lambda retries from the lowest reported sequence number onward, so the
    // first failure in stream order is the one to report.
    drop(traced);
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
        relayed = batch.len() - failures.len() - parked,
        parked,
        failed = failures.len(),
        "outbox batch done"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryParking, MemoryPublisher};

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
        let response = handle(&publisher, &MemoryParking::default(), invoke(fixture()))
            .await
            .unwrap();
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
        let response = handle(&publisher, &MemoryParking::default(), invoke(event))
            .await
            .unwrap();
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, vec![Some("300".to_owned())]);
    }

    #[tokio::test]
    async fn an_event_the_bus_refuses_for_good_is_parked_and_the_rest_go_on() {
        let publisher = MemoryPublisher::default();
        let parking = MemoryParking::default();
        let event = fixture();
        let first: OutboxItem =
            serde_dynamo::from_item(event.records[0].change.new_image.clone()).unwrap();
        let poison = first.envelope().unwrap().id;
        publisher.reject(poison);
        let response = handle(&publisher, &parking, invoke(event)).await.unwrap();
        assert!(
            response.batch_item_failures.is_empty(),
            "the shard moves on"
        );
        assert_eq!(
            publisher.published().len(),
            1,
            "the event after it is published"
        );
        let parked = parking.parked();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].0.envelope.id, poison);
        assert_eq!(parked[0].1, "rejected by the test");
    }

    #[tokio::test]
    async fn a_refused_event_that_cannot_be_parked_holds_the_shard_for_a_retry() {
        let publisher = MemoryPublisher::default();
        let parking = MemoryParking::default();
        parking.set_failing(true);
        let event = fixture();
        let first: OutboxItem =
            serde_dynamo::from_item(event.records[0].change.new_image.clone()).unwrap();
        publisher.reject(first.envelope().unwrap().id);
        let response = handle(&publisher, &parking, invoke(event)).await.unwrap();
        assert_eq!(response.batch_item_failures.len(), 1, "nothing is lost");
    }
}

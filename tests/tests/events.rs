//! The event path: outbox -> stream -> relay -> bus -> rule -> queue -> event log.

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use serde_json::Value;
use shared::adapters::dynamo::OutboxItem;
use shared::{CorrelationId, EventEnvelope, EventSource};
use system_tests::{Cloud, PATIENCE, bus_event, eventually};

fn envelope(note: &str) -> EventEnvelope {
    EventEnvelope::of(
        &shared::events::Ping::Diagnostic {
            note: note.to_owned(),
        },
        CorrelationId::generate(),
    )
    .unwrap()
}

fn recorded_at(item: &std::collections::HashMap<String, AttributeValue>) -> String {
    item["recorded_at"].as_s().unwrap().clone()
}

#[tokio::test]
async fn an_outbox_event_written_in_a_transaction_is_logged_exactly_once_even_when_delivered_twice()
{
    let cloud = Cloud::connect().await;
    let table = cloud.table();
    let event = envelope("transaction");
    let id = event.id.to_string();

    // Given a state change and its event written in one transaction
    let state = Put::builder()
        .table_name(&table)
        .item("PK", AttributeValue::S(format!("TEST#{id}")))
        .item("SK", AttributeValue::S("STATE".into()))
        .item("entity", AttributeValue::S("TEST".into()))
        .build()
        .unwrap();
    let outbox = OutboxItem::new(EventSource::Platform, &event)
        .unwrap()
        .to_put(&table)
        .unwrap();
    cloud
        .dynamodb
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(state).build())
        .transact_items(TransactWriteItem::builder().put(outbox).build())
        .send()
        .await
        .unwrap();

    // Then the event log records it
    let first = eventually("the event in the event log", PATIENCE, || {
        cloud.logged_event(&id)
    })
    .await;
    assert_eq!(
        first["correlation_id"].as_s().unwrap(),
        event.correlation_id.as_str()
    );
    assert_eq!(first["source"].as_s().unwrap(), "booking-platform.platform");

    // When the consumer receives the same event again
    let queue = cloud.reference("EventLogQueue");
    cloud
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body(bus_event(EventSource::Platform.as_str(), &event))
        .send()
        .await
        .unwrap();
    eventually("the duplicate consumed", PATIENCE, || async {
        (cloud.queue_depth(&queue).await == 0).then_some(())
    })
    .await;

    // Then it is still recorded once, unchanged
    let after = cloud.logged_event(&id).await.unwrap();
    assert_eq!(recorded_at(&after), recorded_at(&first));
    let day = format!("EVENTLOG#{}", event.occurred_at.format("%Y-%m-%d"));
    let same_id = cloud
        .dynamodb
        .query()
        .table_name(&table)
        .index_name("GSI1")
        .key_condition_expression("GSI1PK = :day AND begins_with(GSI1SK, :at)")
        .expression_attribute_values(":day", AttributeValue::S(day))
        .expression_attribute_values(":at", AttributeValue::S(event.occurred_at.to_rfc3339()))
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter(|i| i["event_id"].as_s().is_ok_and(|e| *e == id))
        .count();
    assert_eq!(same_id, 1);
}

#[tokio::test]
async fn the_callers_correlation_id_travels_from_the_request_into_the_event_log() {
    let cloud = Cloud::connect().await;
    let correlation = format!("trace-{}", uuid::Uuid::new_v4());
    let admin = cloud.admin_token().await;
    let res = cloud
        .http
        .post(cloud.url("/diagnostics/ping"))
        .bearer_auth(&admin)
        .header("x-correlation-id", &correlation)
        .json(&serde_json::json!({ "note": "follow me" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.headers()["x-correlation-id"], correlation.as_str());
    let accepted: Value = res.json().await.unwrap();
    let id = accepted["event_id"].as_str().unwrap().to_owned();
    let logged = eventually("the ping in the event log", PATIENCE, || {
        cloud.logged_event(&id)
    })
    .await;
    assert_eq!(logged["correlation_id"].as_s().unwrap(), &correlation);
    let stored: EventEnvelope = serde_json::from_str(logged["envelope"].as_s().unwrap()).unwrap();
    assert_eq!(stored.data["note"], "follow me");
}

#[tokio::test]
async fn a_message_that_keeps_failing_reaches_the_dlq_while_the_rest_of_its_batch_is_logged() {
    let cloud = Cloud::connect().await;
    let queue = cloud.reference("EventLogQueue");
    let dlq = cloud.reference("EventLogDeadLetterQueue");
    let (a, b) = (envelope("batch a"), envelope("batch b"));
    let poison = format!("{{\"poison\": \"{}\"}}", uuid::Uuid::new_v4());
    let entries = [
        bus_event(EventSource::Platform.as_str(), &a),
        poison.clone(),
        bus_event(EventSource::Platform.as_str(), &b),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, body)| {
        SendMessageBatchRequestEntry::builder()
            .id(format!("m{i}"))
            .message_body(body)
            .build()
            .unwrap()
    })
    .collect();
    cloud
        .sqs
        .send_message_batch()
        .queue_url(&queue)
        .set_entries(Some(entries))
        .send()
        .await
        .unwrap();

    for event in [&a, &b] {
        let id = event.id.to_string();
        eventually("the good messages logged", PATIENCE, || {
            cloud.logged_event(&id)
        })
        .await;
    }
    let dead = eventually(
        "the poison message in the DLQ",
        Duration::from_secs(90),
        || async {
            let out = cloud
                .sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .visibility_timeout(0)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            out.messages
                .unwrap_or_default()
                .into_iter()
                .find(|m| m.body() == Some(poison.as_str()))
        },
    )
    .await;
    let receives: u32 = dead
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|c| c.parse().ok())
        .unwrap();
    // maxReceiveCount in template.yaml is 5.
    assert!(receives >= 5, "moved after {receives} receives");
}

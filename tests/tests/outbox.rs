//! The outbox relay cannot be blocked, through the running local cloud: an
//! outbox entry the bus refuses for good (here one over EventBridge's
//! 256 KiB entry limit) is parked with its reason in the outbox's parking
//! queue, and the events written after it are published as usual.

use serde_json::Value;
use shared::adapters::dynamo::OutboxItem;
use shared::events::Ping;
use shared::{CorrelationId, EventEnvelope, EventSource};
use system_tests::{Cloud, PATIENCE, eventually};

/// Writes `envelope` into the outbox as a state change would.
async fn write_outbox(cloud: &Cloud, envelope: &EventEnvelope) {
    let item = OutboxItem::new(EventSource::Platform, envelope).expect("an outbox item");
    cloud
        .dynamodb
        .put_item()
        .table_name(cloud.table())
        .set_item(Some(serde_dynamo::to_item(item).expect("an item")))
        .send()
        .await
        .expect("writing the outbox item");
}

fn ping(note: String) -> EventEnvelope {
    EventEnvelope::of(&Ping::Diagnostic { note }, CorrelationId::generate()).expect("an envelope")
}

/// The parked messages that mention `needle`.
async fn parked_mentioning(cloud: &Cloud, needle: &str) -> Vec<Value> {
    cloud
        .peek(&cloud.reference("OutboxParkingQueue"), needle)
        .await
        .iter()
        .map(|b| serde_json::from_str(b).expect("a parked message is JSON"))
        .collect()
}

#[tokio::test]
async fn an_event_the_bus_refuses_for_good_is_parked_and_the_events_after_it_flow() {
    let cloud = Cloud::connect().await;
    // 300 KB of detail: the table takes it (items hold 400 KB), the bus
    // never will.
    let poison = ping("x".repeat(300 * 1024));
    let after = ping("written after the poison".into());
    write_outbox(&cloud, &poison).await;
    write_outbox(&cloud, &after).await;

    let id = after.id.to_string();
    eventually(
        "the event after the poison in the event log",
        PATIENCE,
        || async { cloud.logged_event(&id).await },
    )
    .await;
    let poison_id = poison.id.to_string();
    let parked = eventually("the poison in the parking queue", PATIENCE, || async {
        let found = parked_mentioning(&cloud, &poison_id).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(parked.len(), 1);
    assert!(
        parked[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("EntryTooLarge"),
        "{}",
        parked[0]["reason"]
    );
    assert_eq!(parked[0]["envelope"]["id"], poison_id.as_str());
    assert!(cloud.logged_event(&poison_id).await.is_none());
}

//! Function processes that die while they hold an invocation.

use std::time::Duration;

use serde_json::Value;
use shared::{CorrelationId, EventEnvelope, EventSource};
use system_tests::{Cloud, bus_event, eventually};

#[tokio::test]
async fn a_killed_http_function_answers_502_and_is_replaced() {
    let cloud = Cloud::connect().await;
    let restarts = cloud.function("health").await["restarts"].as_u64().unwrap();
    cloud.kill_next_invocation("health").await;

    let res = cloud.http.get(cloud.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 502);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].is_string());

    let pool = eventually(
        "a replacement instance",
        Duration::from_secs(30),
        || async {
            let pool = cloud.function("health").await;
            let ready = pool["instances"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["ready_ms"].is_u64())
                .count();
            (pool["restarts"].as_u64().unwrap() > restarts && ready >= 4).then_some(pool)
        },
    )
    .await;
    assert!(pool["restarts"].as_u64().unwrap() > restarts);
    let res = cloud.http.get(cloud.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_message_whose_consumer_was_killed_is_redelivered_and_logged() {
    let cloud = Cloud::connect().await;
    let queue = cloud.reference("EventLogQueue");
    let restarts = cloud.function("event-log").await["restarts"]
        .as_u64()
        .unwrap();
    let event = EventEnvelope::of(
        &shared::events::Ping::Diagnostic {
            note: "killed".into(),
        },
        CorrelationId::generate(),
    )
    .unwrap();

    cloud.kill_next_invocation("event-log").await;
    cloud
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body(bus_event(EventSource::Platform.as_str(), &event))
        .send()
        .await
        .unwrap();

    let id = event.id.to_string();
    eventually(
        "the event logged after redelivery",
        Duration::from_secs(60),
        || cloud.logged_event(&id),
    )
    .await;
    let pool = cloud.function("event-log").await;
    assert!(
        pool["restarts"].as_u64().unwrap() > restarts,
        "the consumer was killed: {pool}"
    );
}

//! The heartbeat: on a schedule, one transaction updates the platform's
//! heartbeat item and writes a `Ping` outbox event, so the event log shows
//! that the outbox, the stream, the relay, the bus and the queues all work.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use shared::events::Ping;
use shared::ports::HeartbeatStore;
use shared::{CorrelationId, EventEnvelope, EventSource};

pub async fn handle(
    store: &impl HeartbeatStore,
    event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<EventEnvelope, Error> {
    let correlation_id = CorrelationId::from_header_or_generate(event.payload.id.as_deref());
    let beat = Ping::Heartbeat {
        schedule: event.payload.resources.and_then(|r| r.into_iter().next()),
        scheduled_at: event.payload.time,
    };
    let envelope = EventEnvelope::of(&beat, correlation_id)?;
    store.beat(EventSource::Platform, &envelope).await?;
    tracing::info!(event_id = %envelope.id, correlation_id = %envelope.correlation_id, "heartbeat sent");
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::EventType;
    use shared::adapters::memory::MemoryHeartbeats;

    fn fixture() -> EventBridgeEvent<serde_json::Value> {
        serde_json::from_str(include_str!(
            "../../../events/heartbeat/scheduled-event.json"
        ))
        .expect("fixture parses")
    }

    #[tokio::test]
    async fn a_scheduled_event_writes_one_ping_to_the_outbox() {
        let store = MemoryHeartbeats::default();
        let invocation = LambdaEvent::new(fixture(), lambda_runtime::Context::default());
        let sent = handle(&store, invocation).await.unwrap();
        let written = store.written();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].envelope, sent);
        assert_eq!(sent.event_type, EventType::Ping);
        assert_eq!(
            sent.correlation_id.as_str(),
            "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
        );
        let Ping::Heartbeat { schedule, .. } = sent.decode::<Ping>().unwrap() else {
            panic!("a heartbeat's ping");
        };
        assert_eq!(
            schedule.as_deref(),
            Some("arn:aws:events:eu-west-1:123456789012:rule/booking-platform-HeartbeatRule")
        );
    }

    #[tokio::test]
    async fn a_failed_write_fails_the_invocation() {
        let store = MemoryHeartbeats::default();
        store.set_failing(true);
        let invocation = LambdaEvent::new(fixture(), lambda_runtime::Context::default());
        assert!(handle(&store, invocation).await.is_err());
    }
}

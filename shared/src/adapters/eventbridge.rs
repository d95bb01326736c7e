//! Publishing to the EventBridge bus, and the bus probe.

use std::time::Duration;

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::ports::{EventPublisher, OutgoingEvent, Probe, PublishFailure};
use crate::retry::backoff_with_jitter;

/// PutEvents takes at most this many entries per call.
pub const MAX_ENTRIES_PER_CALL: usize = 10;

/// The largest entry PutEvents accepts, in bytes, counted as AWS counts it
/// (time, source, detail type and detail).
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// Per-entry error codes that may pass on a later attempt; any other code
/// is the bus refusing the entry itself.
const TRANSIENT_CODES: [&str; 4] = [
    "ThrottlingException",
    "InternalFailure",
    "InternalException",
    "ServiceUnavailable",
];

/// Why an entry was not accepted, and whether trying again can help.
#[derive(Debug, Clone)]
struct Refusal {
    reason: String,
    permanent: bool,
}

/// Publishes events to one bus, retrying throttles and failed entries.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: Client,
    bus: String,
    attempts: u32,
    base_delay: Duration,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
            attempts: 4,
            base_delay: Duration::from_millis(50),
        }
    }

    /// How many calls each event gets before it is reported failed.
    pub fn with_attempts(mut self, attempts: u32, base_delay: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.base_delay = base_delay;
        self
    }

    fn entry(&self, event: &OutgoingEvent) -> Result<PutEventsRequestEntry, Refusal> {
        let refuse = |reason: String| Refusal {
            reason,
            permanent: true,
        };
        let detail = serde_json::to_string(&event.envelope).map_err(|e| refuse(e.to_string()))?;
        // The timestamp counts 14 bytes.
        let size =
            14 + event.source.len() + event.envelope.event_type.as_str().len() + detail.len();
        if size > MAX_ENTRY_BYTES {
            return Err(refuse(format!(
                "EntryTooLarge: {size} bytes, over the bus's {MAX_ENTRY_BYTES}"
            )));
        }
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(&event.source)
            .detail_type(event.envelope.event_type.as_str())
            .detail(detail)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(
                event.envelope.occurred_at.timestamp_millis(),
            ))
            .build())
    }

    /// One PutEvents call for up to ten events. Returns, for each event, the
    /// refusal if it was not accepted.
    async fn put_chunk(&self, events: &[(usize, &OutgoingEvent)]) -> Vec<Option<Refusal>> {
        let mut reasons = vec![None; events.len()];
        let mut entries = Vec::with_capacity(events.len());
        let mut positions = Vec::with_capacity(events.len());
        for (pos, (_, event)) in events.iter().enumerate() {
            match self.entry(event) {
                Ok(entry) => {
                    entries.push(entry);
                    positions.push(pos);
                }
                Err(reason) => reasons[pos] = Some(reason),
            }
        }
        if entries.is_empty() {
            return reasons;
        }
        match self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => {
                for (result, &pos) in out.entries().iter().zip(&positions) {
                    if let Some(code) = result.error_code() {
                        reasons[pos] = Some(Refusal {
                            reason: format!(
                                "{code}: {}",
                                result.error_message().unwrap_or("no message")
                            ),
                            permanent: !TRANSIENT_CODES.contains(&code),
                        });
                    }
                }
                // A response shorter than the request leaves the rest unconfirmed.
                for &pos in positions.iter().skip(out.entries().len()) {
                    reasons[pos] = Some(Refusal {
                        reason: "no result entry returned".to_owned(),
                        permanent: false,
                    });
                }
            }
            Err(err) => {
                let reason = format!(
                    "PutEvents failed: {}",
                    aws_sdk_eventbridge::error::DisplayErrorContext(&err)
                );
                for &pos in &positions {
                    reasons[pos] = Some(Refusal {
                        reason: reason.clone(),
                        permanent: false,
                    });
                }
            }
        }
        reasons
    }
}

impl EventPublisher for EventBridgePublisher {
    #[tracing::instrument(skip_all, fields(bus = %self.bus, count = events.len()))]
    async fn publish(&self, events: &[OutgoingEvent]) -> Vec<PublishFailure> {
        let mut pending: Vec<(usize, &OutgoingEvent)> = events.iter().enumerate().collect();
        let mut last_reason: Vec<Option<Refusal>> = vec![None; events.len()];
        let mut refused_for_good = Vec::new();
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(backoff_with_jitter(
                    attempt - 1,
                    self.base_delay,
                    Duration::from_secs(2),
                ))
                .await;
            }
            let mut still_failing = Vec::new();
            // The calls of one batch go out together: the bus gives no order
            // between events anyway, and a batch of 100 waits for one round
            // trip instead of ten.
            let chunks: Vec<_> = pending.chunks(MAX_ENTRIES_PER_CALL).collect();
            let answers =
                futures::future::join_all(chunks.iter().map(|chunk| self.put_chunk(chunk))).await;
            for (chunk, reasons) in chunks.into_iter().zip(answers) {
                for (&(index, event), refusal) in chunk.iter().zip(reasons) {
                    if let Some(refusal) = refusal {
                        tracing::warn!(attempt, event_id = %event.envelope.id, reason = %refusal.reason, permanent = refusal.permanent, "event not accepted by the bus");
                        if refusal.permanent {
                            refused_for_good.push(index);
                        } else {
                            still_failing.push((index, event));
                        }
                        last_reason[index] = Some(refusal);
                    }
                }
            }
            pending = still_failing;
            if pending.is_empty() {
                break;
            }
        }
        let mut failures: Vec<PublishFailure> = pending
            .into_iter()
            .map(|(index, _)| index)
            .chain(refused_for_good)
            .map(|index| {
                let refusal = last_reason[index].take();
                PublishFailure {
                    index,
                    permanent: refusal.as_ref().is_some_and(|r| r.permanent),
                    reason: refusal.map(|r| r.reason).unwrap_or_default(),
                }
            })
            .collect();
        failures.sort_by_key(|f| f.index);
        failures
    }
}

/// Whether the event bus answers.
#[derive(Debug, Clone)]
pub struct BusProbe {
    client: Client,
    bus: String,
}

impl BusProbe {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

impl Probe for BusProbe {
    fn name(&self) -> &'static str {
        "bus"
    }

    async fn check(&self) -> Result<(), String> {
        use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
        match self
            .client
            .describe_event_bus()
            .name(&self.bus)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => {
                Err(e.err().code().unwrap_or("service error").to_owned())
            }
            Err(SdkError::TimeoutError(_)) => Err("timeout".to_owned()),
            Err(SdkError::DispatchFailure(_)) => Err("unreachable".to_owned()),
            Err(_) => Err("request failed".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CorrelationId, EventEnvelope};
    use aws_sdk_eventbridge::operation::put_events::{PutEventsError, PutEventsOutput};
    use aws_sdk_eventbridge::types::PutEventsResultEntry;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn events(n: usize) -> Vec<OutgoingEvent> {
        (0..n)
            .map(|i| OutgoingEvent {
                source: "booking-platform.platform".into(),
                envelope: EventEnvelope::of(
                    &crate::events::Ping::Diagnostic {
                        note: format!("ping {i}"),
                    },
                    CorrelationId::generate(),
                )
                .unwrap(),
            })
            .collect()
    }

    fn ok_entries(n: usize) -> PutEventsOutput {
        PutEventsOutput::builder()
            .set_entries(Some(
                (0..n)
                    .map(|i| {
                        PutEventsResultEntry::builder()
                            .event_id(format!("e{i}"))
                            .build()
                    })
                    .collect(),
            ))
            .failed_entry_count(0)
            .build()
    }

    #[tokio::test]
    async fn events_are_sent_in_calls_of_at_most_ten() {
        let first = mock!(Client::put_events)
            .match_requests(|r| r.entries().len() == 10)
            .then_output(|| ok_entries(10));
        let second = mock!(Client::put_events)
            .match_requests(|r| r.entries().len() == 3)
            .then_output(|| ok_entries(3));
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&first, &second]);
        let failures = EventBridgePublisher::new(client, "bus")
            .publish(&events(13))
            .await;
        assert!(failures.is_empty());
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn an_entry_the_bus_refuses_for_good_is_reported_permanent_and_not_retried() {
        let refused = mock!(Client::put_events).then_output(|| {
            PutEventsOutput::builder()
                .entries(PutEventsResultEntry::builder().event_id("a").build())
                .entries(
                    PutEventsResultEntry::builder()
                        .error_code("MalformedDetail")
                        .error_message("detail is not valid JSON")
                        .build(),
                )
                .failed_entry_count(1)
                .build()
        });
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&refused]);
        let publisher =
            EventBridgePublisher::new(client, "bus").with_attempts(3, Duration::from_millis(1));
        let failures = publisher.publish(&events(2)).await;
        assert_eq!(refused.num_calls(), 1, "no retry can help");
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].permanent && failures[0].index == 1,
            "{failures:?}"
        );
    }

    #[tokio::test]
    async fn an_event_over_the_entry_limit_is_refused_before_any_call() {
        let never = mock!(Client::put_events).then_output(|| ok_entries(1));
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::Sequential, [&never]);
        let mut big = events(1);
        big[0].envelope.data = serde_json::json!({ "note": "x".repeat(MAX_ENTRY_BYTES) });
        let failures = EventBridgePublisher::new(client, "bus").publish(&big).await;
        assert_eq!(never.num_calls(), 0);
        assert_eq!(failures.len(), 1);
        assert!(failures[0].permanent, "{failures:?}");
        assert!(failures[0].reason.starts_with("EntryTooLarge"));
    }

    #[tokio::test]
    async fn a_failed_entry_is_retried_alone_until_accepted() {
        let partial = mock!(Client::put_events).then_output(|| {
            PutEventsOutput::builder()
                .entries(PutEventsResultEntry::builder().event_id("a").build())
                .entries(
                    PutEventsResultEntry::builder()
                        .error_code("ThrottlingException")
                        .error_message("slow down")
                        .build(),
                )
                .failed_entry_count(1)
                .build()
        });
        let retry = mock!(Client::put_events)
            .match_requests(|r| r.entries().len() == 1)
            .then_output(|| ok_entries(1));
        let client = mock_client!(
            aws_sdk_eventbridge,
            RuleMode::Sequential,
            [&partial, &retry]
        );
        let publisher =
            EventBridgePublisher::new(client, "bus").with_attempts(3, Duration::from_millis(1));
        assert!(publisher.publish(&events(2)).await.is_empty());
        assert_eq!(retry.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_bus_reports_every_event_failed_after_its_attempts() {
        let down =
            mock!(Client::put_events).then_error(|| PutEventsError::unhandled("bus unavailable"));
        let client = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, [&down]);
        let publisher =
            EventBridgePublisher::new(client, "bus").with_attempts(3, Duration::from_millis(1));
        let failures = publisher.publish(&events(2)).await;
        assert_eq!(
            failures.iter().map(|f| f.index).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(down.num_calls(), 3);
    }
}

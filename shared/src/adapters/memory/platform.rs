//! Twins of the platform adapters: the event bus, the event log, probes, heartbeats.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::events::{EventEnvelope, EventId};
use crate::ports::{
    EventLog, EventPublisher, HeartbeatStore, OutgoingEvent, Probe, PublishFailure, Recorded,
};
use crate::{AppError, EventSource};

/// Records published events; can be told to refuse some event ids.
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    published: Mutex<Vec<OutgoingEvent>>,
    refuse: Mutex<HashSet<EventId>>,
    reject: Mutex<HashSet<EventId>>,
}

impl MemoryPublisher {
    /// Makes every later publish of `id` fail, as an outage would.
    pub fn refuse(&self, id: EventId) {
        self.refuse.lock().expect("lock").insert(id);
    }

    /// Makes the bus refuse `id` for good, as it does a malformed event.
    pub fn reject(&self, id: EventId) {
        self.reject.lock().expect("lock").insert(id);
    }

    pub fn published(&self) -> Vec<OutgoingEvent> {
        self.published.lock().expect("lock").clone()
    }
}

impl EventPublisher for MemoryPublisher {
    async fn publish(&self, events: &[OutgoingEvent]) -> Vec<PublishFailure> {
        let refuse = self.refuse.lock().expect("lock").clone();
        let reject = self.reject.lock().expect("lock").clone();
        let mut published = self.published.lock().expect("lock");
        let mut failures = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if refuse.contains(&event.envelope.id) {
                failures.push(PublishFailure {
                    index,
                    reason: "refused by the test".into(),
                    permanent: false,
                });
            } else if reject.contains(&event.envelope.id) {
                failures.push(PublishFailure {
                    index,
                    reason: "rejected by the test".into(),
                    permanent: true,
                });
            } else {
                published.push(event.clone());
            }
        }
        failures
    }
}

/// A parking queue in a list; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryParking {
    parked: Mutex<Vec<(OutgoingEvent, String)>>,
    failing: Mutex<bool>,
}

impl MemoryParking {
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("lock") = failing;
    }

    /// Every parked event with its reason, oldest first.
    pub fn parked(&self) -> Vec<(OutgoingEvent, String)> {
        self.parked.lock().expect("lock").clone()
    }
}

impl crate::ports::Parking for MemoryParking {
    async fn park(&self, event: &OutgoingEvent, reason: &str) -> Result<(), crate::AppError> {
        if *self.failing.lock().expect("lock") {
            return Err(crate::AppError::internal("parking", "the queue is down"));
        }
        self.parked
            .lock()
            .expect("lock")
            .push((event.clone(), reason.to_owned()));
        Ok(())
    }
}

/// An event log in a map; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryEventLog {
    events: Mutex<HashMap<EventId, (String, EventEnvelope)>>,
    failing: Mutex<bool>,
}

impl MemoryEventLog {
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("lock") = failing;
    }

    pub fn len(&self) -> usize {
        self.events.lock().expect("lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: &EventId) -> Option<(String, EventEnvelope)> {
        self.events.lock().expect("lock").get(id).cloned()
    }
}

impl EventLog for MemoryEventLog {
    async fn record(&self, source: &str, envelope: &EventEnvelope) -> Result<Recorded, AppError> {
        if *self.failing.lock().expect("lock") {
            return Err(AppError::internal(
                "recording the event",
                "store unavailable",
            ));
        }
        let mut events = self.events.lock().expect("lock");
        if events.contains_key(&envelope.id) {
            return Ok(Recorded::Duplicate);
        }
        events.insert(envelope.id, (source.to_owned(), envelope.clone()));
        Ok(Recorded::New)
    }
}

/// A probe whose answer the test chooses.
#[derive(Debug)]
pub struct StaticProbe {
    pub name: &'static str,
    pub result: Result<(), String>,
}

impl Probe for StaticProbe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn check(&self) -> Result<(), String> {
        self.result.clone()
    }
}

/// Heartbeats kept in a vector; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryHeartbeats {
    written: Mutex<Vec<OutgoingEvent>>,
    failing: Mutex<bool>,
}

impl MemoryHeartbeats {
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("lock") = failing;
    }

    pub fn written(&self) -> Vec<OutgoingEvent> {
        self.written.lock().expect("lock").clone()
    }
}

impl HeartbeatStore for MemoryHeartbeats {
    async fn beat(&self, source: EventSource, envelope: &EventEnvelope) -> Result<(), AppError> {
        if *self.failing.lock().expect("lock") {
            return Err(AppError::internal(
                "writing the heartbeat",
                "store unavailable",
            ));
        }
        self.written.lock().expect("lock").push(OutgoingEvent {
            source: source.as_str().to_owned(),
            envelope: envelope.clone(),
        });
        Ok(())
    }
}

impl crate::reporting::activity::ActivityLog for MemoryEventLog {
    /// Newest first by `(occurred_at, id)`; the cursor is the last entry's
    /// position.
    async fn activity(
        &self,
        filter: &crate::reporting::activity::ActivityFilter,
        page: crate::kernel::PageRequest<'_>,
    ) -> Result<crate::kernel::Page<crate::reporting::activity::ActivityEntry>, AppError> {
        use crate::identity::events::AdminActivity;
        use crate::reporting::activity::{ActivityEntry, actor_of};
        let events = self.events.lock().expect("lock");
        let mut entries: Vec<ActivityEntry> = events
            .values()
            .filter_map(|(_, e)| {
                let activity: AdminActivity = e.decode().ok()?;
                Some(ActivityEntry {
                    event_id: e.id,
                    occurred_at: e.occurred_at,
                    correlation_id: e.correlation_id.to_string(),
                    actor: actor_of(&activity),
                    activity,
                })
            })
            .filter(|entry| filter.admits(entry))
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse((e.occurred_at, e.event_id)));
        let skip = match page.cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| {
                AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
            })?,
        };
        let items: Vec<ActivityEntry> = entries
            .iter()
            .skip(skip)
            .take(page.limit as usize)
            .cloned()
            .collect();
        let next = skip + items.len();
        Ok(crate::kernel::Page {
            next_cursor: (next < entries.len()).then(|| next.to_string()),
            items,
        })
    }
}

/// The outbox in memory, for activities recorded alone.
#[derive(Debug, Default)]
pub struct MemoryOutbox {
    pub written: Mutex<Vec<EventEnvelope>>,
}

impl crate::ports::ActivityRecorder for MemoryOutbox {
    async fn record(&self, activity: &EventEnvelope) -> Result<(), AppError> {
        self.written.lock().expect("lock").push(activity.clone());
        Ok(())
    }
}

//! The small traits functions depend on. Handlers are generic over them, so
//! tests run against the in-memory twins in [`crate::adapters::memory`].

use std::future::Future;

use crate::{AppError, EventEnvelope};

/// An event ready to leave the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEvent {
    /// The EventBridge `source` (see [`crate::EventSource`]).
    pub source: String,
    pub envelope: EventEnvelope,
}

/// Why one event could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFailure {
    /// Index of the event in the slice given to [`EventPublisher::publish`].
    pub index: usize,
    pub reason: String,
}

/// Puts events on the event bus.
pub trait EventPublisher: Send + Sync {
    /// Publishes every event, retrying transient failures. Returns the events
    /// that still failed; an empty vector means all were accepted.
    fn publish(&self, events: &[OutgoingEvent])
    -> impl Future<Output = Vec<PublishFailure>> + Send;
}

/// Whether recording an event changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// The event id was recorded before; nothing was written.
    Duplicate,
}

/// The platform's append-only log of every event, idempotent on the event id.
pub trait EventLog: Send + Sync {
    fn record(
        &self,
        source: &str,
        envelope: &EventEnvelope,
    ) -> impl Future<Output = Result<Recorded, AppError>> + Send;
}

/// A reachability check of one dependency, for the health endpoint.
pub trait Probe: Send + Sync {
    fn name(&self) -> &'static str;
    /// `Ok` when the dependency answered; `Err` names the failure briefly.
    fn check(&self) -> impl Future<Output = Result<(), String>> + Send;
}

/// Records the platform's heartbeat and its `Ping` event in one transaction.
pub trait HeartbeatStore: Send + Sync {
    fn beat(
        &self,
        source: crate::EventSource,
        envelope: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

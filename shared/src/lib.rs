//! The booking platform's domain crate.
//!
//! Every Lambda function links this crate. It holds the value types and rules
//! (`domain`-style modules), the small traits the functions depend on
//! ([`ports`]), and their implementations ([`adapters`]): DynamoDB,
//! EventBridge and in-memory twins for handler tests.

pub mod account;
pub mod adapters;
pub mod booking;
pub mod catalog;
pub mod clock;
pub mod company;
pub mod config;
pub mod consumer;
pub mod correlation;
pub mod error;
pub mod events;
pub mod http;
pub mod identity;
pub mod kernel;
pub mod notification;
pub mod payment;
pub mod ports;
pub mod reporting;
pub mod resilience;
pub mod retry;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
pub mod waiting_room;

pub use correlation::CorrelationId;
pub use error::AppError;
pub use events::{EventEnvelope, EventId, EventSource, EventType};

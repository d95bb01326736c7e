//! Domain events and their envelope.
//!
//! Every event travels in the same envelope, from the outbox item through
//! EventBridge (as the `detail`) to each consumer's queue. Consumers are
//! idempotent on [`EventEnvelope::id`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CorrelationId;

/// The current envelope version. Bumped only for breaking changes.
pub const ENVELOPE_VERSION: u32 = 1;

/// A globally unique, time-ordered event id (UUID v7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(uuid::Uuid);

impl EventId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7())
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The bounded context that emits an event; it becomes the EventBridge `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSource {
    Identity,
    Catalog,
    Booking,
    Payment,
    WaitingRoom,
    Notification,
    Reporting,
    /// The platform itself (diagnostics, end-to-end probes).
    Platform,
}

impl EventSource {
    /// Every source starts with this prefix, so one rule can match them all.
    pub const PREFIX: &'static str = "booking-platform.";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "booking-platform.identity",
            Self::Catalog => "booking-platform.catalog",
            Self::Booking => "booking-platform.booking",
            Self::Payment => "booking-platform.payment",
            Self::WaitingRoom => "booking-platform.waiting-room",
            Self::Notification => "booking-platform.notification",
            Self::Reporting => "booking-platform.reporting",
            Self::Platform => "booking-platform.platform",
        }
    }
}

/// What happened. Serialized as its name, e.g. `"BookingCreated"`.
///
/// Unknown names survive a round trip as [`EventType::Other`], so a consumer
/// built before a new event type still records it instead of refusing it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventType {
    BookingCreated,
    BookingConfirmed,
    BookingCancelled,
    BookingExpired,
    BookingModified,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefunded,
    WalletCharged,
    UserRegistered,
    SlotsGenerated,
    AdminActivity,
    /// A probe sent through the whole event path by diagnostics and tests.
    Ping,
    Other(String),
}

impl EventType {
    pub fn as_str(&self) -> &str {
        match self {
            Self::BookingCreated => "BookingCreated",
            Self::BookingConfirmed => "BookingConfirmed",
            Self::BookingCancelled => "BookingCancelled",
            Self::BookingExpired => "BookingExpired",
            Self::BookingModified => "BookingModified",
            Self::PaymentCompleted => "PaymentCompleted",
            Self::PaymentFailed => "PaymentFailed",
            Self::PaymentRefunded => "PaymentRefunded",
            Self::WalletCharged => "WalletCharged",
            Self::UserRegistered => "UserRegistered",
            Self::SlotsGenerated => "SlotsGenerated",
            Self::AdminActivity => "AdminActivity",
            Self::Ping => "Ping",
            Self::Other(name) => name,
        }
    }
}

impl From<&str> for EventType {
    fn from(name: &str) -> Self {
        const KNOWN: [EventType; 13] = [
            EventType::BookingCreated,
            EventType::BookingConfirmed,
            EventType::BookingCancelled,
            EventType::BookingExpired,
            EventType::BookingModified,
            EventType::PaymentCompleted,
            EventType::PaymentFailed,
            EventType::PaymentRefunded,
            EventType::WalletCharged,
            EventType::UserRegistered,
            EventType::SlotsGenerated,
            EventType::AdminActivity,
            EventType::Ping,
        ];
        KNOWN
            .into_iter()
            .find(|known| known.as_str() == name)
            .unwrap_or_else(|| EventType::Other(name.to_owned()))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        if name.is_empty() || name.len() > 64 || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(serde::de::Error::custom(
                "an event type is 1 to 64 ASCII letters or digits",
            ));
        }
        Ok(EventType::from(name.as_str()))
    }
}

/// The envelope every event travels in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub correlation_id: CorrelationId,
    pub data: serde_json::Value,
}

impl EventEnvelope {
    /// A new event of `event_type` about `data`, happening now.
    pub fn new(
        event_type: EventType,
        correlation_id: CorrelationId,
        data: impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: EventId::generate(),
            event_type,
            version: ENVELOPE_VERSION,
            // Millisecond precision: what EventBridge and DynamoDB keep anyway.
            occurred_at: Utc::now().trunc_subsecs(3),
            correlation_id,
            data: serde_json::to_value(data)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_through_json() {
        let envelope = EventEnvelope::new(
            EventType::BookingCreated,
            CorrelationId::generate(),
            serde_json::json!({"booking_id": "b-1"}),
        )
        .unwrap();
        let json = serde_json::to_string(&envelope).unwrap();
        assert!(json.contains(r#""type":"BookingCreated""#));
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn an_unknown_event_type_is_kept_by_name() {
        let t: EventType = serde_json::from_str(r#""SeatMapPublished""#).unwrap();
        assert_eq!(t, EventType::Other("SeatMapPublished".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), r#""SeatMapPublished""#);
    }

    #[test]
    fn a_malformed_event_type_is_refused() {
        for bad in [r#""""#, r#""Booking Created""#, r#"42"#] {
            assert!(serde_json::from_str::<EventType>(bad).is_err(), "{bad}");
        }
    }
}

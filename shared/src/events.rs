//! Domain events and their envelope.
//!
//! Every event travels in the same envelope, from the outbox item through
//! EventBridge (as the `detail`) to each consumer's queue. Consumers are
//! idempotent on [`EventEnvelope::id`].

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::CorrelationId;

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
    UserUpdated,
    UserDeleted,
    SlotsGenerated,
    AdminActivity,
    UserAdmitted,
    WaitingRoomFigures,
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
            Self::UserUpdated => "UserUpdated",
            Self::UserDeleted => "UserDeleted",
            Self::SlotsGenerated => "SlotsGenerated",
            Self::AdminActivity => "AdminActivity",
            Self::UserAdmitted => "UserAdmitted",
            Self::WaitingRoomFigures => "WaitingRoomFigures",
            Self::Ping => "Ping",
            Self::Other(name) => name,
        }
    }
}

impl EventType {
    /// Every event type the platform emits.
    pub const KNOWN: [EventType; 17] = [
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
        EventType::UserUpdated,
        EventType::UserDeleted,
        EventType::SlotsGenerated,
        EventType::AdminActivity,
        EventType::UserAdmitted,
        EventType::WaitingRoomFigures,
        EventType::Ping,
    ];
}

impl From<&str> for EventType {
    fn from(name: &str) -> Self {
        Self::KNOWN
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
    /// The envelope of `event`, happening now, with the event's own type and
    /// version.
    pub fn of<E: Event>(
        event: &E,
        correlation_id: CorrelationId,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: EventId::generate(),
            event_type: E::TYPE,
            version: E::VERSION,
            // Millisecond precision: what EventBridge and DynamoDB keep anyway.
            occurred_at: Utc::now().trunc_subsecs(3),
            correlation_id,
            data: serde_json::to_value(event)?,
        })
    }

    /// The typed event this envelope carries. A different type, an unknown
    /// version, a missing field or a malformed one is an error; fields the
    /// type does not know are ignored, so a producer may add one first.
    pub fn decode<E: Event>(&self) -> Result<E, DecodeError> {
        if self.event_type != E::TYPE {
            return Err(DecodeError::WrongType {
                expected: E::TYPE,
                found: self.event_type.clone(),
            });
        }
        if self.version != E::VERSION {
            return Err(DecodeError::UnsupportedVersion {
                event_type: E::TYPE,
                version: self.version,
                supported: E::VERSION,
            });
        }
        serde_json::from_value(self.data.clone()).map_err(|source| DecodeError::Malformed {
            event_type: E::TYPE,
            source,
        })
    }
}

/// One event type's payload: a Rust type shared by its producer and every
/// consumer, so both sides agree on every field at compile time.
///
/// The rules every payload follows: no `#[serde(default)]` (a missing field
/// is an error, never a value that could move money); a field that may be
/// empty is an `Option` that must still be present as `null`
/// ([`required_nullable`]); unknown fields are tolerated.
pub trait Event: Serialize + DeserializeOwned {
    const TYPE: EventType;
    /// The payload's version, carried in the envelope's `version`; bumped
    /// on a change a consumer of the previous version could misread.
    const VERSION: u32;
}

/// Why an envelope did not decode to the type a consumer asked for.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("expected a {expected} event, got {found}")]
    WrongType {
        expected: EventType,
        found: EventType,
    },
    #[error("{event_type} version {version} is not the supported version {supported}")]
    UnsupportedVersion {
        event_type: EventType,
        version: u32,
        supported: u32,
    },
    #[error("the {event_type} event's data is malformed: {source}")]
    Malformed {
        event_type: EventType,
        #[source]
        source: serde_json::Error,
    },
}

/// Deserializes an `Option` that must be present, as a value or `null`:
/// serde would otherwise read a missing `Option` field as `None`.
pub fn required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// Deserializes a share in percent: a whole number from 0 to 100, never
/// more (a refund of more than was paid would be money from nowhere).
pub fn percent<'de, D>(deserializer: D) -> Result<u32, D::Error>
where
    D: Deserializer<'de>,
{
    let value = u32::deserialize(deserializer)?;
    if value > 100 {
        return Err(serde::de::Error::custom(format!(
            "a share is 0 to 100 percent, not {value}"
        )));
    }
    Ok(value)
}

/// A probe sent through the whole event path: by an admin's
/// `POST /diagnostics/ping`, or by the heartbeat's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ping {
    Diagnostic {
        note: String,
    },
    Heartbeat {
        /// The schedule's ARN, as the scheduler named it.
        #[serde(deserialize_with = "required_nullable")]
        schedule: Option<String>,
        /// When the scheduler fired, as it said.
        #[serde(deserialize_with = "required_nullable")]
        scheduled_at: Option<DateTime<Utc>>,
    },
}

impl Event for Ping {
    const TYPE: EventType = EventType::Ping;
    const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_round_trips_through_json() {
        let ping = Ping::Diagnostic { note: "hi".into() };
        let envelope = EventEnvelope::of(&ping, CorrelationId::generate()).unwrap();
        let json = serde_json::to_string(&envelope).unwrap();
        assert!(json.contains(r#""type":"Ping""#));
        let back: EventEnvelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn an_envelope_decodes_to_its_own_type_and_version_only() {
        let ping = Ping::Diagnostic { note: "hi".into() };
        let mut envelope = EventEnvelope::of(&ping, CorrelationId::generate()).unwrap();
        assert_eq!(envelope.decode::<Ping>().unwrap(), ping);
        envelope.version = 2;
        assert!(matches!(
            envelope.decode::<Ping>(),
            Err(DecodeError::UnsupportedVersion { version: 2, .. })
        ));
        envelope.version = 1;
        envelope.event_type = EventType::WalletCharged;
        assert!(matches!(
            envelope.decode::<Ping>(),
            Err(DecodeError::WrongType { .. })
        ));
    }

    #[test]
    fn a_nullable_field_must_still_be_present() {
        let heartbeat = r#"{"schedule":null,"scheduled_at":"2027-01-15T10:00:00Z"}"#;
        assert!(matches!(
            serde_json::from_str::<Ping>(heartbeat).unwrap(),
            Ping::Heartbeat { schedule: None, .. }
        ));
        assert!(
            serde_json::from_str::<Ping>(r#"{"scheduled_at":"2027-01-15T10:00:00Z"}"#).is_err()
        );
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

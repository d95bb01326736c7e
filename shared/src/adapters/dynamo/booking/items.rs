//! The booking context's items as stored, and their keys.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::ports::KeyRecord;
use crate::booking::{Booking, BookingId, HistoryEntry};

/// Partitions of the hold index, so one hot day of holds spreads out.
pub const HOLD_SHARDS: u32 = 4;
pub(super) const GSI2: &str = "GSI2";

pub(super) use crate::adapters::dynamo::stamp;

/// The hold index's sort key bound for "ran out at `now`": every hold
/// `<expiry>#<id>` with an expiry at or before `now` sorts below it.
pub(super) fn due(now: DateTime<Utc>) -> String {
    format!("{}#~", stamp(now))
}

pub(super) fn booking_pk(id: &BookingId) -> String {
    format!("BOOKING#{id}")
}

pub(super) fn idempotency_pk(key: &KeyRecord<'_>) -> String {
    format!("IDEMPOTENCY#{}#{}", key.user, key.key.as_str())
}

pub(super) fn number_pk(booking: &Booking) -> String {
    format!("BOOKINGNO#{}", booking.number.as_str())
}

fn hold_shard(id: &BookingId) -> String {
    let sum: u32 = id.as_str().bytes().map(u32::from).sum();
    format!("HOLD#{}", sum % HOLD_SHARDS)
}

/// The GSI3 partition of a resource's bookings.
pub(super) fn resource_bookings_pk(resource: &crate::catalog::ResourceId) -> String {
    format!("RESOURCE#{resource}#BOOKINGS")
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct BookingItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK", skip_serializing_if = "Option::is_none", default)]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", skip_serializing_if = "Option::is_none", default)]
    gsi2sk: Option<String>,
    /// The booked resource's bookings (absent on items from before GSI3).
    #[serde(rename = "GSI3PK", skip_serializing_if = "Option::is_none", default)]
    gsi3pk: Option<String>,
    /// `<date>T<start>#<booking id>`: by booked date and time.
    #[serde(rename = "GSI3SK", skip_serializing_if = "Option::is_none", default)]
    gsi3sk: Option<String>,
    entity: String,
    #[serde(flatten)]
    pub booking: Booking,
}

impl BookingItem {
    pub fn new(booking: &Booking) -> Self {
        Self {
            pk: booking_pk(&booking.id),
            sk: "BOOKING".into(),
            gsi1pk: format!("USER#{}#BOOKINGS", booking.user_id),
            gsi1sk: format!("{}#{}", stamp(booking.created_at), booking.id),
            gsi2pk: Some(hold_shard(&booking.id)),
            gsi2sk: Some(format!("{}#{}", stamp(booking.hold_expires_at), booking.id)),
            gsi3pk: Some(resource_bookings_pk(&booking.slot_id.resource_id)),
            gsi3sk: Some(format!(
                "{}T{}#{}",
                booking.slot_id.date,
                booking.slot_id.start.format("%H:%M"),
                booking.id
            )),
            entity: "BOOKING".into(),
            booking: booking.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct IdempotencyItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub fingerprint: String,
    pub booking_id: BookingId,
    /// The first answer, replayed verbatim.
    pub response: String,
    pub expires_at: i64,
}

/// A history entry, sorted by time; `seq` orders entries of one instant.
pub(super) fn history_item(id: &BookingId, entry: &HistoryEntry, seq: &str) -> serde_json::Value {
    serde_json::json!({
        "PK": booking_pk(id),
        "SK": format!("HISTORY#{}#{seq}", stamp(entry.at)),
        "entity": "BOOKING_HISTORY",
        "at": entry.at,
        "from": entry.from,
        "to": entry.to,
        "by": entry.by,
        "reason": entry.reason,
    })
}

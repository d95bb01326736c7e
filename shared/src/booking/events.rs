//! The events the booking context emits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BookingId, BookingNumber, BookingStatus};
use crate::EventType;
use crate::catalog::SlotId;
use crate::events::{Event, required_nullable};
use crate::identity::UserId;
use crate::payment::PaymentMethod;

/// A hold was taken: places of a slot are the booking's until
/// `hold_expires_at`, unless it is paid and confirmed first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCreated {
    pub booking_id: BookingId,
    pub number: BookingNumber,
    pub user_id: UserId,
    /// `counted`, `seated` or `range`.
    pub kind: String,
    pub slot_id: SlotId,
    pub quantity: u32,
    pub price_cents: u64,
    pub currency: String,
    pub hold_expires_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    /// How the booking asked to be paid; `null`: a hold that waits. Never
    /// the card itself: a card's token is in the booking's payment intent.
    #[serde(deserialize_with = "required_nullable")]
    pub payment: Option<PaymentMethod>,
}

impl Event for BookingCreated {
    const TYPE: EventType = EventType::BookingCreated;
    const VERSION: u32 = 1;
}

/// A hold was paid and is now a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingConfirmed {
    pub booking_id: BookingId,
    pub number: BookingNumber,
    pub user_id: UserId,
    pub slot_id: SlotId,
    pub quantity: u32,
    pub price_cents: u64,
    pub currency: String,
}

impl Event for BookingConfirmed {
    const TYPE: EventType = EventType::BookingConfirmed;
    const VERSION: u32 = 1;
}

/// What a booking that ended and gave its places back says: who, what, why,
/// and how much of its price goes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingEnded {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub slot_id: SlotId,
    pub quantity: u32,
    pub from: BookingStatus,
    pub to: BookingStatus,
    pub reason: String,
    /// The share of `price_cents` the payment context refunds (0-100).
    #[serde(deserialize_with = "crate::events::percent")]
    pub refund_percent: u32,
    pub price_cents: u64,
    /// How the booking was to be paid; `null` for a hold never paid.
    #[serde(deserialize_with = "required_nullable")]
    pub payment: Option<PaymentMethod>,
}

/// A booking was cancelled by its customer, or failed because its payment
/// did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingCancelled(pub BookingEnded);

impl Event for BookingCancelled {
    const TYPE: EventType = EventType::BookingCancelled;
    const VERSION: u32 = 1;
}

/// A hold ran out unpaid (or was paid too late) and gave its places back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingExpired(pub BookingEnded);

impl Event for BookingExpired {
    const TYPE: EventType = EventType::BookingExpired;
    const VERSION: u32 = 1;
}

/// Where a counted booking stands: its slot, places and price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub slot_id: SlotId,
    pub quantity: u32,
    pub price_cents: u64,
}

/// A counted booking changed its quantity or moved to another slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingModified {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub from: Placement,
    pub to: Placement,
}

impl Event for BookingModified {
    const TYPE: EventType = EventType::BookingModified;
    const VERSION: u32 = 1;
}

/// Which event a booking that ends writes: [`BookingCancelled`] or
/// [`BookingExpired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndedAs {
    Cancelled,
    Expired,
}

impl EndedAs {
    /// The envelope of `ended` as this event.
    pub fn envelope(
        self,
        ended: BookingEnded,
        correlation_id: crate::CorrelationId,
    ) -> Result<crate::EventEnvelope, serde_json::Error> {
        match self {
            Self::Cancelled => crate::EventEnvelope::of(&BookingCancelled(ended), correlation_id),
            Self::Expired => crate::EventEnvelope::of(&BookingExpired(ended), correlation_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(share: Option<serde_json::Value>) -> serde_json::Value {
        let mut data = serde_json::json!({
            "booking_id": "0195f0a4-7b00-7000-8000-000000000001",
            "user_id": "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10",
            "slot_id": "0195f0a4-0000-7000-8000-000000000012@2027-01-15T08:00",
            "quantity": 2, "from": "CONFIRMED", "to": "CANCELLED", "reason": "r",
            "price_cents": 10000, "payment": "CARD",
        });
        if let Some(share) = share {
            data["refund_percent"] = share;
        }
        data
    }

    #[test]
    fn a_refund_share_is_required_and_at_most_the_whole() {
        let decode = |v| serde_json::from_value::<BookingEnded>(v);
        assert_eq!(decode(ended(Some(50.into()))).unwrap().refund_percent, 50);
        assert_eq!(decode(ended(Some(100.into()))).unwrap().refund_percent, 100);
        for bad in [
            None,
            Some((-1).into()),
            Some(101.into()),
            Some("all".into()),
            Some(50.5.into()),
        ] {
            assert!(decode(ended(bad.clone())).is_err(), "{bad:?}");
        }
    }
}

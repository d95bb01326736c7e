//! Bookings: what a caller holds of a slot, and how that changes.
//!
//! Capacity is never decided here by reading and then writing: the store
//! takes it in the same `TransactWriteItems` that writes the booking, its
//! idempotency record, its history and its outbox event, on the condition
//! `booked + quantity <= capacity`. This module holds the values, the state
//! machine and the request validation.

mod cancellation;
pub mod events;
pub mod ports;
pub mod rules;
pub mod service;
mod wire;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::AppError;
use crate::catalog::{ResourceId, SlotId, TimeZone, VenueId};
use crate::identity::UserId;
pub use crate::kernel::{BookingId, IdempotencyKey, fingerprint};
use crate::payment::{PaymentChoice, PaymentMethod};

/// The most places one booking may take.
pub const MAX_QUANTITY: u32 = 10;
/// How long an unpaid hold lasts unless `HOLD_MINUTES` says otherwise.
pub const DEFAULT_HOLD_MINUTES: i64 = 15;
pub use crate::payment::CURRENCY;
pub use cancellation::{CancellationQuote, cancellation_quote, cancellation_refund_percent};

/// A booking number people can read out: `BK-` and 8 characters of
/// Crockford base32 (no I, L, O, U). Unique by a conditional write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingNumber(String);

impl BookingNumber {
    const ALPHABET: &'static [u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    pub fn generate() -> Self {
        let chars: String = (0..8)
            .map(|_| Self::ALPHABET[rand::random_range(0..Self::ALPHABET.len())] as char)
            .collect();
        Self(format!("BK-{}-{}", &chars[..4], &chars[4..]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many places: 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub fn parse(raw: i64) -> Result<Self, AppError> {
        match u32::try_from(raw) {
            Ok(q) if (1..=MAX_QUANTITY).contains(&q) => Ok(Self(q)),
            _ => Err(AppError::validation(
                "INVALID_QUANTITY",
                format!("quantity must be 1 to {MAX_QUANTITY}"),
            )),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Where a booking is in its life. Every change is a conditional write on
/// the current status, so duplicates and late events cannot move it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// A hold: capacity taken, waiting for payment until `hold_expires_at`.
    Pending,
    Confirmed,
    Cancelled,
    Expired,
    Failed,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::Failed => "FAILED",
        }
    }

    /// Whether the booking still holds capacity.
    pub fn holds_capacity(self) -> bool {
        matches!(self, Self::Pending | Self::Confirmed)
    }

    /// The statuses a booking may move to from this one.
    pub fn can_become(self, next: Self) -> bool {
        use BookingStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed | Cancelled | Expired | Failed) | (Confirmed, Cancelled)
        )
    }
}

/// What a booking is of: `counted` places of a slot, or chosen `seated`
/// seats of a seated slot. Read by [`BookingRequest::deserialize`], which
/// names the field a bad body has wrong (serde's own tagged enums forget
/// where an error was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BookingRequest {
    Counted {
        slot_id: String,
        quantity: i64,
        /// On a course with a back nine: 18 takes the round's back-nine
        /// tee time too. 9 (the default) takes this slot only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        holes: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment: Option<PaymentChoice>,
    },
    Seated {
        slot_id: String,
        seat_ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment: Option<PaymentChoice>,
    },
    /// A room from `start` to `end` ("HH:MM") on `date`.
    Range {
        resource_id: String,
        date: String,
        start: String,
        end: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment: Option<PaymentChoice>,
    },
}

/// A validated booking request of any kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidRequest {
    Slot(Order),
    Range(RangeOrder),
}

/// A validated range request. Its fit to the room's grid and hours is
/// checked against the room's rules ([`crate::catalog::RangeRules::units`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeOrder {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// A validated booking request. `seat_ids` is empty for a counted booking;
/// for a seated one, `quantity` is the number of seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub slot_id: SlotId,
    pub quantity: Quantity,
    pub seat_ids: Vec<String>,
    /// 18 for a round that continues on the course's back nine.
    pub holes: u32,
}

impl BookingRequest {
    /// How the booking asks to be paid. Without one, the booking is a hold
    /// that waits for its payment and expires unpaid.
    pub fn payment(&self) -> Option<&PaymentChoice> {
        match self {
            Self::Counted { payment, .. }
            | Self::Seated { payment, .. }
            | Self::Range { payment, .. } => payment.as_ref(),
        }
    }

    pub fn validate(&self) -> Result<ValidRequest, AppError> {
        if let Some(payment) = self.payment() {
            payment.validate()?;
        }
        match self {
            Self::Range {
                resource_id,
                date,
                start,
                end,
                ..
            } => {
                let time = |raw: &str| {
                    NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| {
                        AppError::validation(
                            "INVALID_RANGE",
                            format!("{raw:?} is not a time like 09:30"),
                        )
                    })
                };
                Ok(ValidRequest::Range(RangeOrder {
                    resource_id: ResourceId::parse(resource_id)?,
                    date: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                        AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD")
                    })?,
                    start: time(start)?,
                    end: time(end)?,
                }))
            }
            slot => slot.validate_slot().map(ValidRequest::Slot),
        }
    }

    fn validate_slot(&self) -> Result<Order, AppError> {
        match self {
            Self::Range { .. } => Err(AppError::validation("INVALID_BODY", "not a slot booking")),
            Self::Counted {
                slot_id,
                quantity,
                holes,
                ..
            } => Ok(Order {
                slot_id: SlotId::parse(slot_id)?,
                quantity: Quantity::parse(*quantity)?,
                seat_ids: Vec::new(),
                holes: match holes {
                    None | Some(9) => 9,
                    Some(18) => 18,
                    Some(_) => {
                        return Err(AppError::validation(
                            "INVALID_HOLES",
                            "holes must be 9 or 18",
                        ));
                    }
                },
            }),
            Self::Seated {
                slot_id, seat_ids, ..
            } => {
                let quantity = Quantity::parse(i64::try_from(seat_ids.len()).unwrap_or(i64::MAX))
                    .map_err(|_| {
                    AppError::validation(
                        "INVALID_SEATS",
                        format!("choose 1 to {MAX_QUANTITY} seats"),
                    )
                })?;
                let mut unique = std::collections::BTreeSet::new();
                for id in seat_ids {
                    let id = crate::catalog::parse_seat_id(id)?;
                    if !unique.insert(id.clone()) {
                        return Err(AppError::validation(
                            "INVALID_SEATS",
                            format!("seat {id} is chosen twice"),
                        ));
                    }
                }
                Ok(Order {
                    slot_id: SlotId::parse(slot_id)?,
                    quantity,
                    seat_ids: unique.into_iter().collect(),
                    holes: 9,
                })
            }
        }
    }
}

/// A change of a counted booking, as `PATCH /bookings/{booking_id}` takes
/// it: a new quantity, a new slot, or both.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeRequest {
    pub quantity: Option<i64>,
    pub slot_id: Option<String>,
}

/// A validated [`ChangeRequest`]: at least one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification {
    pub quantity: Option<Quantity>,
    pub slot_id: Option<SlotId>,
}

impl ChangeRequest {
    pub fn validate(&self) -> Result<Modification, AppError> {
        let quantity = self.quantity.map(Quantity::parse).transpose()?;
        let slot_id = self.slot_id.as_deref().map(SlotId::parse).transpose()?;
        if quantity.is_none() && slot_id.is_none() {
            return Err(AppError::validation(
                "NOTHING_TO_CHANGE",
                "give quantity and/or slot_id",
            ));
        }
        Ok(Modification { quantity, slot_id })
    }
}

/// A seat taken by a booking, at its price when booked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookedSeat {
    pub seat_id: String,
    pub tier: String,
    pub price_cents: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub number: BookingNumber,
    pub user_id: UserId,
    pub kind: String,
    pub venue_id: VenueId,
    /// The company that owns the venue (absent only on bookings made
    /// before companies existed: only the platform administrator manages
    /// those, besides their customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<crate::identity::CompanyId>,
    /// The venue's zone, in which `slot_id`'s wall-clock time is read.
    pub time_zone: TimeZone,
    pub slot_id: SlotId,
    /// When the slot starts: its wall-clock time at the venue, with the
    /// venue's UTC offset that day.
    pub starts_at: DateTime<FixedOffset>,
    pub quantity: u32,
    /// The price of one place (counted bookings; seats carry their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_price_cents: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<BookedSeat>,
    /// 18-hole rounds: the back-nine tee time also held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_nine_slot_id: Option<SlotId>,
    /// Range bookings: when the room is free again (`slot_id` holds the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<NaiveTime>,
    /// Range bookings: the start of every unit the booking locks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<NaiveTime>,
    pub price_cents: u64,
    pub currency: String,
    /// How the booking is paid; `None` for a hold waiting for payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentMethod>,
    pub status: BookingStatus,
    /// When its payment confirmed it; stays set after a later cancel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<DateTime<Utc>>,
    pub hold_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One transition in a booking's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub from: Option<BookingStatus>,
    pub to: BookingStatus,
    /// Who: a user id, or the system component (`sweeper`, `payment`).
    pub by: String,
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_bounded() {
        assert!(Quantity::parse(1).is_ok());
        assert!(Quantity::parse(MAX_QUANTITY.into()).is_ok());
        for bad in [0, -1, i64::from(MAX_QUANTITY) + 1, i64::MAX] {
            assert_eq!(Quantity::parse(bad).unwrap_err().code(), "INVALID_QUANTITY");
        }
    }

    #[test]
    fn idempotency_keys_are_required_and_bounded() {
        assert_eq!(
            IdempotencyKey::parse(None).unwrap_err().code(),
            "MISSING_IDEMPOTENCY_KEY"
        );
        for bad in ["short", "has space in it", &"k".repeat(65)] {
            assert_eq!(
                IdempotencyKey::parse(Some(bad)).unwrap_err().code(),
                "INVALID_IDEMPOTENCY_KEY"
            );
        }
        assert!(IdempotencyKey::parse(Some("0195f0a4-6c1e-7cc3")).is_ok());
    }

    #[test]
    fn the_status_machine_only_moves_forward() {
        use BookingStatus::*;
        assert!(Pending.can_become(Confirmed));
        assert!(Pending.can_become(Expired));
        assert!(Confirmed.can_become(Cancelled));
        for terminal in [Cancelled, Expired, Failed] {
            for next in [Pending, Confirmed, Cancelled, Expired, Failed] {
                assert!(!terminal.can_become(next), "{terminal:?} -> {next:?}");
            }
        }
        assert!(!Confirmed.can_become(Expired));
        assert!(!Confirmed.can_become(Pending));
    }

    #[test]
    fn booking_numbers_are_readable_and_vary() {
        let a = BookingNumber::generate();
        assert_eq!(a.as_str().len(), 12);
        assert!(a.as_str().starts_with("BK-"));
        assert!(!a.as_str()[3..].contains(['I', 'L', 'O', 'U']));
        assert_ne!(a, BookingNumber::generate());
    }

    #[test]
    fn unknown_booking_kinds_and_fields_are_refused() {
        assert!(
            serde_json::from_str::<BookingRequest>(
                r#"{"kind":"counted","slot_id":"x","quantity":1}"#
            )
            .is_ok()
        );
        assert!(
            serde_json::from_str::<BookingRequest>(
                r#"{"kind":"teleport","slot_id":"x","quantity":1}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<BookingRequest>(
                r#"{"kind":"counted","slot_id":"x","quantity":1,"price":0}"#
            )
            .is_err()
        );
    }
}

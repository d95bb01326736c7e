//! The booking rules that need no storage: what a booking costs, whether a
//! slot takes the kind of booking asked for, and what may be changed.
//! Pure functions; the use cases in [`super::service`] call them with what
//! they read.

use chrono::{DateTime, NaiveTime, Utc};

use super::{BookedSeat, Booking, BookingStatus};
use crate::AppError;
use crate::catalog::{RangeRules, Slot};

pub use crate::catalog::Deadline;

/// How bookings are taken, as the deployment configures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How long an unpaid hold lasts (`HOLD_MINUTES`).
    pub hold: chrono::Duration,
    /// How long before a slot's start its bookings close
    /// (`BOOKING_CUTOFF_MINUTES`).
    pub cutoff: chrono::Duration,
    /// What one customer may hold (`MAX_PLACES_PER_USER_SLOT`,
    /// `MAX_UNPAID_HOLDS`).
    pub limits: Limits,
}

impl Policy {
    /// The policy from the environment: `HOLD_MINUTES` (15),
    /// `BOOKING_CUTOFF_MINUTES` (0), `MAX_PLACES_PER_USER_SLOT` (10) and
    /// `MAX_UNPAID_HOLDS` (10), each count at least 1.
    pub fn from_env() -> Result<Self, crate::config::ConfigError> {
        use crate::config::{ConfigError, booking_cutoff, parsed_or};
        let hold: i64 = parsed_or("HOLD_MINUTES", crate::booking::DEFAULT_HOLD_MINUTES)?;
        let defaults = Limits::default();
        let count = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            let value: u32 = parsed_or(name, default)?;
            if value == 0 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be at least 1".into(),
                });
            }
            Ok(value)
        };
        Ok(Self {
            hold: chrono::Duration::minutes(hold),
            cutoff: booking_cutoff()?,
            limits: Limits {
                places_per_slot: count("MAX_PLACES_PER_USER_SLOT", defaults.places_per_slot)?,
                unpaid_holds: count("MAX_UNPAID_HOLDS", defaults.unpaid_holds)?,
            },
        })
    }
}

/// What a change is held to: when bookings of its slot close, and what
/// the customer may hold (`None` for staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub deadline: Deadline,
    pub limits: Option<Limits>,
}

/// How much one customer may hold, so no account hoards a sale: live
/// places (PENDING and CONFIRMED) of one slot, and unpaid (PENDING) holds
/// overall. Enforced by conditions inside the booking's transaction, never
/// by a read first. Staff who may manage bookings are not held to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub places_per_slot: u32,
    pub unpaid_holds: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            places_per_slot: 10,
            unpaid_holds: 10,
        }
    }
}

impl Limits {
    /// The limits `caller` is held to: none for staff who may manage
    /// bookings (a box office booking for its customers).
    pub fn for_caller(self, caller: &crate::identity::Caller) -> Option<Self> {
        (!caller
            .role
            .permits(crate::identity::Permission::BookingsManage))
        .then_some(self)
    }

    /// The refusal when a booking would take the customer past the
    /// per-slot limit.
    pub fn places_refusal(&self) -> AppError {
        AppError::conflict(
            "PLACES_LIMIT",
            format!(
                "a customer holds at most {} places of one slot; this booking would take you past it",
                self.places_per_slot
            ),
        )
    }

    /// The refusal when a hold would take the customer past the unpaid
    /// holds limit.
    pub fn holds_refusal(&self) -> AppError {
        AppError::conflict(
            "TOO_MANY_HOLDS",
            format!(
                "a customer has at most {} unpaid holds at once; pay for or cancel one first",
                self.unpaid_holds
            ),
        )
    }
}

/// A booking's price: per place (counted bookings and rooms) and in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub unit_cents: Option<u64>,
    pub total_cents: u64,
}

/// `quantity` places of a slot at its unit price (the day's price, plus the
/// premium surcharge on a premium slot). An 18-hole round is priced by its
/// front-nine tee time alone: its back nine is part of the round.
pub fn counted_price(slot: &Slot, quantity: u32) -> Price {
    let unit = slot.unit_price();
    Price {
        unit_cents: Some(unit),
        total_cents: unit * u64::from(quantity),
    }
}

/// Chosen seats, each at its tier's price when booked.
pub fn seated_price(seats: &[BookedSeat]) -> Price {
    Price {
        unit_cents: None,
        total_cents: seats.iter().map(|s| s.price_cents).sum(),
    }
}

/// A room's units, each at the room's unit price.
pub fn range_price(rules: &RangeRules, units: &[NaiveTime]) -> Price {
    Price {
        unit_cents: Some(rules.unit_price_cents),
        total_cents: rules.unit_price_cents * units.len() as u64,
    }
}

/// Whether the slot takes the booking asked for: seats on a seated slot, a
/// quantity on any other.
pub fn check_seating(slot: &Slot, seated: bool) -> Result<(), AppError> {
    match (slot.seated, seated) {
        (false, true) => Err(AppError::conflict(
            "NOT_SEATED",
            "this slot has no seat map; book a quantity",
        )),
        (true, false) => Err(AppError::conflict(
            "SEATS_REQUIRED",
            "this slot is seated; choose seats",
        )),
        _ => Ok(()),
    }
}

/// Whether a booking may be changed at all: only a counted, single-slot,
/// unpaid booking that still holds its places.
pub fn check_modifiable(booking: &Booking) -> Result<(), AppError> {
    if booking.kind != "counted" || booking.back_nine_slot_id.is_some() {
        return Err(AppError::conflict(
            "NOT_MODIFIABLE",
            "only counted bookings can be changed; cancel and book again",
        ));
    }
    if booking.payment.is_some() {
        // The payment is for the price at booking time; a change would
        // need a charge or refund of the difference.
        return Err(AppError::conflict(
            "NOT_MODIFIABLE",
            "a paid booking cannot be changed; cancel it (refund by policy) and book again",
        ));
    }
    if !booking.status.holds_capacity() {
        return Err(AppError::conflict(
            "INVALID_TRANSITION",
            format!("a {} booking cannot be changed", booking.status.as_str()),
        ));
    }
    Ok(())
}

/// The booking as a change to `quantity` places of `to` makes it: priced at
/// the new slot's unit price. Its status and hold are not the change's.
pub fn changed(
    booking: &Booking,
    to: &Slot,
    quantity: u32,
    now: DateTime<Utc>,
) -> Result<Booking, AppError> {
    if to.seated {
        return Err(AppError::conflict(
            "SEATS_REQUIRED",
            "the new slot is seated; choose seats",
        ));
    }
    if booking.slot_id == to.id && booking.quantity == quantity {
        return Err(AppError::validation(
            "NOTHING_TO_CHANGE",
            "the booking already is that",
        ));
    }
    let price = counted_price(to, quantity);
    Ok(Booking {
        slot_id: to.id.clone(),
        starts_at: booking.time_zone.local(booking.time_zone.starts_at(&to.id)),
        quantity,
        unit_price_cents: price.unit_cents,
        price_cents: price.total_cents,
        updated_at: now,
        ..booking.clone()
    })
}

/// How many more places of its new slot a change takes (0 if it takes none).
pub fn places_taken(before: &Booking, after: &Booking) -> u32 {
    if before.slot_id == after.slot_id {
        after.quantity.saturating_sub(before.quantity)
    } else {
        after.quantity
    }
}

/// Whether a booking in `status` may still be cancelled.
pub fn check_cancellable(status: BookingStatus) -> Result<(), AppError> {
    if status.can_become(BookingStatus::Cancelled) {
        Ok(())
    } else {
        Err(AppError::conflict(
            "INVALID_TRANSITION",
            format!("a {} booking cannot be cancelled", status.as_str()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::TimeZone;
    use chrono::Duration;

    #[test]
    fn bookings_close_at_the_start_less_the_cutoff() {
        let slot = SlotId::parse(crate::testing::catalog::SLOT).unwrap();
        let zone = TimeZone::parse("Asia/Seoul").unwrap();
        let start = zone.starts_at(&slot);
        let at = |now, minutes| Deadline {
            now,
            cutoff: Duration::minutes(minutes),
        };
        assert!(
            at(start - Duration::milliseconds(1), 0)
                .check(&slot, zone)
                .is_ok()
        );
        assert_eq!(
            at(start, 0).check(&slot, zone).unwrap_err().code(),
            "BOOKING_CLOSED"
        );
        assert_eq!(
            at(start + Duration::days(1), 0)
                .check(&slot, zone)
                .unwrap_err()
                .code(),
            "BOOKING_CLOSED"
        );
        assert!(
            at(start - Duration::minutes(31), 30)
                .check(&slot, zone)
                .is_ok()
        );
        let closed = at(start - Duration::minutes(30), 30)
            .check(&slot, zone)
            .unwrap_err();
        assert!(closed.to_string().contains("07:30:00+09:00"), "{closed}");
    }
    use crate::catalog::{DayType, Prices, SlotId, SlotStatus};
    use crate::payment::PaymentMethod;
    use crate::testing::booking::booking;

    fn slot(day_type: DayType, premium: bool) -> Slot {
        Slot {
            id: SlotId::parse(crate::testing::catalog::SLOT).unwrap(),
            end: NaiveTime::from_hms_opt(8, 10, 0).unwrap(),
            capacity: 4,
            booked: 0,
            status: SlotStatus::Available,
            day_type,
            prices: Prices {
                weekday: 5000,
                weekend: 7000,
                holiday: 9000,
            },
            premium,
            premium_surcharge_percent: 25,
            seated: false,
        }
    }

    #[test]
    fn a_counted_booking_costs_its_days_price_per_place_with_the_premium_on_top() {
        assert_eq!(
            counted_price(&slot(DayType::Weekday, false), 3),
            Price {
                unit_cents: Some(5000),
                total_cents: 15_000
            }
        );
        assert_eq!(
            counted_price(&slot(DayType::Weekend, true), 2).total_cents,
            2 * 8750
        );
        assert_eq!(
            counted_price(&slot(DayType::Holiday, false), 1).total_cents,
            9000
        );
    }

    #[test]
    fn seats_cost_their_tiers_and_rooms_their_units() {
        let seats = [("A-1", 9000), ("B-1", 5000)].map(|(id, price)| BookedSeat {
            seat_id: id.into(),
            tier: id[..1].into(),
            price_cents: price,
        });
        assert_eq!(
            seated_price(&seats),
            Price {
                unit_cents: None,
                total_cents: 14_000
            }
        );
        let rules = RangeRules {
            unit_minutes: 30,
            opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            unit_price_cents: 1500,
        };
        let units = rules
            .units(
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(10, 30, 0).unwrap(),
            )
            .unwrap();
        assert_eq!(range_price(&rules, &units).total_cents, 4500);
    }

    #[test]
    fn seating_must_match_the_slot() {
        let mut seated = slot(DayType::Weekday, false);
        seated.seated = true;
        assert_eq!(
            check_seating(&seated, false).unwrap_err().code(),
            "SEATS_REQUIRED"
        );
        assert_eq!(
            check_seating(&slot(DayType::Weekday, false), true)
                .unwrap_err()
                .code(),
            "NOT_SEATED"
        );
        assert!(check_seating(&seated, true).is_ok());
    }

    #[test]
    fn only_unpaid_counted_bookings_that_hold_places_may_change() {
        assert!(check_modifiable(&booking()).is_ok());
        let paid = Booking {
            payment: Some(PaymentMethod::Wallet),
            ..booking()
        };
        assert_eq!(
            check_modifiable(&paid).unwrap_err().code(),
            "NOT_MODIFIABLE"
        );
        let seated = Booking {
            kind: "seated".into(),
            ..booking()
        };
        assert_eq!(
            check_modifiable(&seated).unwrap_err().code(),
            "NOT_MODIFIABLE"
        );
        let ended = Booking {
            status: BookingStatus::Expired,
            ..booking()
        };
        assert_eq!(
            check_modifiable(&ended).unwrap_err().code(),
            "INVALID_TRANSITION"
        );
    }

    #[test]
    fn a_change_is_priced_at_the_new_slot_and_takes_only_what_it_adds() {
        let before = booking();
        let same = slot(DayType::Weekday, false);
        let now = before.created_at + chrono::Duration::minutes(3);
        let more = changed(&before, &same, 3, now).unwrap();
        assert_eq!((more.quantity, more.price_cents), (3, 15_000));
        assert_eq!(more.status, before.status);
        assert_eq!(more.hold_expires_at, before.hold_expires_at);
        assert_eq!(places_taken(&before, &more), 1);
        let fewer = changed(&before, &same, 1, now).unwrap();
        assert_eq!(places_taken(&before, &fewer), 0);
        let mut other = slot(DayType::Weekend, false);
        other.id =
            SlotId::parse(&format!("{}T08:10", &crate::testing::catalog::SLOT[..47])).unwrap();
        let moved = changed(&before, &other, 2, now).unwrap();
        assert_eq!(
            (moved.slot_id.clone(), moved.price_cents),
            (other.id, 14_000)
        );
        assert_eq!(places_taken(&before, &moved), 2);
        assert_eq!(
            changed(&before, &same, 2, now).unwrap_err().code(),
            "NOTHING_TO_CHANGE"
        );
    }

    #[test]
    fn only_live_bookings_may_be_cancelled() {
        assert!(check_cancellable(BookingStatus::Pending).is_ok());
        assert!(check_cancellable(BookingStatus::Confirmed).is_ok());
        for ended in [
            BookingStatus::Cancelled,
            BookingStatus::Expired,
            BookingStatus::Failed,
        ] {
            assert_eq!(
                check_cancellable(ended).unwrap_err().code(),
                "INVALID_TRANSITION"
            );
        }
    }
}

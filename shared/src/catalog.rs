//! Catalog: venues, their bookable resources, and the slots of a resource.
//!
//! A slot is one bookable time of one resource on one date. Its key is
//! derived from the resource, date and start time ([`SlotId`]), which is what
//! makes bulk generation idempotent: generating the same pattern twice finds
//! every slot already there. Prices are integer cents; the price of a booking
//! is always computed here, on the server ([`Slot::unit_price`]).

pub mod events;
mod gate;
mod generation;
mod ids;
pub mod ports;
mod ranges;
mod seats;
pub mod service;
mod zone;

pub use gate::{Gate, RoomId};
pub use generation::{
    GenerationPreview, GenerationRequest, GenerationSummary, MAX_GENERATED_SLOTS,
    MAX_GENERATION_DAYS, PlannedSlot, parse_dry_run,
};
pub use ids::{ResourceId, SlotId, VenueId};
pub use ranges::{MAX_RANGE_UNITS, RangeRules, hhmm};
pub use seats::{
    MAX_SEAT_MAP_BYTES, MAX_SEATS, Seat, SeatMapRequest, SeatSpec, SeatStatus, parse_seat_id,
};
pub use zone::TimeZone;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The largest capacity of one slot.
pub const MAX_CAPACITY: u32 = 10_000;
/// The largest price, in cents, of one unit.
pub const MAX_PRICE_CENTS: u64 = 10_000_000;

pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(code, message)
}

/// A name of a venue or resource: 1 to 100 printable characters.
pub fn parse_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "INVALID_NAME",
            "name must be 1 to 100 printable characters",
        ));
    }
    Ok(name.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VenueKind {
    GolfClub,
    ConcertHall,
    Coworking,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Venue {
    pub id: VenueId,
    /// The company that owns it. Absent only on a venue created before
    /// companies existed, until `platform-admin adopt-venues` gives it the
    /// default company; only the platform administrator manages it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<crate::identity::CompanyId>,
    pub name: String,
    pub kind: VenueKind,
    pub city: String,
    /// The zone its slots' times are read in; set at creation, never changed
    /// (bookings already made keep the instants it gave them).
    pub time_zone: TimeZone,
    pub status: CatalogStatus,
}

/// Whether a venue or resource takes bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CatalogStatus {
    Open,
    Closed,
}

impl CatalogStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Closed => "CLOSED",
        }
    }
}

/// What a resource is, which decides how it is booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceKind {
    /// A golf course or game (e.g. front nine + back nine): counted places per tee time.
    Course,
    /// A concert performance: seated or counted (standing) places.
    Performance,
    /// A room booked by time range.
    Room,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Course => "COURSE",
            Self::Performance => "PERFORMANCE",
            Self::Room => "ROOM",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: ResourceId,
    pub venue_id: VenueId,
    pub name: String,
    pub kind: ResourceKind,
    pub status: CatalogStatus,
    /// How a room is booked by time range; rooms only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<RangeRules>,
    /// A course's back nine: an 18-hole round starting on this (front nine)
    /// resource at T also takes a place on the back nine at T + the turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_nine: Option<BackNine>,
    /// The waiting room in front of it: its bookings need the room's pass
    /// and wait for the sale's opening. Set and lifted by the room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<Gate>,
}

/// Where and when an 18-hole round continues after the front nine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackNine {
    pub resource_id: ResourceId,
    /// Minutes from the front-nine tee time to the back-nine tee time.
    pub turn_minutes: u32,
}

impl BackNine {
    pub fn validate(self) -> Result<Self, AppError> {
        if !(30..=360).contains(&self.turn_minutes) {
            return Err(invalid("INVALID_TURN", "turn_minutes must be 30 to 360"));
        }
        Ok(self)
    }

    /// The back-nine tee time of a round starting at `front`.
    pub fn slot_after(&self, front: &SlotId) -> Result<SlotId, AppError> {
        let start = front
            .date
            .and_time(front.start)
            .checked_add_signed(Duration::minutes(self.turn_minutes.into()))
            .ok_or_else(|| invalid("INVALID_TURN", "the back nine would start out of range"))?;
        if start.date() != front.date {
            return Err(invalid(
                "INVALID_TURN",
                "the back nine would start after midnight",
            ));
        }
        Ok(SlotId {
            resource_id: self.resource_id.clone(),
            date: front.date,
            start: start.time(),
        })
    }
}

/// Unit prices of a slot by kind of day, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prices {
    pub weekday: u64,
    pub weekend: u64,
    pub holiday: u64,
}

impl Prices {
    pub fn validate(self) -> Result<Self, AppError> {
        if [self.weekday, self.weekend, self.holiday]
            .iter()
            .any(|p| *p > MAX_PRICE_CENTS)
        {
            return Err(invalid(
                "INVALID_PRICE",
                format!("prices are cents from 0 to {MAX_PRICE_CENTS}"),
            ));
        }
        Ok(self)
    }
}

/// What kind of day a date is, for pricing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DayType {
    Weekday,
    Weekend,
    Holiday,
}

impl DayType {
    pub fn of(date: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> Self {
        if holidays.contains(&date) {
            Self::Holiday
        } else if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            Self::Weekend
        } else {
            Self::Weekday
        }
    }
}

/// A slot's own status. "Fully booked" is not stored: it is `booked ==
/// capacity`, read off the counter ([`Slot::availability`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlotStatus {
    Available,
    Closed,
}

impl SlotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Closed => "CLOSED",
        }
    }
}

/// What a client sees of a slot's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Availability {
    Available,
    FullyBooked,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub id: SlotId,
    pub end: NaiveTime,
    pub capacity: u32,
    pub booked: u32,
    pub status: SlotStatus,
    pub day_type: DayType,
    pub prices: Prices,
    pub premium: bool,
    /// Extra percent charged on a premium slot.
    pub premium_surcharge_percent: u32,
    /// Booked by choosing seats (its seat map sets the capacity).
    #[serde(default)]
    pub seated: bool,
}

impl Slot {
    pub fn remaining(&self) -> u32 {
        self.capacity.saturating_sub(self.booked)
    }

    pub fn availability(&self) -> Availability {
        match self.status {
            SlotStatus::Closed => Availability::Closed,
            SlotStatus::Available if self.remaining() == 0 => Availability::FullyBooked,
            SlotStatus::Available => Availability::Available,
        }
    }

    /// The price of one place in this slot, in cents: the day's price, plus
    /// the premium surcharge (rounded half up) on a premium slot.
    pub fn unit_price(&self) -> u64 {
        let base = match self.day_type {
            DayType::Weekday => self.prices.weekday,
            DayType::Weekend => self.prices.weekend,
            DayType::Holiday => self.prices.holiday,
        };
        if self.premium {
            (base * (100 + u64::from(self.premium_surcharge_percent)) + 50) / 100
        } else {
            base
        }
    }
}

/// What setting a seat map did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatMapSummary {
    pub created: usize,
    pub skipped: usize,
    /// The slot's capacity now: its number of seats.
    pub capacity: u32,
}

/// When a request is made, and how long before a slot's start bookings of
/// it close (`BOOKING_CUTOFF_MINUTES`, 0 by default: until it starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub now: DateTime<Utc>,
    pub cutoff: Duration,
}

impl Deadline {
    /// The instant bookings of `slot`, at a venue in `zone`, close: its
    /// start at the venue, less the cut-off.
    pub fn closes_at(&self, slot: &SlotId, zone: TimeZone) -> DateTime<Utc> {
        zone.starts_at(slot) - self.cutoff
    }

    /// Whether `slot`, at a venue in `zone`, may still be booked or changed
    /// onto: 409 `BOOKING_CLOSED` from the moment its bookings close.
    pub fn check(&self, slot: &SlotId, zone: TimeZone) -> Result<(), AppError> {
        let closes = self.closes_at(slot, zone);
        if self.now < closes {
            Ok(())
        } else {
            Err(AppError::conflict(
                "BOOKING_CLOSED",
                format!("bookings of {slot} closed at {}", zone.rfc3339(closes)),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use generation::tests::request;

    #[test]
    fn prices_follow_the_day_and_the_premium_surcharge() {
        let slots = request().slots(&ResourceId::generate()).unwrap();
        // Friday 08:00 premium: 5000 * 1.25; Friday 08:10: 5000; Saturday 08:00: 7000 * 1.25
        assert_eq!(slots[0].unit_price(), 6250);
        assert_eq!(slots[1].unit_price(), 5000);
        assert_eq!(slots[2].unit_price(), 8750);
        assert_eq!(slots[6].unit_price(), 11250);
    }

    #[test]
    fn a_full_slot_reads_as_fully_booked_and_a_closed_one_as_closed() {
        let mut slot = request().slots(&ResourceId::generate()).unwrap().remove(0);
        assert_eq!(slot.availability(), Availability::Available);
        slot.booked = slot.capacity;
        assert_eq!(slot.availability(), Availability::FullyBooked);
        slot.status = SlotStatus::Closed;
        assert_eq!(slot.availability(), Availability::Closed);
    }
}

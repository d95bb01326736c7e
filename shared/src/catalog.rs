//! Catalog: venues, their bookable resources, and the slots of a resource.
//!
//! A slot is one bookable time of one resource on one date. Its key is
//! derived from the resource, date and start time ([`SlotId`]), which is what
//! makes bulk generation idempotent: generating the same pattern twice finds
//! every slot already there. Prices are integer cents; the price of a booking
//! is always computed here, on the server ([`Slot::unit_price`]).

pub mod events;
pub mod ports;
mod ranges;
mod seats;
pub mod service;

pub use ranges::{MAX_RANGE_UNITS, RangeRules, hhmm};
pub use seats::{MAX_SEATS, Seat, SeatMapRequest, SeatSpec, SeatStatus, parse_seat_id};

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The longest date range one generation request may cover.
pub const MAX_GENERATION_DAYS: i64 = 92;
/// The most slots one generation request may create.
pub const MAX_GENERATED_SLOTS: usize = 2_000;
/// The largest capacity of one slot.
pub const MAX_CAPACITY: u32 = 10_000;
/// The largest price, in cents, of one unit.
pub const MAX_PRICE_CENTS: u64 = 10_000_000;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(code, message)
}

/// An id of a venue or resource: a UUID v7.
macro_rules! uuid_id {
    ($name:ident, $code:literal, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, AppError> {
                uuid::Uuid::parse_str(raw)
                    .map(|id| Self(id.to_string()))
                    .map_err(|_| invalid($code, concat!($what, " is not a valid id")))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(VenueId, "INVALID_VENUE_ID", "the venue id");
uuid_id!(ResourceId, "INVALID_RESOURCE_ID", "the resource id");

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
    pub name: String,
    pub kind: VenueKind,
    pub city: String,
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

/// The zone every venue's slot times are read in today. Venues do not carry
/// a time zone of their own yet, so a slot's wall-clock time is taken as
/// UTC; rules take the zone as a parameter ([`SlotId::starts_at_in`]) so a
/// venue's own zone slots in without changing them.
pub const SLOT_TIME_ZONE: chrono_tz::Tz = chrono_tz::Tz::UTC;

/// A slot's key: resource, date and start time. Written
/// `<resource id>@<yyyy-mm-dd>T<hh:mm>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub start: NaiveTime,
}

impl SlotId {
    /// When the slot starts: its wall-clock time at the venue, read in the
    /// venue's `zone` (DST gaps and overlaps as [`crate::clock::instant_at`]).
    pub fn starts_at_in(&self, zone: chrono_tz::Tz) -> chrono::DateTime<chrono::Utc> {
        crate::clock::instant_at(self.date, self.start, zone)
    }

    /// When the slot starts, read in [`SLOT_TIME_ZONE`].
    pub fn starts_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.starts_at_in(SLOT_TIME_ZONE)
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = || {
            invalid(
                "INVALID_SLOT_ID",
                "slot_id must look like <resource id>@2026-12-01T08:00",
            )
        };
        let (resource, when) = raw.split_once('@').ok_or_else(bad)?;
        let (date, start) = when.split_once('T').ok_or_else(bad)?;
        Ok(Self {
            resource_id: ResourceId::parse(resource).map_err(|_| bad())?,
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?,
            start: NaiveTime::parse_from_str(start, "%H:%M").map_err(|_| bad())?,
        })
    }

    /// The slot's sort key within its resource: `SLOT#<date>T<hh:mm>`.
    pub fn sort_key(&self) -> String {
        format!("SLOT#{}T{}", self.date, self.start.format("%H:%M"))
    }
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}T{}",
            self.resource_id,
            self.date,
            self.start.format("%H:%M")
        )
    }
}

impl Serialize for SlotId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SlotId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
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

/// A daily pattern of slots over a date range (POST .../slots/generate).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationRequest {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Start times, "HH:MM".
    pub start_times: Vec<String>,
    pub duration_minutes: u32,
    pub capacity: u32,
    pub prices: Prices,
    /// Dates priced as holidays.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Start times that are premium.
    #[serde(default)]
    pub premium_start_times: Vec<String>,
    #[serde(default = "default_surcharge")]
    pub premium_surcharge_percent: u32,
    /// Only these weekdays ("MON".."SUN"); every day when absent.
    #[serde(default)]
    pub weekdays: Option<Vec<String>>,
}

fn default_surcharge() -> u32 {
    25
}

fn parse_time(raw: &str) -> Result<NaiveTime, AppError> {
    NaiveTime::parse_from_str(raw, "%H:%M")
        .map_err(|_| invalid("INVALID_TIME", format!("{raw:?} is not a time like 07:30")))
}

fn parse_weekday(raw: &str) -> Result<Weekday, AppError> {
    match raw {
        "MON" => Ok(Weekday::Mon),
        "TUE" => Ok(Weekday::Tue),
        "WED" => Ok(Weekday::Wed),
        "THU" => Ok(Weekday::Thu),
        "FRI" => Ok(Weekday::Fri),
        "SAT" => Ok(Weekday::Sat),
        "SUN" => Ok(Weekday::Sun),
        other => Err(invalid(
            "INVALID_WEEKDAY",
            format!("{other:?} is not one of MON..SUN"),
        )),
    }
}

impl GenerationRequest {
    /// Every slot the pattern describes, validated; nothing is written.
    pub fn slots(&self, resource: &ResourceId) -> Result<Vec<Slot>, AppError> {
        if self.to < self.from {
            return Err(invalid("INVALID_DATE_RANGE", "to must not be before from"));
        }
        if (self.to - self.from).num_days() >= MAX_GENERATION_DAYS {
            return Err(invalid(
                "INVALID_DATE_RANGE",
                format!("a generation covers at most {MAX_GENERATION_DAYS} days"),
            ));
        }
        if self.capacity == 0 || self.capacity > MAX_CAPACITY {
            return Err(invalid(
                "INVALID_CAPACITY",
                format!("capacity must be 1 to {MAX_CAPACITY}"),
            ));
        }
        if self.duration_minutes == 0 || self.duration_minutes > 24 * 60 {
            return Err(invalid(
                "INVALID_DURATION",
                "duration_minutes must be 1 to 1440",
            ));
        }
        if self.premium_surcharge_percent > 1_000 {
            return Err(invalid(
                "INVALID_PRICE",
                "premium_surcharge_percent must be 0 to 1000",
            ));
        }
        if self.start_times.is_empty() || self.start_times.len() > 288 {
            return Err(invalid(
                "INVALID_TIME",
                "start_times must hold 1 to 288 times",
            ));
        }
        let prices = self.prices.validate()?;
        let starts: BTreeSet<NaiveTime> = self
            .start_times
            .iter()
            .map(|t| parse_time(t))
            .collect::<Result<_, _>>()?;
        let premium: BTreeSet<NaiveTime> = self
            .premium_start_times
            .iter()
            .map(|t| parse_time(t))
            .collect::<Result<_, _>>()?;
        let weekdays: Option<BTreeSet<u32>> = self
            .weekdays
            .as_ref()
            .map(|days| {
                days.iter()
                    .map(|d| parse_weekday(d).map(|w| w.num_days_from_monday()))
                    .collect()
            })
            .transpose()?;
        let holidays: BTreeSet<NaiveDate> = self.holidays.iter().copied().collect();
        let duration = Duration::minutes(self.duration_minutes.into());
        let mut slots = Vec::new();
        let mut date = self.from;
        while date <= self.to {
            let included = weekdays
                .as_ref()
                .is_none_or(|w| w.contains(&date.weekday().num_days_from_monday()));
            if included {
                for start in &starts {
                    let (end, wrapped) = start.overflowing_add_signed(duration);
                    if wrapped != 0 {
                        return Err(invalid(
                            "INVALID_DURATION",
                            format!(
                                "a slot at {} would end after midnight",
                                start.format("%H:%M")
                            ),
                        ));
                    }
                    slots.push(Slot {
                        id: SlotId {
                            resource_id: resource.clone(),
                            date,
                            start: *start,
                        },
                        end,
                        capacity: self.capacity,
                        booked: 0,
                        status: SlotStatus::Available,
                        day_type: DayType::of(date, &holidays),
                        prices,
                        premium: premium.contains(start),
                        premium_surcharge_percent: self.premium_surcharge_percent,
                        seated: false,
                    });
                    if slots.len() > MAX_GENERATED_SLOTS {
                        return Err(invalid(
                            "TOO_MANY_SLOTS",
                            format!("one generation creates at most {MAX_GENERATED_SLOTS} slots"),
                        ));
                    }
                }
            }
            date = date
                .succ_opt()
                .ok_or_else(|| invalid("INVALID_DATE_RANGE", "date out of range"))?;
        }
        Ok(slots)
    }
}

/// What a generation run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationSummary {
    pub created: usize,
    pub skipped: usize,
}

/// What setting a seat map did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatMapSummary {
    pub created: usize,
    pub skipped: usize,
    /// The slot's capacity now: its number of seats.
    pub capacity: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> GenerationRequest {
        serde_json::from_value(serde_json::json!({
            "from": "2026-12-04", "to": "2026-12-07",
            "start_times": ["08:00", "08:10"], "duration_minutes": 10, "capacity": 4,
            "prices": {"weekday": 5000, "weekend": 7000, "holiday": 9000},
            "holidays": ["2026-12-07"], "premium_start_times": ["08:00"]
        }))
        .unwrap()
    }

    #[test]
    fn a_pattern_expands_to_one_slot_per_day_and_start_time() {
        let rid = ResourceId::generate();
        let slots = request().slots(&rid).unwrap();
        assert_eq!(slots.len(), 8);
        let types: Vec<DayType> = slots.iter().step_by(2).map(|s| s.day_type).collect();
        // Fri, Sat, Sun, Mon (a holiday)
        assert_eq!(
            types,
            [
                DayType::Weekday,
                DayType::Weekend,
                DayType::Weekend,
                DayType::Holiday
            ]
        );
        assert_eq!(slots[1].end, NaiveTime::from_hms_opt(8, 20, 0).unwrap());
    }

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
    fn a_slot_id_round_trips_and_bad_ones_are_refused() {
        let id = request().slots(&ResourceId::generate()).unwrap()[0]
            .id
            .clone();
        assert_eq!(SlotId::parse(&id.to_string()).unwrap(), id);
        for bad in [
            "",
            "x@2026-12-01T08:00",
            "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10@2026-13-01T08:00",
            "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10@2026-12-01T25:00",
        ] {
            assert_eq!(
                SlotId::parse(bad).unwrap_err().code(),
                "INVALID_SLOT_ID",
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_patterns_are_refused_with_their_code() {
        let rid = ResourceId::generate();
        let mut r = request();
        r.to = r.from - Duration::days(1);
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_DATE_RANGE");
        let mut r = request();
        r.to = r.from + Duration::days(MAX_GENERATION_DAYS);
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_DATE_RANGE");
        let mut r = request();
        r.capacity = 0;
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_CAPACITY");
        let mut r = request();
        r.start_times = vec!["8am".into()];
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_TIME");
        let mut r = request();
        r.start_times = vec!["23:55".into()];
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_DURATION");
        let mut r = request();
        r.prices.holiday = MAX_PRICE_CENTS + 1;
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_PRICE");
        let mut r = request();
        r.weekdays = Some(vec!["FUNDAY".into()]);
        assert_eq!(r.slots(&rid).unwrap_err().code(), "INVALID_WEEKDAY");
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

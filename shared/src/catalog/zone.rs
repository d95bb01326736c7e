//! A venue's time zone: the IANA zone its slots' wall-clock times are read
//! in. Every instant derived from a slot (its start, the refund deadline,
//! the booking cut-off) is computed in it.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::{SlotId, invalid};
use crate::AppError;

/// An IANA time zone such as `Asia/Seoul` or `Europe/Vienna`, as the tz
/// database names it (`UTC` included; abbreviations such as `CET` or
/// offsets such as `+09:00` are not zones and are refused).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let refuse = || {
            invalid(
                "INVALID_TIME_ZONE",
                "time_zone must be an IANA time zone such as Asia/Seoul or Europe/Vienna",
            )
        };
        // The tz database also knows legacy names (EST, CET, Etc/GMT+9);
        // a venue's zone is a region's, so only Area/Location and UTC pass.
        if raw != "UTC" && !raw.contains('/') || raw.starts_with("Etc/") {
            return Err(refuse());
        }
        raw.parse::<chrono_tz::Tz>().map(Self).map_err(|_| refuse())
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The instant the wall-clock `time` on `date` happens here (DST gaps and
    /// overlaps as [`crate::clock::instant_at`]).
    pub fn instant(self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        crate::clock::instant_at(date, time, self.0)
    }

    /// When `slot` starts, for a slot of a venue in this zone.
    pub fn starts_at(self, slot: &SlotId) -> DateTime<Utc> {
        self.instant(slot.date, slot.start)
    }

    /// `instant` as a local time here, with its UTC offset.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<FixedOffset> {
        instant.with_timezone(&self.0).fixed_offset()
    }

    /// `instant` written as RFC 3339 local time with its offset, to the
    /// second: `2027-05-14T08:00:00+09:00`.
    pub fn rfc3339(self, instant: DateTime<Utc>) -> String {
        self.local(instant)
            .to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TimeZone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(at: &str) -> SlotId {
        SlotId::parse(&format!("{}@{at}", crate::catalog::ResourceId::generate())).unwrap()
    }

    #[test]
    fn zones_of_the_tz_database_pass_and_anything_else_is_refused() {
        for good in [
            "Asia/Seoul",
            "Europe/Vienna",
            "America/Argentina/Buenos_Aires",
            "UTC",
        ] {
            assert_eq!(TimeZone::parse(good).unwrap().name(), good);
        }
        for bad in [
            "",
            "Seoul",
            "asia/seoul",
            "CET",
            "EST",
            "+09:00",
            "Etc/GMT-9",
            "Mars/Olympus",
            "Asia/Seoul ",
        ] {
            assert_eq!(
                TimeZone::parse(bad).unwrap_err().code(),
                "INVALID_TIME_ZONE",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_slot_starts_at_its_wall_clock_time_at_the_venue() {
        let seoul = TimeZone::parse("Asia/Seoul").unwrap();
        let start = seoul.starts_at(&slot("2027-05-14T08:00"));
        assert_eq!(start.to_rfc3339(), "2027-05-13T23:00:00+00:00");
        assert_eq!(seoul.rfc3339(start), "2027-05-14T08:00:00+09:00");
    }

    #[test]
    fn local_times_carry_the_offset_in_force_on_either_side_of_a_dst_change() {
        let vienna = TimeZone::parse("Europe/Vienna").unwrap();
        let before = vienna.starts_at(&slot("2027-03-27T08:00"));
        let after = vienna.starts_at(&slot("2027-03-28T08:00"));
        assert_eq!(vienna.rfc3339(before), "2027-03-27T08:00:00+01:00");
        assert_eq!(vienna.rfc3339(after), "2027-03-28T08:00:00+02:00");
        // Twenty-three hours apart: the night the clocks go forward.
        assert_eq!((after - before).num_hours(), 23);
        // 02:30 does not happen that night; it is read by the old clock.
        let gap = vienna.starts_at(&slot("2027-03-28T02:30"));
        assert_eq!(vienna.rfc3339(gap), "2027-03-28T03:30:00+02:00");
        // 02:30 happens twice on 31 October; the first is meant.
        let twice = vienna.starts_at(&slot("2027-10-31T02:30"));
        assert_eq!(vienna.rfc3339(twice), "2027-10-31T02:30:00+02:00");
    }

    #[test]
    fn a_zone_round_trips_through_json_by_name() {
        let zone: TimeZone = serde_json::from_str("\"Europe/Vienna\"").unwrap();
        assert_eq!(serde_json::to_string(&zone).unwrap(), "\"Europe/Vienna\"");
        assert!(serde_json::from_str::<TimeZone>("\"Vienna\"").is_err());
    }
}

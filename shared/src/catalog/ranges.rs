//! Rooms booked by time range: units, opening hours, free stretches.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveTime};
use serde::{Deserialize, Serialize};

use super::{MAX_PRICE_CENTS, invalid};
use crate::AppError;

/// How a room is booked by time range: in units of `unit_minutes`, within
/// opening hours, at a price per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeRules {
    pub unit_minutes: u32,
    #[serde(with = "hhmm")]
    pub opens: NaiveTime,
    #[serde(with = "hhmm")]
    pub closes: NaiveTime,
    pub unit_price_cents: u64,
}

/// The most units one range booking may lock (the booking's transaction
/// holds one item per unit; DynamoDB allows 100).
pub const MAX_RANGE_UNITS: usize = 48;

impl RangeRules {
    pub fn validate(self) -> Result<Self, AppError> {
        if ![5, 10, 15, 20, 30, 60].contains(&self.unit_minutes) {
            return Err(invalid(
                "INVALID_UNIT",
                "unit_minutes must be 5, 10, 15, 20, 30 or 60",
            ));
        }
        if self.opens >= self.closes || !self.on_grid(self.opens) || !self.on_grid(self.closes) {
            return Err(invalid(
                "INVALID_HOURS",
                "opens must be before closes, both on the unit grid",
            ));
        }
        if self.unit_price_cents > MAX_PRICE_CENTS {
            return Err(invalid(
                "INVALID_PRICE",
                format!("prices are cents from 0 to {MAX_PRICE_CENTS}"),
            ));
        }
        Ok(self)
    }

    fn on_grid(&self, t: NaiveTime) -> bool {
        use chrono::Timelike;
        (t.hour() * 60 + t.minute()).is_multiple_of(self.unit_minutes) && t.second() == 0
    }

    /// The unit start times a range covers, refusing one that is off the
    /// grid, outside the opening hours, empty or too long.
    pub fn units(&self, start: NaiveTime, end: NaiveTime) -> Result<Vec<NaiveTime>, AppError> {
        if start >= end || !self.on_grid(start) || !self.on_grid(end) {
            return Err(invalid(
                "INVALID_RANGE",
                format!(
                    "start must be before end, both on the {}-minute grid",
                    self.unit_minutes
                ),
            ));
        }
        if start < self.opens || end > self.closes {
            return Err(invalid(
                "OUTSIDE_OPENING_HOURS",
                format!(
                    "open {} to {}",
                    self.opens.format("%H:%M"),
                    self.closes.format("%H:%M")
                ),
            ));
        }
        let step = Duration::minutes(self.unit_minutes.into());
        let mut units = Vec::new();
        let mut t = start;
        while t < end {
            units.push(t);
            t += step;
        }
        if units.len() > MAX_RANGE_UNITS {
            return Err(invalid(
                "INVALID_RANGE",
                format!("a booking covers at most {MAX_RANGE_UNITS} units"),
            ));
        }
        Ok(units)
    }

    /// The free stretches of a day, given the taken unit starts.
    pub fn free_ranges(&self, taken: &BTreeSet<NaiveTime>) -> Vec<(NaiveTime, NaiveTime)> {
        let step = Duration::minutes(self.unit_minutes.into());
        let mut out: Vec<(NaiveTime, NaiveTime)> = Vec::new();
        let mut t = self.opens;
        while t < self.closes {
            if !taken.contains(&t) {
                match out.last_mut() {
                    Some((_, end)) if *end == t => *end = t + step,
                    _ => out.push((t, t + step)),
                }
            }
            t += step;
        }
        out
    }
}

/// `HH:MM` times on the wire.
pub mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&t.format("%H:%M"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        NaiveTime::parse_from_str(&raw, "%H:%M")
            .map_err(|_| serde::de::Error::custom(format!("{raw:?} is not a time like 09:30")))
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    fn rules() -> RangeRules {
        RangeRules {
            unit_minutes: 15,
            opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
            unit_price_cents: 500,
        }
    }

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn a_range_covers_one_unit_per_step() {
        assert_eq!(
            rules().units(t(9, 0), t(10, 0)).unwrap(),
            vec![t(9, 0), t(9, 15), t(9, 30), t(9, 45)]
        );
    }

    #[test]
    fn off_grid_reversed_closed_and_overlong_ranges_are_refused() {
        let r = rules();
        assert_eq!(
            r.units(t(9, 10), t(10, 0)).unwrap_err().code(),
            "INVALID_RANGE"
        );
        assert_eq!(
            r.units(t(10, 0), t(9, 0)).unwrap_err().code(),
            "INVALID_RANGE"
        );
        assert_eq!(
            r.units(t(7, 0), t(9, 0)).unwrap_err().code(),
            "OUTSIDE_OPENING_HOURS"
        );
        assert_eq!(r.units(t(8, 0), t(20, 0)).unwrap().len(), MAX_RANGE_UNITS);
        let fine = RangeRules {
            unit_minutes: 5,
            ..r
        };
        assert_eq!(
            fine.units(t(8, 0), t(12, 5)).unwrap_err().code(),
            "INVALID_RANGE"
        );
    }

    #[test]
    fn free_ranges_merge_adjacent_free_units() {
        let taken: BTreeSet<NaiveTime> = [t(9, 0), t(9, 15), t(12, 0)].into();
        let free = rules().free_ranges(&taken);
        assert_eq!(
            free,
            vec![
                (t(8, 0), t(9, 0)),
                (t(9, 30), t(12, 0)),
                (t(12, 15), t(20, 0))
            ]
        );
    }
}

//! Bulk generation of slots from a daily pattern over a date range: the
//! pattern is validated whole, then expands to one slot per day and start
//! time, each keyed so that generating twice creates nothing new.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::invalid;
use super::*;
use crate::AppError;

/// The longest date range one generation request may cover.
pub const MAX_GENERATION_DAYS: i64 = 92;
/// The most slots one generation request may create.
pub const MAX_GENERATED_SLOTS: usize = 2_000;

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

/// The `dry_run` query parameter of a generation: `true` only shows what a
/// run would do; absent or `false`, the run writes.
pub fn parse_dry_run(raw: Option<&str>) -> Result<bool, AppError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(invalid("INVALID_DRY_RUN", "dry_run must be true or false")),
    }
}

/// What a generation would do, written nowhere: the counts a run would
/// report and every slot of the pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationPreview {
    /// Always `true`, so the answer cannot pass for a run's.
    pub dry_run: bool,
    pub created: usize,
    pub skipped: usize,
    pub slots: Vec<PlannedSlot>,
}

/// One slot of a pattern in a [`GenerationPreview`], its times and price
/// written as the availability route writes a slot's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSlot {
    pub slot_id: SlotId,
    pub date: NaiveDate,
    /// Wall-clock `HH:MM` at the venue.
    pub start: String,
    pub end: String,
    /// The same instants in RFC 3339 with the venue's UTC offset that day.
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: u32,
    /// The day's price plus the premium surcharge on a premium slot.
    pub unit_price_cents: u64,
    pub premium: bool,
    /// The slot is there already: a run skips it, and it keeps its own
    /// capacity and prices, not the pattern's shown here.
    pub exists: bool,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn request() -> GenerationRequest {
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
    fn dry_run_is_true_or_false_and_absent_is_false() {
        assert!(!parse_dry_run(None).unwrap());
        assert!(!parse_dry_run(Some("false")).unwrap());
        assert!(parse_dry_run(Some("true")).unwrap());
        for bad in ["", "1", "yes", "TRUE", "true "] {
            assert_eq!(
                parse_dry_run(Some(bad)).unwrap_err().code(),
                "INVALID_DRY_RUN",
                "{bad:?}"
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
}

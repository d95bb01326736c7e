//! The dates system tests put their slots on, chosen relative to today at
//! the venue, so the suite passes on any day of any year. Nothing here names
//! a calendar date: each choice says what it must be far from (a refund
//! tier, a weekend, the end of a day) and the unit tests below check that it
//! is, for every "today" of more than a year in several zones.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use shared::clock::{Clock, SystemClock, instant_at, today_in};

/// The zone of the venues the tests create: nine hours ahead of UTC, so a
/// slot time read as UTC (or in the machine's zone) is caught.
pub const VENUE_ZONE: Tz = Tz::Asia__Seoul;

/// Days from today to the earliest "far" date: past every refund tier a
/// test cloud is configured with (the longest, 72 h), with a week to spare.
const FAR_DAYS: i64 = 10;

/// Slots are generated on a grid of this many minutes.
const GRID_MINUTES: u32 = 10;

/// A slot's wall-clock start at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalStart {
    pub date: NaiveDate,
    pub time: NaiveTime,
}

impl LocalStart {
    /// `YYYY-MM-DD`, as the API takes a date.
    pub fn date_str(&self) -> String {
        iso(self.date)
    }

    /// `HH:MM`, as the API takes a start time.
    pub fn time_str(&self) -> String {
        self.time.format("%H:%M").to_string()
    }

    pub fn instant(&self, zone: Tz) -> DateTime<Utc> {
        instant_at(self.date, self.time, zone)
    }
}

/// Five days in a row from a Friday: a weekday, a weekend, a Monday a test
/// may declare a holiday, and a Tuesday with no slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceWeek {
    pub friday: NaiveDate,
    pub saturday: NaiveDate,
    pub sunday: NaiveDate,
    pub monday: NaiveDate,
    pub tuesday: NaiveDate,
}

/// "Now" at a venue: the instant and the zone its dates are read in.
#[derive(Debug, Clone, Copy)]
pub struct Today {
    pub zone: Tz,
    pub now: DateTime<Utc>,
}

impl Today {
    /// Now, at the venues the tests create.
    pub fn at_venue() -> Self {
        Self {
            zone: VENUE_ZONE,
            now: SystemClock.now(),
        }
    }

    pub fn date(&self) -> NaiveDate {
        today_in(self.zone, self.now)
    }

    /// The first `weekday` at least ten days from today: far enough that a
    /// cancellation is refunded in full under any tier of up to a week, for
    /// as long as a test runs.
    pub fn far(&self, weekday: Weekday) -> NaiveDate {
        next(self.date() + Duration::days(FAR_DAYS), weekday)
    }

    /// The first Friday at least ten days from today (a weekday price).
    pub fn far_friday(&self) -> NaiveDate {
        self.far(Weekday::Fri)
    }

    /// The week of [`Today::far_friday`].
    pub fn price_week(&self) -> PriceWeek {
        let friday = self.far_friday();
        let day = |n| friday + Duration::days(n);
        PriceWeek {
            friday,
            saturday: day(1),
            sunday: day(2),
            monday: day(3),
            tuesday: day(4),
        }
    }

    /// A start about `hours` from now on the slot grid: the first grid time
    /// at or after now + `hours` that exists at the venue (not in a DST
    /// gap) and leaves room for a slot before midnight.
    pub fn start_in(&self, hours: i64) -> LocalStart {
        let mut at = (self.now + Duration::hours(hours)).with_timezone(&self.zone);
        loop {
            let local = at.naive_local();
            let minute = local.time().minute();
            let up = (GRID_MINUTES - minute % GRID_MINUTES) % GRID_MINUTES;
            let on_grid = (local + Duration::minutes(i64::from(up)))
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0))
                .expect("a valid time");
            let start = LocalStart {
                date: on_grid.date(),
                time: on_grid.time(),
            };
            let exists = start
                .instant(self.zone)
                .with_timezone(&self.zone)
                .naive_local()
                == on_grid;
            let fits_the_day = on_grid.time() < last_start_of_day();
            if exists && fits_the_day {
                return start;
            }
            at += Duration::minutes(i64::from(GRID_MINUTES));
        }
    }
}

/// `YYYY-MM-DD`.
pub fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The first `weekday` on or after `from`.
pub fn next(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from + Duration::days(i64::from(ahead))
}

/// The last start time whose slot (of one grid step) still ends the same day.
fn last_start_of_day() -> NaiveTime {
    NaiveTime::from_hms_opt(23, 60 - GRID_MINUTES, 0).expect("a valid time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::payment::RefundPolicy;

    /// Every "today" from 1 December 2026 to 5 January 2028: two year ends,
    /// every month end, both of Europe/Vienna's DST changes in 2027, a leap
    /// year's February coming up in 2028.
    fn every_day() -> impl Iterator<Item = NaiveDate> {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2028, 1, 5).unwrap();
        first.iter_days().take_while(move |d| *d <= last)
    }

    /// Several moments of each day, in several zones, read as instants.
    fn moments() -> Vec<Today> {
        let zones: Vec<Tz> = ["UTC", "Europe/Vienna", "Asia/Seoul", "America/New_York"]
            .iter()
            .map(|z| z.parse().unwrap())
            .collect();
        let times = [
            "00:00", "00:05", "02:30", "08:00", "12:00", "23:39", "23:55",
        ]
        .map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap());
        let mut out = Vec::new();
        for day in every_day() {
            for zone in &zones {
                for time in times {
                    out.push(Today {
                        zone: *zone,
                        now: instant_at(day, time, *zone),
                    });
                }
            }
        }
        out
    }

    #[test]
    fn next_finds_the_weekday_on_or_after_a_date() {
        let thursday = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        assert_eq!(next(thursday, Weekday::Thu), thursday);
        assert_eq!(next(thursday, Weekday::Fri).to_string(), "2027-01-01");
        assert_eq!(next(thursday, Weekday::Wed).to_string(), "2027-01-06");
    }

    #[test]
    fn the_far_friday_is_a_friday_refunded_in_full_whatever_today_is() {
        let policy = RefundPolicy::default();
        for today in moments() {
            let friday = today.far_friday();
            assert_eq!(friday.weekday(), Weekday::Fri, "{today:?}");
            let days = (friday - today.date()).num_days();
            assert!(
                (FAR_DAYS..FAR_DAYS + 7).contains(&days),
                "{today:?}: {days}"
            );
            let start = instant_at(
                friday,
                NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                today.zone,
            );
            assert!(start - today.now >= Duration::days(9), "{today:?}");
            // Still a full refund a whole day into the test's run.
            for later in [Duration::zero(), Duration::days(1)] {
                assert_eq!(policy.percent(start, today.now + later), 100, "{today:?}");
            }
        }
    }

    #[test]
    fn the_price_week_runs_friday_to_tuesday_across_month_and_year_ends() {
        let mut crossed_a_month = false;
        for today in moments() {
            let week = today.price_week();
            let days = [
                week.friday,
                week.saturday,
                week.sunday,
                week.monday,
                week.tuesday,
            ];
            let weekdays = days.map(|d| d.weekday());
            assert_eq!(
                weekdays,
                [
                    Weekday::Fri,
                    Weekday::Sat,
                    Weekday::Sun,
                    Weekday::Mon,
                    Weekday::Tue
                ],
                "{today:?}"
            );
            for pair in days.windows(2) {
                assert_eq!(pair[1] - pair[0], Duration::days(1), "{today:?}");
            }
            crossed_a_month |= week.friday.month() != week.tuesday.month();
        }
        assert!(crossed_a_month, "some weeks span two months");
    }

    #[test]
    fn a_start_thirty_hours_ahead_exists_fits_its_day_and_gets_the_partial_refund() {
        let policy = RefundPolicy::default();
        for today in moments() {
            let start = today.start_in(30);
            let instant = start.instant(today.zone);
            let ahead = instant - today.now;
            // On the grid, past a DST gap or midnight: at most an hour and
            // twenty minutes past the target.
            assert!(
                ahead >= Duration::hours(30) && ahead <= Duration::minutes(30 * 60 + 80),
                "{today:?}: {start:?} is {ahead} ahead"
            );
            assert_eq!(start.time.minute() % GRID_MINUTES, 0, "{start:?}");
            assert!(start.time < last_start_of_day(), "{start:?}");
            assert_eq!(
                instant.with_timezone(&today.zone).naive_local(),
                start.date.and_time(start.time),
                "{today:?}: {start:?} does not exist at the venue"
            );
            // Half, from booking to cancel, however slow the run.
            for later in [Duration::zero(), Duration::hours(2)] {
                assert_eq!(policy.percent(instant, today.now + later), 50, "{today:?}");
            }
        }
    }

    #[test]
    fn a_start_rounded_into_a_spring_gap_moves_past_it() {
        let vienna: Tz = "Europe/Vienna".parse().unwrap();
        // 30 hours after 19:55 CET on 26 March 2027 is 01:55 CET on the
        // 28th; the grid's next time, 02:00, never happens in Vienna.
        let today = Today {
            zone: vienna,
            now: instant_at(
                NaiveDate::from_ymd_opt(2027, 3, 26).unwrap(),
                NaiveTime::from_hms_opt(19, 55, 0).unwrap(),
                vienna,
            ),
        };
        let start = today.start_in(30);
        assert_eq!(
            (start.date_str(), start.time_str()),
            ("2027-03-28".to_owned(), "03:10".to_owned())
        );
    }

    #[test]
    fn a_start_too_late_in_the_day_moves_to_the_next_midnight() {
        let today = Today {
            zone: Tz::UTC,
            now: "2027-12-30T17:45:00Z".parse().unwrap(),
        };
        let start = today.start_in(30);
        assert_eq!(
            (start.date_str(), start.time_str()),
            ("2028-01-01".to_owned(), "00:00".to_owned())
        );
    }
}

//! Time as a port. No rule reads the system clock itself: a use case is
//! given the current instant by a [`Clock`] (the [`SystemClock`] in the
//! functions, a [`FixedClock`] in tests), so a test can stand exactly on a
//! boundary (71 h 59 min against 72 h before a start) instead of hoping the
//! wall clock is far from it.
//!
//! Wall-clock times of a venue become instants with [`instant_at`], in the
//! venue's IANA time zone, DST gaps and overlaps included.

use std::sync::Mutex;

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveTime, Offset, SubsecRound, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// The current instant, to the millisecond: the precision items and
    /// events store, so a value read back equals the value written.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The operating system's clock: what every function uses in production.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}

/// A clock that stands still until a test moves it.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(instant: DateTime<Utc>) -> Self {
        Self(Mutex::new(instant.trunc_subsecs(3)))
    }

    /// A clock at an RFC 3339 instant (`2027-03-26T06:00:00Z`); panics on a
    /// malformed literal, so it is for tests only.
    pub fn at_rfc3339(instant: &str) -> Self {
        Self::at(
            DateTime::parse_from_rfc3339(instant)
                .unwrap_or_else(|e| panic!("{instant:?} is not RFC 3339: {e}"))
                .with_timezone(&Utc),
        )
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.lock() = instant.trunc_subsecs(3);
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        *now += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A test that panicked while holding the lock left a valid instant.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

/// The instant of the wall-clock time `date` `time` in `zone`.
///
/// A time that occurs twice (the hour the clocks go back) is its first
/// occurrence; a time that never occurs (the hour the clocks go forward) is
/// read with the offset in force before the change, so 02:30 on the night
/// Vienna springs forward is 03:30 CEST: the same instant a person arriving
/// "at 02:30 by the old clock" would mean, and the rule of RFC 5545 and
/// java.time.
pub fn instant_at(date: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let local = date.and_time(time);
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // The offset a day earlier is the one before the change: no gap
            // in the tz database is longer than a day.
            let before = zone
                .offset_from_local_datetime(&(local - Duration::days(1)))
                .earliest()
                .map_or(0, |offset| offset.fix().local_minus_utc());
            (local - Duration::seconds(i64::from(before))).and_utc()
        }
    }
}

/// The date it is at `now` in `zone`.
pub fn today_in(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn time(raw: &str) -> NaiveTime {
        NaiveTime::parse_from_str(raw, "%H:%M").unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_fixed_clock_stands_still_until_moved() {
        let clock = FixedClock::at_rfc3339("2027-03-26T06:00:00.123456Z");
        assert_eq!(clock.now(), utc("2027-03-26T06:00:00.123Z"));
        assert_eq!(clock.now(), clock.now());
        clock.advance(Duration::minutes(1));
        assert_eq!(clock.now(), utc("2027-03-26T06:01:00.123Z"));
        clock.set(utc("2030-01-01T00:00:00Z"));
        fn read(clock: impl Clock) -> DateTime<Utc> {
            clock.now()
        }
        assert_eq!(
            read(&clock),
            utc("2030-01-01T00:00:00Z"),
            "through a reference"
        );
    }

    #[test]
    fn the_system_clock_keeps_milliseconds_only() {
        assert_eq!(SystemClock.now().timestamp_subsec_nanos() % 1_000_000, 0);
    }

    #[test]
    fn wall_clock_times_become_instants_in_the_venue_zone() {
        let vienna: Tz = "Europe/Vienna".parse().unwrap();
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let at = |d, t, z| instant_at(date(d), time(t), z);
        assert_eq!(
            at("2027-01-15", "08:00", vienna),
            utc("2027-01-15T07:00:00Z")
        );
        assert_eq!(
            at("2027-07-15", "08:00", vienna),
            utc("2027-07-15T06:00:00Z")
        );
        assert_eq!(
            at("2027-07-15", "08:00", seoul),
            utc("2027-07-14T23:00:00Z")
        );
        assert_eq!(
            at("2027-07-15", "08:00", Tz::UTC),
            utc("2027-07-15T08:00:00Z")
        );
    }

    #[test]
    fn a_time_in_the_spring_gap_is_read_with_the_winter_offset() {
        let vienna: Tz = "Europe/Vienna".parse().unwrap();
        // 2027-03-28: 02:00 CET jumps to 03:00 CEST; 02:30 never happens.
        let gap = instant_at(date("2027-03-28"), time("02:30"), vienna);
        assert_eq!(gap, utc("2027-03-28T01:30:00Z"));
        assert_eq!(
            gap,
            instant_at(date("2027-03-28"), time("03:30"), vienna),
            "the same instant as 03:30 CEST"
        );
    }

    #[test]
    fn a_time_in_the_autumn_overlap_is_its_first_occurrence() {
        let vienna: Tz = "Europe/Vienna".parse().unwrap();
        // 2027-10-31: 03:00 CEST goes back to 02:00 CET; 02:30 happens twice.
        let twice = instant_at(date("2027-10-31"), time("02:30"), vienna);
        assert_eq!(twice, utc("2027-10-31T00:30:00Z"));
    }

    #[test]
    fn today_is_the_date_at_the_venue() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let now = utc("2026-12-31T20:00:00Z");
        assert_eq!(today_in(Tz::UTC, now), date("2026-12-31"));
        assert_eq!(today_in(seoul, now), date("2027-01-01"));
    }
}

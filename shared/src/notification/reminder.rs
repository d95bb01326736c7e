//! Reminders before a confirmed booking starts: which offsets (24 h and
//! 2 h by default, in minutes before the slot's start at its venue), and
//! the reminders one booking's start calls for.
//!
//! A reminder is a row of a schedule ([`super::ports::ReminderSchedule`]),
//! written when the booking is confirmed or moved and swept when due; the
//! send itself checks the booking again (still confirmed, still at that
//! start), so a cancelled, expired or moved booking gets no stale reminder.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::kernel::BookingId;

/// One reminder: `minutes_before` the booking's start at `starts_at`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reminder {
    pub booking_id: BookingId,
    pub starts_at: DateTime<Utc>,
    pub minutes_before: u32,
}

impl Reminder {
    /// When it is sent.
    pub fn due_at(&self) -> DateTime<Utc> {
        self.starts_at - Duration::minutes(i64::from(self.minutes_before))
    }
}

/// How long before a start reminders are sent: at most
/// [`ReminderOffsets::MAX`] offsets of 1 minute to 7 days, written
/// `24h,2h` or `90m` (`NOTIFY_REMINDER_OFFSETS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderOffsets(Vec<u32>);

impl ReminderOffsets {
    pub const MAX: usize = 5;
    const LONGEST_MINUTES: u32 = 7 * 24 * 60;

    /// The minutes of each offset, longest first.
    pub fn minutes(&self) -> &[u32] {
        &self.0
    }

    /// The reminders a booking starting at `starts_at` still has to come,
    /// as of `now`: an offset already past is dropped, not sent late.
    pub fn for_start(
        &self,
        booking_id: &BookingId,
        starts_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<Reminder> {
        self.0
            .iter()
            .map(|&minutes_before| Reminder {
                booking_id: booking_id.clone(),
                starts_at,
                minutes_before,
            })
            .filter(|r| r.due_at() > now)
            .collect()
    }
}

impl Default for ReminderOffsets {
    fn default() -> Self {
        Self(vec![24 * 60, 2 * 60])
    }
}

/// Why a list of offsets was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reminder offsets look like 24h,2h (1 to 5 offsets of 1m to 7d): {0}")]
pub struct BadOffsets(String);

impl FromStr for ReminderOffsets {
    type Err = BadOffsets;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| BadOffsets(why.to_owned());
        let mut minutes = Vec::new();
        for part in raw.split(',').map(str::trim) {
            let (number, unit) = part.split_at(part.len().saturating_sub(1));
            let scale = match unit {
                "m" => 1,
                "h" => 60,
                "d" => 24 * 60,
                _ => return Err(bad(&format!("{part:?} has no unit (m, h or d)"))),
            };
            let n: u32 = number
                .parse()
                .map_err(|_| bad(&format!("{part:?} is not a whole number")))?;
            let m = n
                .checked_mul(scale)
                .filter(|m| (1..=Self::LONGEST_MINUTES).contains(m))
                .ok_or_else(|| bad(&format!("{part:?} is out of range")))?;
            minutes.push(m);
        }
        minutes.sort_unstable_by(|a, b| b.cmp(a));
        minutes.dedup();
        if minutes.len() > Self::MAX {
            return Err(bad("too many offsets"));
        }
        Ok(Self(minutes))
    }
}

impl fmt::Display for ReminderOffsets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|m| {
                if m % 60 == 0 {
                    format!("{}h", m / 60)
                } else {
                    format!("{m}m")
                }
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_longest_first_and_refuse_nonsense() {
        let o: ReminderOffsets = "2h, 24h,90m".parse().unwrap();
        assert_eq!(o.minutes(), [1440, 120, 90]);
        assert_eq!(o.to_string(), "24h,2h,90m");
        assert_eq!(ReminderOffsets::default().to_string(), "24h,2h");
        assert_eq!(
            "1d,24h".parse::<ReminderOffsets>().unwrap().minutes(),
            [1440]
        );
        for bad in [
            "",
            "2",
            "0h",
            "8d",
            "h",
            "-1h",
            "2x",
            "1m,2m,3m,4m,5m,6m",
            "99999999999d",
        ] {
            assert!(bad.parse::<ReminderOffsets>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_start_gets_the_reminders_still_to_come() {
        let start: DateTime<Utc> = "2027-01-15T08:00:00Z".parse().unwrap();
        let id = BookingId::generate();
        let offsets = ReminderOffsets::default();
        let early = offsets.for_start(&id, start, start - Duration::days(3));
        assert_eq!(
            early.iter().map(Reminder::due_at).collect::<Vec<_>>(),
            [start - Duration::hours(24), start - Duration::hours(2)]
        );
        // Booked 10 hours ahead: only the 2-hour reminder is still to come.
        let late = offsets.for_start(&id, start, start - Duration::hours(10));
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].minutes_before, 120);
        assert!(
            offsets
                .for_start(&id, start, start - Duration::hours(1))
                .is_empty()
        );
    }
}

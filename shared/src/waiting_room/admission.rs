//! The admitter's rules, as pure functions: how many admissions are due
//! (a virtual clock, as GCRA keeps one), the order positions are given in
//! (the pre-queue by its lottery, then arrival), and which waiting tickets
//! one step admits or skips.

use chrono::{DateTime, Utc};

use super::Settings;
use crate::identity::UserId;

/// How much unused admission time a room may bank: after a pause, a sold
/// out spell or an admitter's restart it admits at most this much of its
/// rate at once, then evenly again.
pub const BURST_MICROS: i64 = 1_000_000;

/// The microseconds between two admissions at `rate_per_minute`.
pub fn interval_micros(rate_per_minute: u32) -> i64 {
    60_000_000 / i64::from(rate_per_minute.max(1))
}

/// The admissions due at `now` by the virtual clock `next_at` (the time
/// the next admission is due, in microseconds): at most `BURST_MICROS`
/// of credit counts, so the rate holds over any stretch of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub count: u64,
    /// The clock as it starts from: `next_at`, or the oldest time credit
    /// may reach back to.
    pub from_us: i64,
    pub interval_us: i64,
}

impl Due {
    pub fn at(rate_per_minute: u32, next_at_us: i64, now: DateTime<Utc>) -> Self {
        let now_us = now.timestamp_micros();
        let interval_us = interval_micros(rate_per_minute);
        let from_us = next_at_us.max(now_us - BURST_MICROS);
        let count = if from_us > now_us {
            0
        } else {
            ((now_us - from_us) / interval_us + 1) as u64
        };
        Self {
            count,
            from_us,
            interval_us,
        }
    }

    /// The clock after `admitted` admissions.
    pub fn after(&self, admitted: u64) -> i64 {
        self.from_us + self.interval_us * admitted as i64
    }
}

/// A ticket waiting for a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub user_id: UserId,
    pub entered_at: DateTime<Utc>,
    pub lottery: u64,
    pub prequeue: bool,
}

/// The order positions go in: the pre-queue first, shuffled (by the
/// lottery each ticket drew at entry, unknown to its holder), then by
/// arrival.
pub fn order(mut arrivals: Vec<Arrival>) -> Vec<Arrival> {
    arrivals.sort_by(|a, b| {
        b.prequeue
            .cmp(&a.prequeue)
            .then_with(|| match a.prequeue {
                true => a.lottery.cmp(&b.lottery),
                false => a.entered_at.cmp(&b.entered_at),
            })
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    arrivals
}

/// A positioned ticket still waiting, as the queue index shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: UserId,
    pub position: u64,
    pub seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Admit {
        user_id: UserId,
        position: u64,
        admission_no: u64,
    },
    /// Abandoned: skipped without using an admission.
    Skip {
        user_id: UserId,
        position: u64,
        /// The last poll, as seen when planned.
        seen_at: DateTime<Utc>,
    },
}

/// What one admission step writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The new cursor: the last position admitted or skipped.
    pub cursor: u64,
    pub admitted: u64,
}

/// Admits up to `allowed` of `candidates` in position order from just
/// after `cursor`, skipping the abandoned, in at most `max_steps` steps.
/// It stops at the first gap in positions: a ticket the index does not
/// show yet is waited for, never skipped.
pub fn plan(
    candidates: &[Candidate],
    cursor: u64,
    admitted_so_far: u64,
    allowed: u64,
    settings: &Settings,
    now: DateTime<Utc>,
    max_steps: usize,
) -> Plan {
    let mut plan = Plan {
        cursor,
        ..Plan::default()
    };
    for candidate in candidates {
        if plan.steps.len() >= max_steps || candidate.position != plan.cursor + 1 {
            break;
        }
        if now - candidate.seen_at > settings.abandon_after() {
            plan.steps.push(Step::Skip {
                user_id: candidate.user_id.clone(),
                position: candidate.position,
                seen_at: candidate.seen_at,
            });
        } else if plan.admitted < allowed {
            plan.admitted += 1;
            plan.steps.push(Step::Admit {
                user_id: candidate.user_id.clone(),
                position: candidate.position,
                admission_no: admitted_so_far + plan.admitted,
            });
        } else {
            break;
        }
        plan.cursor = candidate.position;
    }
    plan
}

/// How many more may be admitted: the rate's due count, the room under its
/// cap, and the places left beyond those the active passes may take
/// (`remaining` is `None` when the resources' inventory is not counted).
pub fn allowed(due: u64, max_active: u32, active: u64, remaining: Option<u64>) -> u64 {
    let under_cap = u64::from(max_active).saturating_sub(active);
    let by_stock = remaining.map_or(u64::MAX, |left| left.saturating_sub(active));
    due.min(under_cap).min(by_stock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 3, 1, 10, 0, 0).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            rate_per_minute: 60,
            max_active: 10,
            pass_ttl_seconds: 300,
            abandon_after_seconds: 60,
        }
    }

    fn user(n: u32) -> UserId {
        UserId::parse(&format!("0195f0a4-5000-7000-8000-{n:012}")).unwrap()
    }

    #[test]
    fn the_clock_admits_one_per_interval_and_banks_at_most_a_burst() {
        let at = now();
        // Just started: the clock is at 0, so only a burst's worth is due.
        let due = Due::at(60, 0, at);
        assert_eq!(due.count, 2, "one a second: the burst (1 s) and now");
        // On time: one due now.
        let due = Due::at(60, at.timestamp_micros(), at);
        assert_eq!(due.count, 1);
        assert_eq!(due.after(1), at.timestamp_micros() + 1_000_000);
        // Not yet.
        let due = Due::at(60, at.timestamp_micros() + 1, at);
        assert_eq!(due.count, 0);
        // A fast rate: 6,000 a minute is 100 a second.
        let due = Due::at(6000, at.timestamp_micros() - 1_000_000, at);
        assert_eq!(due.count, 101);
    }

    #[test]
    fn over_a_minute_of_ticks_the_clock_admits_the_rate() {
        let start = now();
        let mut next = start.timestamp_micros();
        let mut total = 0;
        // Ticks every 700 ms for 60 s, admitting all that is due.
        for tick in 0..=(60_000 / 700) {
            let at = start + Duration::milliseconds(tick * 700);
            let due = Due::at(90, next, at);
            total += due.count;
            next = due.after(due.count);
        }
        // 90 a minute: 89 to 91 depending on where the last tick falls.
        assert!((89..=91).contains(&total), "{total}");
    }

    #[test]
    fn the_prequeue_goes_first_in_lottery_order_then_arrival_order() {
        let at = now();
        let arrival = |n, secs, lottery, prequeue| Arrival {
            user_id: user(n),
            entered_at: at + Duration::seconds(secs),
            lottery,
            prequeue,
        };
        let ordered = order(vec![
            arrival(1, 5, 9, false),
            arrival(2, 0, 30, true),
            arrival(3, 1, 10, true),
            arrival(4, 4, 1, false),
            arrival(5, 2, 20, true),
        ]);
        let users: Vec<_> = ordered.iter().map(|a| a.user_id.clone()).collect();
        assert_eq!(users, vec![user(3), user(5), user(2), user(4), user(1)]);
    }

    #[test]
    fn a_step_admits_in_order_skips_the_abandoned_and_stops_at_a_gap() {
        let at = now();
        let candidate = |n, position, silent| Candidate {
            user_id: user(n),
            position,
            seen_at: at - Duration::seconds(silent),
        };
        let candidates = [
            candidate(1, 11, 0),
            candidate(2, 12, 61),
            candidate(3, 13, 5),
            candidate(4, 15, 0),
        ];
        let plan = plan(&candidates, 10, 7, 5, &settings(), at, 50);
        assert_eq!(
            plan.steps,
            vec![
                Step::Admit {
                    user_id: user(1),
                    position: 11,
                    admission_no: 8
                },
                Step::Skip {
                    user_id: user(2),
                    position: 12,
                    seen_at: at - Duration::seconds(61),
                },
                Step::Admit {
                    user_id: user(3),
                    position: 13,
                    admission_no: 9
                },
            ]
        );
        assert_eq!((plan.cursor, plan.admitted), (13, 2));
    }

    #[test]
    fn a_step_admits_no_more_than_allowed_and_no_more_steps_than_asked() {
        let at = now();
        let candidates: Vec<_> = (1..=5)
            .map(|n| Candidate {
                user_id: user(n),
                position: u64::from(n),
                seen_at: at,
            })
            .collect();
        let two = plan(&candidates, 0, 0, 2, &settings(), at, 50);
        assert_eq!((two.cursor, two.admitted, two.steps.len()), (2, 2, 2));
        let three_steps = plan(&candidates, 0, 0, 5, &settings(), at, 3);
        assert_eq!((three_steps.cursor, three_steps.admitted), (3, 3));
        let none = plan(&candidates, 0, 0, 0, &settings(), at, 50);
        assert_eq!(none, Plan::default());
    }

    #[test]
    fn admissions_are_held_to_the_cap_and_the_stock_beyond_active_passes() {
        assert_eq!(allowed(5, 10, 3, None), 5);
        assert_eq!(allowed(5, 10, 8, None), 2);
        assert_eq!(allowed(5, 10, 12, None), 0);
        assert_eq!(allowed(5, 10, 3, Some(4)), 1);
        assert_eq!(allowed(5, 10, 3, Some(0)), 0);
    }
}

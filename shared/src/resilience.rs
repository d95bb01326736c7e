//! Resilience for calls to a dependency outside the platform: a
//! consecutive-failures circuit breaker with a single half-open probe. (The
//! retry backoff is [`crate::retry::backoff_with_jitter`].) The card
//! gateway client uses it; so can any other HTTP dependency.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::warn;

/// When the circuit breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive transiently failed attempts that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker fails calls fast before letting a probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
        }
    }
}

/// The state of a circuit breaker, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast without reaching the dependency.
    Open,
    /// `open_for` has passed: the next call is a probe; others fail fast
    /// while it is in flight.
    HalfOpen,
}

/// A consecutive-failures circuit breaker with a single half-open probe.
///
/// Time is passed in (`now`) so the state machine is tested without sleeping.
/// The mutex is only held for a few assignments, never across an await.
pub struct Breaker {
    /// What the breaker guards, for its logs.
    name: &'static str,
    config: BreakerConfig,
    inner: Mutex<BreakerInner>,
}

struct BreakerInner {
    phase: Phase,
    /// Bumped each time the breaker closes, so the results of attempts
    /// admitted before the last opening are ignored.
    epoch: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ticket {
    Normal { epoch: u64 },
    Probe,
}

/// Leave to make one attempt. Settle it with `succeeded` or `failed`; a probe
/// dropped unsettled (its call was cancelled) frees the probe slot.
#[must_use]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    ticket: Ticket,
    settled: bool,
}

impl Permit<'_> {
    pub fn is_probe(&self) -> bool {
        self.ticket == Ticket::Probe
    }

    pub fn succeeded(mut self, now: Instant) {
        self.settled = true;
        self.breaker.record(self.ticket, true, now);
    }

    pub fn failed(mut self, now: Instant) {
        self.settled = true;
        self.breaker.record(self.ticket, false, now);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled && self.ticket == Ticket::Probe {
            self.breaker.release_probe();
        }
    }
}

impl Breaker {
    pub fn new(name: &'static str, config: BreakerConfig) -> Self {
        Self {
            name,
            config,
            inner: Mutex::new(BreakerInner {
                phase: Phase::Closed { failures: 0 },
                epoch: 0,
            }),
        }
    }

    /// A panic elsewhere cannot leave the few fields inconsistent, so a
    /// poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, BreakerInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match self.lock().phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    pub fn admit(&self, now: Instant) -> Option<Permit<'_>> {
        let (ticket, half_opened) = {
            let mut inner = self.lock();
            match inner.phase {
                Phase::Closed { .. } => (Ticket::Normal { epoch: inner.epoch }, false),
                Phase::Open { until } if now >= until => {
                    inner.phase = Phase::HalfOpen { probing: true };
                    (Ticket::Probe, true)
                }
                Phase::HalfOpen { probing: false } => {
                    inner.phase = Phase::HalfOpen { probing: true };
                    (Ticket::Probe, false)
                }
                Phase::Open { .. } | Phase::HalfOpen { probing: true } => return None,
            }
        };
        if half_opened {
            warn!(
                breaker = "half_open",
                dependency = self.name,
                "{} circuit half-open; sending one probe",
                self.name
            );
        }
        Some(Permit {
            breaker: self,
            ticket,
            settled: false,
        })
    }

    fn record(&self, ticket: Ticket, success: bool, now: Instant) {
        let threshold = self.config.failure_threshold.max(1);
        let transition = {
            let mut inner = self.lock();
            match (ticket, inner.phase) {
                (Ticket::Probe, Phase::HalfOpen { .. }) if success => {
                    inner.phase = Phase::Closed { failures: 0 };
                    inner.epoch += 1;
                    Some("closed: the probe succeeded")
                }
                (Ticket::Probe, Phase::HalfOpen { .. }) => {
                    inner.phase = Phase::Open {
                        until: now + self.config.open_for,
                    };
                    Some("re-opened: the probe failed")
                }
                (Ticket::Normal { epoch }, Phase::Closed { .. })
                    if epoch == inner.epoch && success =>
                {
                    inner.phase = Phase::Closed { failures: 0 };
                    None
                }
                (Ticket::Normal { epoch }, Phase::Closed { failures }) if epoch == inner.epoch => {
                    let failures = failures + 1;
                    if failures >= threshold {
                        inner.phase = Phase::Open {
                            until: now + self.config.open_for,
                        };
                        Some("opened: too many consecutive failures")
                    } else {
                        inner.phase = Phase::Closed { failures };
                        None
                    }
                }
                // An attempt admitted before the breaker last opened.
                _ => None,
            }
        };
        if let Some(transition) = transition {
            crate::telemetry::breaker(self.name, !transition.starts_with("closed"));
            warn!(
                open_for_ms = self.config.open_for.as_millis(),
                failure_threshold = threshold,
                dependency = self.name,
                "{} circuit {transition}",
                self.name
            );
        }
    }

    fn release_probe(&self) {
        let mut inner = self.lock();
        if inner.phase == (Phase::HalfOpen { probing: true }) {
            inner.phase = Phase::HalfOpen { probing: false };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32) -> Breaker {
        Breaker::new(
            "test",
            BreakerConfig {
                failure_threshold: threshold,
                open_for: Duration::from_secs(10),
            },
        )
    }

    fn fail(breaker: &Breaker, now: Instant) {
        breaker.admit(now).unwrap().failed(now);
    }

    #[test]
    fn it_opens_after_the_threshold_of_consecutive_failures() {
        let (breaker, t0) = (breaker(3), Instant::now());
        fail(&breaker, t0);
        fail(&breaker, t0);
        assert_eq!(breaker.state(t0), BreakerState::Closed);

        fail(&breaker, t0);

        assert_eq!(breaker.state(t0), BreakerState::Open);
        assert!(breaker.admit(t0 + Duration::from_secs(9)).is_none());
    }

    #[test]
    fn a_success_resets_the_count_of_failures() {
        let (breaker, t0) = (breaker(2), Instant::now());
        fail(&breaker, t0);
        breaker.admit(t0).unwrap().succeeded(t0);

        fail(&breaker, t0);

        assert_eq!(breaker.state(t0), BreakerState::Closed);
    }

    #[test]
    fn after_open_for_exactly_one_probe_is_admitted() {
        let (breaker, t0) = (breaker(1), Instant::now());
        fail(&breaker, t0);
        let later = t0 + Duration::from_secs(10);

        let probe = breaker.admit(later).unwrap();

        assert!(probe.is_probe());
        assert!(breaker.admit(later).is_none());
        probe.succeeded(later);
        assert_eq!(breaker.state(later), BreakerState::Closed);
        assert!(breaker.admit(later).is_some_and(|p| !p.is_probe()));
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_open_for() {
        let (breaker, t0) = (breaker(1), Instant::now());
        fail(&breaker, t0);
        let probe_time = t0 + Duration::from_secs(15);

        fail(&breaker, probe_time);

        assert_eq!(
            breaker.state(probe_time + Duration::from_secs(9)),
            BreakerState::Open
        );
        assert_eq!(
            breaker.state(probe_time + Duration::from_secs(10)),
            BreakerState::HalfOpen
        );
    }

    #[test]
    fn a_cancelled_probe_frees_the_probe_slot() {
        let (breaker, t0) = (breaker(1), Instant::now());
        fail(&breaker, t0);
        let later = t0 + Duration::from_secs(10);

        drop(breaker.admit(later).unwrap());

        assert!(breaker.admit(later).is_some_and(|p| p.is_probe()));
    }

    #[test]
    fn results_of_attempts_admitted_before_it_opened_are_ignored() {
        let (breaker, t0) = (breaker(1), Instant::now());
        let stale_success = breaker.admit(t0).unwrap();
        let stale_failure = breaker.admit(t0).unwrap();
        fail(&breaker, t0);
        let later = t0 + Duration::from_secs(10);
        let probe = breaker.admit(later).unwrap();

        stale_success.succeeded(later);
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        probe.succeeded(later);
        stale_failure.failed(later);

        assert_eq!(breaker.state(later), BreakerState::Closed);
    }
}

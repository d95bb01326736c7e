//! Retry timing shared by adapters: exponential backoff with full jitter.

use std::time::Duration;

/// The delay before retry number `attempt` (0-based): a random duration in
/// `[0, min(cap, base * 2^attempt)]`, so retrying clients spread out.
pub fn backoff_with_jitter(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_never_exceeds_its_cap() {
        let cap = Duration::from_millis(500);
        for attempt in 0..40 {
            assert!(backoff_with_jitter(attempt, Duration::from_millis(50), cap) <= cap);
        }
    }

    #[test]
    fn backoff_grows_with_the_attempt_number() {
        let base = Duration::from_millis(10);
        let cap = Duration::from_secs(60);
        assert!(backoff_with_jitter(0, base, cap) <= base);
        let late: Duration = (0..50)
            .map(|_| backoff_with_jitter(8, base, cap))
            .max()
            .unwrap();
        assert!(late > base, "{late:?}");
    }
}

//! What a cancellation gives back: the share of the price by the refund
//! policy, and the quote `GET /bookings/{booking_id}` shows before the
//! customer decides.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Booking, BookingStatus, rules};
use crate::payment::{Payment, RefundPolicy};

/// The share of the price a cancellation at `now` gives back: all of it for
/// a booking that was never confirmed (nothing was consumed), else what
/// `policy` gives for the notice left before `starts_at`.
pub fn cancellation_refund_percent(
    status: BookingStatus,
    starts_at: DateTime<Utc>,
    policy: &RefundPolicy,
    now: DateTime<Utc>,
) -> u32 {
    match status {
        BookingStatus::Confirmed => policy.percent(starts_at, now),
        _ => 100,
    }
}

/// What cancelling a booking now would give back, as
/// `GET /bookings/{booking_id}` quotes it before the customer decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationQuote {
    pub refund_percent: u32,
    pub refund_cents: u64,
    /// The refund policy the percentage comes from, like `72h=100,24h=50`.
    pub policy: String,
}

/// What cancelling `booking` at `now` would refund, worked out as the
/// cancel and the payment refunder do it: the share
/// [`cancellation_refund_percent`] gives, of what its `payment` took
/// ([`crate::payment::refund_cents`]). A booking that asked for no payment,
/// or whose payment is not recorded yet (the refunder voids it), gets
/// nothing back. `None` for a booking that can no longer be cancelled.
pub fn cancellation_quote(
    booking: &Booking,
    payment: Option<&Payment>,
    policy: &RefundPolicy,
    now: DateTime<Utc>,
) -> Option<CancellationQuote> {
    rules::check_cancellable(booking.status).ok()?;
    let refund_percent =
        cancellation_refund_percent(booking.status, booking.starts_at.to_utc(), policy, now);
    let refund_cents = payment
        .filter(|_| booking.payment.is_some())
        .map_or(0, |p| crate::payment::refund_cents(p, refund_percent));
    Some(CancellationQuote {
        refund_percent,
        refund_cents,
        policy: policy.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::SlotId;
    use crate::clock::{Clock, FixedClock};
    use crate::payment::PaymentMethod;
    use chrono::Duration;
    use chrono::NaiveTime;
    use chrono_tz::Tz;

    fn slot(raw: &str) -> SlotId {
        SlotId::parse(&format!("{}@{raw}", uuid::Uuid::now_v7())).unwrap()
    }

    fn percent(status: BookingStatus, starts_at: DateTime<Utc>, clock: &impl Clock) -> u32 {
        cancellation_refund_percent(status, starts_at, &RefundPolicy::default(), clock.now())
    }

    #[test]
    fn a_confirmed_booking_is_refunded_in_full_from_exactly_72_hours_before() {
        let start = crate::clock::instant_at(
            slot("2027-05-14T08:00").date,
            slot("2027-05-14T08:00").start,
            Tz::UTC,
        );
        let clock = FixedClock::at(start - Duration::hours(72));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 100);
        clock.advance(Duration::minutes(1));
        assert_eq!(
            percent(BookingStatus::Confirmed, start, &clock),
            50,
            "71 h 59 min"
        );
        clock.set(start - Duration::hours(24));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 50);
        clock.advance(Duration::milliseconds(1));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 0);
        clock.set(start + Duration::hours(1));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 0);
    }

    #[test]
    fn a_booking_never_confirmed_is_refunded_in_full_whenever_it_ends() {
        let start = crate::clock::instant_at(
            slot("2027-05-14T08:00").date,
            slot("2027-05-14T08:00").start,
            Tz::UTC,
        );
        let clock = FixedClock::at(start - Duration::minutes(5));
        for status in [BookingStatus::Pending, BookingStatus::Failed] {
            assert_eq!(percent(status, start, &clock), 100, "{status:?}");
        }
    }

    #[test]
    fn a_quote_is_the_policys_share_of_what_the_payment_took_rounded_down() {
        // Given a confirmed booking paid 99.99, 32 hours before its start.
        let mut booking = crate::testing::booking::booking();
        booking.status = BookingStatus::Confirmed;
        booking.payment = Some(PaymentMethod::Wallet);
        let now = booking.starts_at.to_utc() - Duration::hours(32);
        let paid = crate::payment::new_payment(
            &booking.id,
            &booking.user_id,
            PaymentMethod::Wallet,
            9_999,
            now,
        );
        let policy = RefundPolicy::default();
        let quote = cancellation_quote(&booking, Some(&paid), &policy, now).unwrap();
        assert_eq!(
            quote,
            CancellationQuote {
                refund_percent: 50,
                refund_cents: 4_999,
                policy: "72h=100,24h=50".into(),
            }
        );
        // A hold whose payment is not recorded yet gets all of nothing.
        booking.status = BookingStatus::Pending;
        let quote = cancellation_quote(&booking, None, &policy, now).unwrap();
        assert_eq!((quote.refund_percent, quote.refund_cents), (100, 0));
        for ended in [
            BookingStatus::Cancelled,
            BookingStatus::Expired,
            BookingStatus::Failed,
        ] {
            booking.status = ended;
            assert_eq!(
                cancellation_quote(&booking, Some(&paid), &policy, now),
                None,
                "{ended:?}"
            );
        }
    }

    #[test]
    fn the_notice_is_counted_in_real_hours_across_a_dst_change_at_the_venue() {
        // Vienna springs forward on 2027-03-28 (02:00 CET -> 03:00 CEST):
        // 08:00 CEST on the 29th is 06:00 UTC, so 72 real hours before is
        // 07:00 CET on the 26th, not 08:00 as wall clocks would suggest.
        let vienna: Tz = "Europe/Vienna".parse().unwrap();
        let start = crate::clock::instant_at(
            slot("2027-03-29T08:00").date,
            slot("2027-03-29T08:00").start,
            vienna,
        );
        let wall = |raw: &str| {
            crate::clock::instant_at(
                "2027-03-26".parse().unwrap(),
                NaiveTime::parse_from_str(raw, "%H:%M").unwrap(),
                vienna,
            )
        };
        let clock = FixedClock::at(wall("07:00"));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 100);
        clock.set(wall("07:01"));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 50);
        // And in autumn (2027-10-31, 03:00 CEST -> 02:00 CET) a day has
        // 25 hours: 72 real hours before 08:00 CET on 1 November is 09:00
        // CEST on 29 October.
        let start = crate::clock::instant_at(
            slot("2027-11-01T08:00").date,
            slot("2027-11-01T08:00").start,
            vienna,
        );
        let on_29th = |raw: &str| {
            crate::clock::instant_at(
                "2027-10-29".parse().unwrap(),
                NaiveTime::parse_from_str(raw, "%H:%M").unwrap(),
                vienna,
            )
        };
        clock.set(on_29th("09:00"));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 100);
        clock.set(on_29th("09:01"));
        assert_eq!(percent(BookingStatus::Confirmed, start, &clock), 50);
    }
}

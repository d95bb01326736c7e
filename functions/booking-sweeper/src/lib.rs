//! The hold sweeper: on a schedule, finds PENDING bookings whose hold has
//! run out (the sparse GSI2 index holds only live holds) and expires each,
//! giving its places back. The expiry is conditional on the booking still
//! being PENDING with its hold run out, so a payment or a cancel that wins
//! the race leaves it alone, and capacity is given back exactly once.
//! "Now" is the scheduled event's `time`.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::SubsecRound;
use lambda_runtime::LambdaEvent;
use shared::CorrelationId;
use shared::booking::ports::BookingStore;
pub use shared::booking::service::Sweep;

/// The most holds one run expires; the next run takes the rest.
pub const BATCH: usize = 200;

pub async fn handle(
    bookings: &impl BookingStore,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<Sweep, lambda_runtime::Error> {
    // The schedule's own time, not the clock: a run judges holds as of the
    // moment it was scheduled for, and a test can sweep "an hour from now".
    let now = event.payload.time.trunc_subsecs(3);
    let sweep =
        shared::booking::service::expire_lapsed(bookings, now, BATCH, &CorrelationId::generate())
            .await?;
    tracing::info!(expired = sweep.expired, skipped = sweep.skipped, request_id = %event.context.request_id, "sweep done");
    Ok(sweep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::booking::BookingStatus;
    use shared::booking::ports::BookingReader;
    use shared::identity::UserId;
    use shared::testing::booking::{at, booked, hold, over_course};
    use shared::testing::catalog::slot;

    const FIXTURE: &str = include_str!("../../../events/booking-sweeper/scheduled-event.json");

    fn scheduled(time: Option<&str>) -> LambdaEvent<CloudWatchEvent> {
        let mut event: CloudWatchEvent = serde_json::from_str(FIXTURE).unwrap();
        if let Some(time) = time {
            event.time = time.parse().unwrap();
        }
        LambdaEvent::new(event, lambda_runtime::Context::default())
    }

    #[tokio::test]
    async fn a_lapsed_hold_expires_and_gives_its_places_back_and_a_live_one_stays() {
        let bookings = over_course().await;
        // Held at 09:30 and 09:50: their holds run out at 09:45 and 10:05,
        // and the fixture's sweep runs at 10:00.
        let lapsed = hold(&bookings, &UserId::generate(), &slot(), 2, at(0)).await;
        let live = hold(&bookings, &UserId::generate(), &slot(), 1, at(20)).await;
        let sweep = handle(&bookings, scheduled(None)).await.unwrap();
        assert_eq!(
            sweep,
            Sweep {
                expired: 1,
                skipped: 0
            }
        );
        let status = |b: &shared::booking::Booking| {
            let id = b.id.clone();
            let bookings = &bookings;
            async move { bookings.get(&id).await.unwrap().unwrap().status }
        };
        assert_eq!(status(&lapsed).await, BookingStatus::Expired);
        assert_eq!(status(&live).await, BookingStatus::Pending);
        assert_eq!(booked(&bookings, &slot()).await, 1);
        let expired = bookings.events().pop().unwrap();
        assert_eq!(expired.event_type.as_str(), "BookingExpired");
        assert_eq!(expired.data["refund_percent"], 100);
    }

    #[tokio::test]
    async fn a_second_sweep_gives_nothing_back_twice() {
        let bookings = over_course().await;
        hold(&bookings, &UserId::generate(), &slot(), 2, at(0)).await;
        assert_eq!(handle(&bookings, scheduled(None)).await.unwrap().expired, 1);
        let again = handle(&bookings, scheduled(Some("2027-01-10T10:01:00Z")))
            .await
            .unwrap();
        assert_eq!(again, Sweep::default());
        assert_eq!(booked(&bookings, &slot()).await, 0);
    }

    #[tokio::test]
    async fn a_sweep_before_any_hold_ran_out_expires_nothing() {
        let bookings = over_course().await;
        hold(&bookings, &UserId::generate(), &slot(), 2, at(0)).await;
        let early = handle(&bookings, scheduled(Some("2027-01-10T09:44:59Z")))
            .await
            .unwrap();
        assert_eq!(early, Sweep::default());
        assert_eq!(booked(&bookings, &slot()).await, 2);
    }
}

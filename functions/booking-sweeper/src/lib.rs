//! The hold sweeper: on a schedule, finds PENDING bookings whose hold has
//! run out (the sparse GSI2 index holds only live holds) and expires each,
//! giving its places back: pages of 200, 16 at once, for up to 45 seconds
//! of its 60, so a minute's 10,000 lapsed holds are released by the next
//! run. The expiry is conditional on the booking still
//! being PENDING with its hold run out, so a payment or a cancel that wins
//! the race leaves it alone, and capacity is given back exactly once.
//! "Now" is the scheduled event's `time`.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::SubsecRound;
use lambda_runtime::LambdaEvent;
use shared::CorrelationId;
use shared::booking::ports::BookingStore;
pub use shared::booking::service::{Sweep, SweepPlan};

/// How one run works: the next run takes whatever is left. Runs start a
/// minute apart (template.yaml) and may take 60 s: 50 s of pages leaves
/// the last page and the start-up time to spare. At the local cloud's
/// 200-odd releases a second (`sweep-throughput` bench) one run clears
/// 10,000 lapsed holds, so a hold is released within two minutes of its
/// expiry: at most a minute until the next run, then its turn in it.
pub const PLAN: SweepPlan = SweepPlan {
    page: 200,
    parallel: 16,
    budget: std::time::Duration::from_secs(50),
};

pub async fn handle(
    bookings: &impl BookingStore,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<Sweep, lambda_runtime::Error> {
    // The schedule's own time, not the clock: a run judges holds as of the
    // moment it was scheduled for, and a test can sweep "an hour from now".
    let now = event.payload.time.trunc_subsecs(3);
    let sweep =
        shared::booking::service::expire_lapsed(bookings, now, &PLAN, &CorrelationId::generate())
            .await?;
    tracing::info!(expired = sweep.expired, skipped = sweep.skipped, deferred = sweep.deferred, request_id = %event.context.request_id, "sweep done");
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
                ..Sweep::default()
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
    async fn one_run_expires_page_after_page_of_lapsed_holds() {
        let catalog = std::sync::Arc::new(shared::adapters::memory::MemoryCatalog::default());
        shared::testing::catalog::course(&catalog).await;
        let pattern: shared::catalog::GenerationRequest = serde_json::from_str(
            r#"{"from":"2027-01-15","to":"2027-01-15","start_times":["08:00"],
                "duration_minutes":10,"capacity":1000,
                "prices":{"weekday":5000,"weekend":7000,"holiday":9000}}"#,
        )
        .unwrap();
        let resource =
            shared::catalog::ResourceId::parse(shared::testing::catalog::RESOURCE).unwrap();
        let slots = pattern.slots(&resource).unwrap();
        let announce = shared::catalog::events::SlotsGenerated {
            resource_id: resource,
            from: pattern.from,
            to: pattern.to,
            requested: 1,
            by: "test".into(),
            created: 0,
            skipped: 0,
            part: 1,
            parts: 1,
        };
        use shared::catalog::ports::SlotStore;
        catalog
            .generate(
                &slots,
                &announce,
                &|_| Ok(shared::testing::catalog::activity()),
                &CorrelationId::generate(),
            )
            .await
            .unwrap();
        let bookings = shared::adapters::memory::MemoryBookings::over(catalog);
        for _ in 0..(PLAN.page * 2 + 50) {
            hold(&bookings, &UserId::generate(), &slot(), 1, at(0)).await;
        }
        let sweep = handle(&bookings, scheduled(None)).await.unwrap();
        assert_eq!(sweep.expired, PLAN.page * 2 + 50, "one run, three pages");
        assert_eq!(booked(&bookings, &slot()).await, 0);
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

//! The admitter: started every minute by its schedule, it runs one tick
//! a second for `run_seconds` (60 by default, so runs meet; a scheduled
//! event's `detail` may ask for fewer). Each tick moves every live room on
//! ([`shared::waiting_room::service::tick`]); each of its writes is
//! conditional on the room's version, so two runs at once, or a run
//! killed mid-tick, never admit twice nor skip anyone.

use std::time::Duration;

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use lambda_runtime::LambdaEvent;
use shared::CorrelationId;
use shared::clock::Clock;
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::service::{self, TickReport};

/// How long one run ticks, at most.
pub const RUN_SECONDS: u64 = 60;
const TICK: Duration = Duration::from_secs(1);

pub async fn handle(
    rooms: &impl WaitingRooms,
    clock: &impl Clock,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<TickReport, lambda_runtime::Error> {
    let run = event
        .payload
        .detail
        .as_ref()
        .and_then(|d| d.get("run_seconds"))
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(RUN_SECONDS)
        .clamp(1, RUN_SECONDS);
    let started = tokio::time::Instant::now();
    let correlation_id = CorrelationId::generate();
    let mut total = TickReport::default();
    while started.elapsed() < Duration::from_secs(run) {
        let begun = tokio::time::Instant::now();
        match service::tick(rooms, &correlation_id, clock.now()).await {
            Ok(r) => {
                total.rooms = r.rooms;
                total.positioned += r.positioned;
                total.admitted += r.admitted;
                total.skipped += r.skipped;
                total.expired += r.expired;
                total.lost += r.lost;
                total.failed += r.failed;
            }
            // One failed tick (a throttle, an emulator pause) is retried by
            // the next; the conditions keep the room consistent.
            Err(e) => tracing::warn!(error = %e, "admitter tick failed"),
        }
        tokio::time::sleep(TICK.saturating_sub(begun.elapsed())).await;
    }
    tracing::info!(?total, request_id = %event.context.request_id, "admitter run done");
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::clock::FixedClock;
    use shared::identity::{Caller, Role, UserId};
    use shared::testing::waiting_room::{ROOM, fixture_room, passes};
    use shared::waiting_room::{RoomId, TicketState};

    const FIXTURE: &str =
        include_str!("../../../events/waiting-room-admitter/scheduled-event.json");

    #[tokio::test(start_paused = true)]
    async fn a_run_ticks_each_second_for_the_seconds_asked_and_admits_at_the_rate() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, room) = fixture_room(clock.now()).await;
        for _ in 0..5 {
            let caller = Caller::new(UserId::generate(), Role::User);
            service::enter(&rooms, &passes(), &caller, &room.id, clock.now())
                .await
                .unwrap();
        }
        clock.advance(chrono::Duration::seconds(1));
        let event: CloudWatchEvent = serde_json::from_str(FIXTURE).unwrap();
        assert_eq!(event.detail.as_ref().unwrap()["run_seconds"], 3);
        let report = handle(
            &rooms,
            &clock,
            LambdaEvent::new(event, lambda_runtime::Context::default()),
        )
        .await
        .unwrap();
        // The fixed clock stands still: three ticks at one instant admit
        // one second's credit (two at one a second), once.
        assert_eq!(
            (report.rooms, report.positioned, report.admitted),
            (1, 5, 2)
        );
        let admitted = rooms
            .tickets(&RoomId::parse(ROOM).unwrap())
            .iter()
            .filter(|t| t.state == TicketState::Admitted)
            .count();
        assert_eq!(admitted, 2);
    }
}

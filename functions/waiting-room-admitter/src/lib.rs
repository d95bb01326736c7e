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
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::service::{self, TickReport};

/// How long one run ticks, at most.
pub const RUN_SECONDS: u64 = 60;
const TICK: Duration = Duration::from_secs(1);

pub async fn handle(
    rooms: &impl WaitingRooms,
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
        match service::tick(rooms, &correlation_id, chrono::Utc::now()).await {
            Ok(r) => {
                total.rooms = r.rooms;
                total.positioned += r.positioned;
                total.admitted += r.admitted;
                total.skipped += r.skipped;
                total.expired += r.expired;
                total.lost += r.lost;
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

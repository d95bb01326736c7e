//! The hold sweeper: on a schedule, finds PENDING bookings whose hold has
//! run out (the sparse GSI2 index holds only live holds) and expires each,
//! giving its places back. The expiry is conditional on the booking still
//! being PENDING with its hold run out, so a payment or a cancel that wins
//! the race leaves it alone, and capacity is given back exactly once.
//! "Now" is the scheduled event's `time`.

use aws_lambda_events::event::cloudwatch_events::CloudWatchEvent;
use chrono::SubsecRound;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use shared::adapters::dynamo::booking::{DynamoBookings, Release};
use shared::booking::BookingStatus;
use shared::booking::events::EndedAs;
use shared::{AppError, CorrelationId};

/// The most holds one run expires; the next run takes the rest.
pub const BATCH: usize = 200;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Holds another writer (payment, cancel, a parallel sweep) moved first.
    pub skipped: usize,
}

pub async fn handle(
    store: &DynamoBookings,
    event: LambdaEvent<CloudWatchEvent>,
) -> Result<Sweep, lambda_runtime::Error> {
    // The schedule's own time, not the clock: a run judges holds as of the
    // moment it was scheduled for, and a test can sweep "an hour from now".
    let now = event.payload.time.trunc_subsecs(3);
    let correlation_id = CorrelationId::generate();
    let mut sweep = Sweep::default();
    let release = Release {
        from: &[BookingStatus::Pending],
        to: BookingStatus::Expired,
        by: "sweeper",
        reason: "the hold expired unpaid",
        ended_as: EndedAs::Expired,
        correlation_id: &correlation_id,
        now,
        refund_percent: 100,
    };
    for booking in store.expired_holds(now, BATCH).await? {
        let result = store.release(&booking, &release).await;
        match result {
            Ok(_) => sweep.expired += 1,
            Err(AppError::Conflict { .. }) => sweep.skipped += 1,
            Err(other) => return Err(other.into()),
        }
    }
    tracing::info!(expired = sweep.expired, skipped = sweep.skipped, request_id = %event.context.request_id, "sweep done");
    Ok(sweep)
}

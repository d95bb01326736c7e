//! The admitter's tick over every live room: lapsed passes freed, new
//! tickets positioned (the pre-queue in its lottery's order first), the
//! sold-out flag set from the inventory, the admissions due made in order
//! under the cap and the stock, and once a minute the room's figures.
//! Every write is conditional on the room's version: a lost one is read
//! again on the next tick.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::admission::{self, Due, Step};
use super::events::{UserAdmitted, WaitingRoomFigures};
use super::ports::{Admission, Advance, WaitingRooms};
use super::service::{
    ADMIT_BATCH, EXPIRE_BATCH, EXPIRY_GRACE_SECONDS, OPENING_GRACE_SECONDS, POSITION_BATCH, figures,
};
use super::{Progress, Room, RoomStatus};
use crate::{AppError, CorrelationId, EventEnvelope};

/// What one tick did, over every live room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TickReport {
    pub rooms: usize,
    pub positioned: u64,
    pub admitted: u64,
    pub skipped: u64,
    pub expired: u64,
    /// Writes lost to another admitter (each is read again next tick).
    pub lost: u64,
    /// Rooms whose step failed (each is tried again next tick).
    pub failed: u64,
}

/// One step of the admitter over every room not closed: lapsed passes
/// freed, new tickets positioned, the sold-out flag set from the
/// inventory, the admissions due made, and once a minute the figures.
/// A room whose step fails is logged and tried again next tick; the rooms
/// after it still move (its writes are conditional, so what it left done
/// is consistent).
pub async fn tick(
    rooms: &impl WaitingRooms,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<TickReport, AppError> {
    let mut report = TickReport::default();
    for (room, progress) in rooms.live().await? {
        report.rooms += 1;
        if let Err(e) = step(rooms, &room, progress, correlation_id, now, &mut report).await {
            tracing::warn!(room_id = %room.id, error = %e, "a waiting room's step failed");
            report.failed += 1;
        }
    }
    Ok(report)
}

async fn step(
    rooms: &impl WaitingRooms,
    room: &Room,
    mut progress: Progress,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<(), AppError> {
    expire(rooms, room, now, report).await?;
    if !position(rooms, room, &mut progress, now, report).await? {
        return Ok(());
    }
    let from = room.time_zone.local(now).date_naive();
    let remaining = rooms.remaining(room, from).await?;
    if !admit(rooms, room, &mut progress, remaining, now, report).await? {
        return Ok(());
    }
    let minute = now.timestamp().div_euclid(60);
    if minute > progress.figures_minute {
        let done = rooms.done(&room.id).await?;
        let f = figures(&progress, done);
        let event = EventEnvelope::of(
            &WaitingRoomFigures {
                room_id: room.id.clone(),
                minute: now.duration_trunc(Duration::minutes(1)).unwrap_or(now),
                waiting: f.waiting,
                admitted: f.admitted,
                active: f.active,
                sold_out: f.sold_out,
                status: room.status.as_str().into(),
                rate_per_minute: room.settings.rate_per_minute,
            },
            correlation_id.clone(),
        )
        .map_err(|e| AppError::internal("encoding WaitingRoomFigures", e))?;
        let next = Progress {
            version: progress.version + 1,
            figures_minute: minute,
            ..progress
        };
        if !rooms
            .advance(&room.id, progress.version, &next, Advance::Figures(&event))
            .await?
        {
            report.lost += 1;
        }
    }
    Ok(())
}

/// Frees the places of passes that lapsed unused.
async fn expire(
    rooms: &impl WaitingRooms,
    room: &Room,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<(), AppError> {
    let before = now - Duration::seconds(EXPIRY_GRACE_SECONDS);
    let lapsed = rooms.lapsed(&room.id, before, EXPIRE_BATCH * 4).await?;
    for chunk in lapsed.chunks(EXPIRE_BATCH) {
        if rooms.expire(&room.id, chunk).await? {
            report.expired += chunk.len() as u64;
        } else {
            // One was used meanwhile: the others, one at a time.
            for one in chunk {
                if rooms.expire(&room.id, std::slice::from_ref(one)).await? {
                    report.expired += 1;
                }
            }
        }
    }
    Ok(())
}

/// Gives new tickets their positions: at the opening the whole pre-queue
/// (in its lottery's order) before anyone else, then by arrival. `false`
/// when another admitter moved the room first.
async fn position(
    rooms: &impl WaitingRooms,
    room: &Room,
    progress: &mut Progress,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<bool, AppError> {
    let opening = room.sale_opens_at;
    if opening.is_some_and(|at| now < at + Duration::seconds(OPENING_GRACE_SECONDS)) {
        return Ok(true);
    }
    // The whole pre-queue is read before any of it gets a position, so its
    // order is its lottery's, not its arrival's.
    let (before, limit) = match (progress.prequeue_done, opening) {
        (false, Some(at)) => (Some(at), usize::MAX),
        _ => (None, POSITION_BATCH * 10),
    };
    let arrivals = admission::order(rooms.arrivals(&room.id, before, limit).await?);
    let chunks: Vec<_> = arrivals.chunks(POSITION_BATCH).collect();
    if chunks.is_empty() && !progress.prequeue_done {
        let next = Progress {
            version: progress.version + 1,
            prequeue_done: true,
            ..*progress
        };
        if !rooms
            .advance(&room.id, progress.version, &next, Advance::Position(&[]))
            .await?
        {
            report.lost += 1;
            return Ok(false);
        }
        *progress = next;
    }
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let batch: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(k, a)| (a.user_id.clone(), progress.sequenced + k as u64 + 1))
            .collect();
        let next = Progress {
            version: progress.version + 1,
            sequenced: progress.sequenced + batch.len() as u64,
            prequeue_done: progress.prequeue_done || i == last,
            ..*progress
        };
        if !rooms
            .advance(&room.id, progress.version, &next, Advance::Position(&batch))
            .await?
        {
            report.lost += 1;
            return Ok(false);
        }
        report.positioned += batch.len() as u64;
        *progress = next;
    }
    Ok(true)
}

/// Admits what is due, in order, under the cap and the stock; sets the
/// sold-out flag. `false` when another admitter moved the room first.
async fn admit(
    rooms: &impl WaitingRooms,
    room: &Room,
    progress: &mut Progress,
    remaining: Option<u64>,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<bool, AppError> {
    let sold_out = remaining == Some(0);
    let running = room.status == RoomStatus::Open && room.sale_open(now);
    let mut due = Due::at(
        room.settings.rate_per_minute,
        progress.next_admit_at_us,
        now,
    );
    if !running || sold_out {
        due.count = 0;
    }
    let done = rooms.done(&room.id).await?;
    let mut budget = due.count;
    let mut admitted_now = 0;
    loop {
        let active = progress.admitted.saturating_sub(done);
        let allowed = admission::allowed(budget, room.settings.max_active, active, remaining);
        let candidates = if running && !sold_out {
            rooms
                .queue(&room.id, progress.cursor, ADMIT_BATCH + 10)
                .await?
        } else {
            Vec::new()
        };
        let plan = admission::plan(
            &candidates,
            progress.cursor,
            progress.admitted,
            allowed,
            &room.settings,
            now,
            ADMIT_BATCH,
        );
        admitted_now += plan.admitted;
        let next = Progress {
            version: progress.version + 1,
            cursor: plan.cursor,
            admitted: progress.admitted + plan.admitted,
            // The clock runs only while admissions are possible.
            next_admit_at_us: if due.count > 0 {
                due.after(admitted_now)
            } else {
                progress.next_admit_at_us.max(now.timestamp_micros())
            },
            sold_out,
            ..*progress
        };
        if plan.steps.is_empty() && next.sold_out == progress.sold_out {
            return Ok(true);
        }
        let mut admissions = Vec::new();
        let mut skipped = Vec::new();
        let expires = now + room.settings.pass_ttl();
        for step in &plan.steps {
            match step {
                Step::Admit {
                    user_id,
                    position,
                    admission_no,
                } => {
                    let event = EventEnvelope::of(
                        &UserAdmitted {
                            room_id: room.id.clone(),
                            user_id: user_id.clone(),
                            position: *position,
                            admission_no: *admission_no,
                            pass_expires_at: expires,
                        },
                        CorrelationId::generate(),
                    )
                    .map_err(|e| AppError::internal("encoding UserAdmitted", e))?;
                    admissions.push(Admission {
                        user_id: user_id.clone(),
                        position: *position,
                        admission_no: *admission_no,
                        pass_id: uuid::Uuid::new_v4().to_string(),
                        pass_expires_at: expires,
                        event,
                    });
                }
                Step::Skip {
                    user_id, seen_at, ..
                } => skipped.push((user_id.clone(), *seen_at)),
            }
        }
        let advance = if plan.steps.is_empty() {
            Advance::Nothing
        } else {
            Advance::Admit {
                admitted: &admissions,
                skipped: &skipped,
            }
        };
        if !rooms
            .advance(&room.id, progress.version, &next, advance)
            .await?
        {
            report.lost += 1;
            return Ok(false);
        }
        report.admitted += plan.admitted;
        crate::telemetry::admitted(plan.admitted);
        report.skipped += skipped.len() as u64;
        *progress = next;
        budget -= plan.admitted;
        // A full step may have more behind it.
        if plan.steps.len() < ADMIT_BATCH || budget == 0 {
            return Ok(true);
        }
    }
}

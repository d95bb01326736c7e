//! The waiting room's use cases, generic over [`WaitingRooms`] and the
//! catalog: an admin creates, changes, pauses and closes rooms; a customer
//! enters and polls; the admitter's [`tick`] moves every live room on.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::admission::{self, Due, Step};
use super::events::{UserAdmitted, WaitingRoomFigures};
use super::pass::{Pass, PassKeys};
use super::ports::{Admission, Advance, WaitingRooms};
use super::{
    CreateRoomRequest, Figures, Gate, Progress, Room, RoomId, RoomStatus, RoomView, Status, Ticket,
    TicketState, UpdateRoomRequest,
};
use crate::catalog::ports::{ResourceStore, VenueStore};
use crate::catalog::service::venue_of;
use crate::identity::events::AdminActivity;
use crate::identity::{Caller, Permission};
use crate::{AppError, CorrelationId, EventEnvelope};

/// Positions given per transaction (one item is the room's).
pub const POSITION_BATCH: usize = 99;
/// Admissions per transaction: each writes the ticket and its event.
pub const ADMIT_BATCH: usize = 40;
/// Lapsed passes expired per transaction (the ticket and the count).
pub const EXPIRE_BATCH: usize = 49;
/// A pass is freed this long after it lapsed, so a booking that verified it
/// just in time still finds it.
pub const EXPIRY_GRACE_SECONDS: i64 = 5;
/// The pre-queue gets its positions this long after the opening, so every
/// entry made before it is in the index.
pub const OPENING_GRACE_SECONDS: i64 = 2;
/// How often an admin's change is tried against the admitter's writes.
const UPDATE_ATTEMPTS: usize = 5;
/// How often a poll records that the user is still there, at most.
const TOUCH_EVERY_SECONDS: i64 = 5;

fn not_found(id: &RoomId) -> AppError {
    AppError::NotFound {
        code: "ROOM_NOT_FOUND",
        what: format!("the waiting room {id}"),
    }
}

fn closed(id: &RoomId) -> AppError {
    AppError::conflict("ROOM_CLOSED", format!("the waiting room {id} is closed"))
}

fn moved() -> AppError {
    AppError::conflict(
        "ROOM_CHANGED",
        "the waiting room changed while this request ran: try again",
    )
}

/// The figures of a room at its progress.
pub fn figures(progress: &Progress, done: u64) -> Figures {
    Figures {
        waiting: progress.sequenced.saturating_sub(progress.cursor),
        admitted: progress.admitted,
        active: progress.admitted.saturating_sub(done),
        sold_out: progress.sold_out,
    }
}

/// POST /admin/waiting-rooms: a room in front of resources of one company,
/// for staff with `waiting-room:manage` there (the platform administrator
/// anywhere). Recorded as `AdminActivity` in the room's transaction.
pub async fn create(
    rooms: &impl WaitingRooms,
    catalog: &(impl VenueStore + ResourceStore),
    caller: &Caller,
    request: CreateRoomRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<RoomView, AppError> {
    let scope = caller.scope(Permission::WaitingRoomManage)?;
    let new = request.validate()?;
    let mut company = None;
    let mut zone = None;
    for id in &new.resource_ids {
        let hidden = || AppError::NotFound {
            code: "RESOURCE_NOT_FOUND",
            what: format!("the resource {id}"),
        };
        let resource = catalog.get_resource(id).await?.ok_or_else(hidden)?;
        let venue = venue_of(catalog, &resource).await?;
        scope.check(venue.company_id.as_ref(), hidden)?;
        if let Some(gate) = &resource.waiting_room {
            return Err(AppError::conflict(
                "RESOURCE_PROTECTED",
                format!(
                    "the resource {id} is behind the waiting room {}",
                    gate.room_id
                ),
            ));
        }
        if zone.is_some() && company != Some(venue.company_id.clone()) {
            return Err(AppError::validation(
                "MIXED_COMPANIES",
                "a waiting room protects resources of one company",
            ));
        }
        company = Some(venue.company_id.clone());
        zone = zone.or(Some(venue.time_zone));
    }
    let (Some(company_id), Some(time_zone)) = (company, zone) else {
        return Err(AppError::validation("INVALID_RESOURCES", "name a resource"));
    };
    let room = Room {
        id: RoomId::generate(),
        name: new.name,
        company_id,
        resource_ids: new.resource_ids,
        time_zone,
        settings: new.settings,
        sale_opens_at: new.sale_opens_at,
        status: RoomStatus::Open,
        created_at: now,
        updated_at: now,
    };
    let activity = EventEnvelope::of(
        &AdminActivity::WaitingRoomCreated {
            company_id: room.company_id.clone(),
            room_id: room.id.to_string(),
            resource_ids: room.resource_ids.iter().map(ToString::to_string).collect(),
            rate_per_minute: room.settings.rate_per_minute,
            max_active: room.settings.max_active,
            actor: caller.user_id.to_string(),
        },
        correlation_id.clone(),
    )
    .map_err(|e| AppError::internal("encoding AdminActivity", e))?;
    rooms.create(&room, &activity).await?;
    Ok(RoomView {
        room,
        figures: figures(&Progress::default(), 0),
    })
}

async fn manageable(
    rooms: &impl WaitingRooms,
    caller: &Caller,
    id: &RoomId,
) -> Result<(Room, Progress), AppError> {
    let scope = caller.scope(Permission::WaitingRoomManage)?;
    let (room, progress) = rooms.get(id).await?.ok_or_else(|| not_found(id))?;
    scope.check(room.company_id.as_ref(), || not_found(id))?;
    Ok((room, progress))
}

/// GET /admin/waiting-rooms/{room_id}: the room and its figures.
pub async fn get(
    rooms: &impl WaitingRooms,
    caller: &Caller,
    id: &RoomId,
) -> Result<RoomView, AppError> {
    let (room, progress) = manageable(rooms, caller, id).await?;
    let done = rooms.done(id).await?;
    Ok(RoomView {
        room,
        figures: figures(&progress, done),
    })
}

/// PATCH /admin/waiting-rooms/{room_id}: settings (the rate may change
/// while it runs), pause (`PAUSED`), resume (`OPEN`), close (`CLOSED`, for
/// good: its resources are no longer protected).
pub async fn update(
    rooms: &impl WaitingRooms,
    caller: &Caller,
    id: &RoomId,
    request: &UpdateRoomRequest,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<RoomView, AppError> {
    // The admitter moves the room's progress too: a change that meets one
    // of its writes reads the room again and applies itself again.
    for _ in 0..UPDATE_ATTEMPTS {
        let (room, progress) = manageable(rooms, caller, id).await?;
        let (mut after, fields) = request.apply(&room)?;
        after.updated_at = now;
        let activity = EventEnvelope::of(
            &AdminActivity::WaitingRoomChanged {
                company_id: after.company_id.clone(),
                room_id: after.id.to_string(),
                fields,
                status: after.status.as_str().into(),
                rate_per_minute: after.settings.rate_per_minute,
                max_active: after.settings.max_active,
                actor: caller.user_id.to_string(),
            },
            correlation_id.clone(),
        )
        .map_err(|e| AppError::internal("encoding AdminActivity", e))?;
        if rooms.update(&after, progress.version, &activity).await? {
            let done = rooms.done(id).await?;
            let progress = Progress {
                version: progress.version + 1,
                ..progress
            };
            return Ok(RoomView {
                room: after,
                figures: figures(&progress, done),
            });
        }
    }
    Err(moved())
}

/// The pass of an admitted ticket, signed.
fn pass_token(passes: &PassKeys, ticket: &Ticket) -> Result<Option<String>, AppError> {
    match (&ticket.pass_id, ticket.pass_expires_at, ticket.state) {
        (Some(pass_id), Some(expires_at), TicketState::Admitted) => passes
            .sign(&Pass {
                room_id: ticket.room_id.clone(),
                user_id: ticket.user_id.clone(),
                pass_id: pass_id.clone(),
                expires_at,
            })
            .map(Some),
        _ => Ok(None),
    }
}

/// What entering led to: a new ticket, or the one the account had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entered {
    pub new: bool,
    pub status: Status,
}

/// POST /waiting-rooms/{room_id}/ticket: the caller's ticket, new or the
/// one it has (one per account and room).
pub async fn enter(
    rooms: &impl WaitingRooms,
    passes: &PassKeys,
    caller: &Caller,
    id: &RoomId,
    now: DateTime<Utc>,
) -> Result<Entered, AppError> {
    let (room, progress) = rooms.get(id).await?.ok_or_else(|| not_found(id))?;
    let ticket = Ticket::new(&room, &caller.user_id, now);
    if room.status == RoomStatus::Closed {
        // A ticket already held still answers, as CLOSED.
        return match rooms.ticket(id, &caller.user_id).await? {
            Some(held) => Ok(Entered {
                new: false,
                status: Status::of(&room, &progress, &held, None, now),
            }),
            None => Err(closed(id)),
        };
    }
    match rooms.enter(&ticket).await? {
        None => Ok(Entered {
            new: true,
            status: Status::of(&room, &progress, &ticket, None, now),
        }),
        Some(held) => Ok(Entered {
            new: false,
            status: standing(rooms, passes, &room, &progress, held, now).await?,
        }),
    }
}

/// GET /waiting-rooms/{room_id}/ticket: where the caller stands, with the
/// pass once admitted. A poll keeps the place; one after too long a
/// silence finds it lost.
pub async fn status(
    rooms: &impl WaitingRooms,
    passes: &PassKeys,
    caller: &Caller,
    id: &RoomId,
    now: DateTime<Utc>,
) -> Result<Status, AppError> {
    let (room, progress) = rooms.get(id).await?.ok_or_else(|| not_found(id))?;
    let ticket = rooms
        .ticket(id, &caller.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            code: "TICKET_NOT_FOUND",
            what: format!("your ticket of the waiting room {id} (enter it first)"),
        })?;
    standing(rooms, passes, &room, &progress, ticket, now).await
}

async fn standing(
    rooms: &impl WaitingRooms,
    passes: &PassKeys,
    room: &Room,
    progress: &Progress,
    mut ticket: Ticket,
    now: DateTime<Utc>,
) -> Result<Status, AppError> {
    if ticket.state == TicketState::Waiting && room.status != RoomStatus::Closed {
        if ticket.abandoned(&room.settings, now) {
            rooms.abandon(&ticket).await?;
            ticket.state = TicketState::Abandoned;
        } else if now - ticket.seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
            rooms.touch(&ticket, now).await?;
        }
    }
    let token = pass_token(passes, &ticket)?;
    Ok(Status::of(room, progress, &ticket, token, now))
}

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
}

/// One step of the admitter over every room not closed: lapsed passes
/// freed, new tickets positioned, the sold-out flag set from the
/// inventory, the admissions due made, and once a minute the figures.
pub async fn tick(
    rooms: &impl WaitingRooms,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<TickReport, AppError> {
    let mut report = TickReport::default();
    for (room, progress) in rooms.live().await? {
        report.rooms += 1;
        step(rooms, &room, progress, correlation_id, now, &mut report).await?;
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
        report.skipped += skipped.len() as u64;
        *progress = next;
        budget -= plan.admitted;
        // A full step may have more behind it.
        if plan.steps.len() < ADMIT_BATCH || budget == 0 {
            return Ok(true);
        }
    }
}

/// The gate a booking of a protected resource passes: the sale must be
/// open and the pass the caller's, for this room, unexpired.
pub fn check_gate(
    gate: &Gate,
    passes: Option<&PassKeys>,
    token: Option<&str>,
    caller: &crate::identity::UserId,
    now: DateTime<Utc>,
) -> Result<Pass, AppError> {
    gate.check_open(now)?;
    let passes = passes.ok_or_else(|| {
        AppError::internal(
            "checking a pass",
            "this function has no pass keys but books a protected resource",
        )
    })?;
    passes.verify(token, caller, &gate.room_id, now)
}

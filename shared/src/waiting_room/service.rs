//! The waiting room's use cases, generic over [`WaitingRooms`] and the
//! catalog: an admin creates, changes, pauses and closes rooms; a customer
//! enters and polls; the admitter's [`tick`] moves every live room on.

use chrono::{DateTime, Duration, Utc};

use super::pass::{Pass, PassKeys};
use super::ports::WaitingRooms;
use super::{
    CreateRoomRequest, Figures, Gate, Progress, Room, RoomId, RoomStatus, RoomView, Status, Ticket,
    TicketState, UpdateRoomRequest,
};
use crate::catalog::ports::{ResourceStore, VenueStore};
use crate::catalog::service::venue_of;
use crate::identity::events::AdminActivity;
use crate::identity::{Caller, Permission};
use crate::{AppError, CorrelationId, EventEnvelope};

pub use super::admitter::{TickReport, tick};

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

//! The waiting room: a queue in front of a flash sale, on DynamoDB alone.
//!
//! A room protects one or more resources. A customer enters it (one ticket
//! per account and room) and polls its status; an admitter, running on a
//! schedule, gives the waiting positions (the pre-queue shuffled once at the
//! sale's opening, FIFO after), admits them in order at the room's rate and
//! under its cap, skips those who stopped polling, frees the places of
//! passes that lapsed, and stops admitting while the protected resources are
//! sold out. An admitted customer gets a signed pass; a booking of a
//! protected resource needs it and uses it up in its own transaction.
//!
//! The rules are pure functions here and in [`admission`]; the store
//! ([`ports::WaitingRooms`]) makes each step one conditional transaction on
//! the room's progress, so two admitters, or one killed mid-run, never admit
//! anyone twice or skip anyone still waiting. docs/waiting-room.md has the
//! design and its figures.

pub mod admission;
mod admitter;
pub mod events;
pub mod pass;
pub mod ports;
pub mod service;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::AppError;
pub use crate::catalog::{Gate, RoomId};
use crate::catalog::{ResourceId, TimeZone};
use crate::identity::{CompanyId, UserId};

/// The most resources one room protects.
pub const MAX_PROTECTED: usize = 20;
pub const DEFAULT_PASS_TTL_SECONDS: u32 = 300;
pub const DEFAULT_ABANDON_AFTER_SECONDS: u32 = 120;
pub const MAX_RATE_PER_MINUTE: u32 = 60_000;
pub const MAX_ACTIVE: u32 = 100_000;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(code, message)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoomStatus {
    /// Admitting at its rate.
    Open,
    /// Taking entries and keeping places, admitting nobody.
    Paused,
    /// For good: no entries, no admissions, its resources unprotected.
    Closed,
}

impl RoomStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Paused => "PAUSED",
            Self::Closed => "CLOSED",
        }
    }
}

/// How a room admits, each bounded so a typo cannot open the gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// New admissions per minute, spread evenly over the minute.
    pub rate_per_minute: u32,
    /// The most users admitted whose pass is neither used nor lapsed.
    pub max_active: u32,
    /// How long a pass lasts.
    pub pass_ttl_seconds: u32,
    /// How long a waiting user may go without polling before losing the
    /// place.
    pub abandon_after_seconds: u32,
}

impl Settings {
    pub fn validate(self) -> Result<Self, AppError> {
        if !(1..=MAX_RATE_PER_MINUTE).contains(&self.rate_per_minute) {
            return Err(invalid(
                "INVALID_RATE",
                format!("rate_per_minute must be 1 to {MAX_RATE_PER_MINUTE}"),
            ));
        }
        if !(1..=MAX_ACTIVE).contains(&self.max_active) {
            return Err(invalid(
                "INVALID_MAX_ACTIVE",
                format!("max_active must be 1 to {MAX_ACTIVE}"),
            ));
        }
        if !(30..=3600).contains(&self.pass_ttl_seconds) {
            return Err(invalid(
                "INVALID_PASS_TTL",
                "pass_ttl_seconds must be 30 to 3600",
            ));
        }
        if !(10..=3600).contains(&self.abandon_after_seconds) {
            return Err(invalid(
                "INVALID_ABANDON_AFTER",
                "abandon_after_seconds must be 10 to 3600",
            ));
        }
        Ok(self)
    }

    pub fn pass_ttl(&self) -> Duration {
        Duration::seconds(self.pass_ttl_seconds.into())
    }

    pub fn abandon_after(&self) -> Duration {
        Duration::seconds(self.abandon_after_seconds.into())
    }
}

/// A waiting room as an admin configured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub name: String,
    /// The company of the protected resources' venues.
    pub company_id: Option<CompanyId>,
    pub resource_ids: Vec<ResourceId>,
    /// The protected venue's zone: the dates whose inventory counts.
    pub time_zone: TimeZone,
    #[serde(flatten)]
    pub settings: Settings,
    /// Bookings of the protected resources are refused before it; who
    /// enters before it waits in the pre-queue.
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub status: RoomStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Room {
    /// Whether the sale has opened at `now`.
    pub fn sale_open(&self, now: DateTime<Utc>) -> bool {
        self.sale_opens_at.is_none_or(|at| at <= now)
    }
}

/// The admitter's progress through a room, kept on the room's item and
/// moved only by conditional writes on `version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Bumped by every write of the room.
    pub version: u64,
    /// Positions given so far: 1 to `sequenced`.
    pub sequenced: u64,
    /// The pre-queue has its positions (or there was none).
    pub prequeue_done: bool,
    /// Every position up to it is admitted or skipped.
    pub cursor: u64,
    /// Admissions so far; the last one's number.
    pub admitted: u64,
    /// The virtual time of the next admission (GCRA), in microseconds
    /// since the epoch.
    pub next_admit_at_us: i64,
    /// The protected resources had no place left at the last look.
    pub sold_out: bool,
    /// The minute (since the epoch) of the last figures event.
    pub figures_minute: i64,
}

/// Where a ticket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TicketState {
    Waiting,
    Admitted,
    /// Its pass made a booking.
    Used,
    /// Its pass lapsed unused.
    Expired,
    /// It stopped polling and lost its place.
    Abandoned,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "WAITING",
            Self::Admitted => "ADMITTED",
            Self::Used => "USED",
            Self::Expired => "EXPIRED",
            Self::Abandoned => "ABANDONED",
        }
    }
}

/// One account's place in one room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub entered_at: DateTime<Utc>,
    /// The last poll.
    pub seen_at: DateTime<Utc>,
    pub state: TicketState,
    /// Entered before the sale opened.
    pub prequeue: bool,
    /// Drawn at entry: the pre-queue's order once the sale opens.
    pub lottery: u64,
    // Absent rather than null when unset: the store's conditions ask
    // whether a ticket has a position yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_no: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_expires_at: Option<DateTime<Utc>>,
}

impl Ticket {
    pub fn new(room: &Room, user: &UserId, now: DateTime<Utc>) -> Self {
        Self {
            room_id: room.id.clone(),
            user_id: user.clone(),
            entered_at: now,
            seen_at: now,
            state: TicketState::Waiting,
            prequeue: !room.sale_open(now),
            lottery: rand::random(),
            position: None,
            admission_no: None,
            pass_id: None,
            pass_expires_at: None,
        }
    }

    /// Waiting, but silent for longer than the room allows.
    pub fn abandoned(&self, settings: &Settings, now: DateTime<Utc>) -> bool {
        self.state == TicketState::Waiting && now - self.seen_at > settings.abandon_after()
    }
}

/// A status's state, as the client reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Standing {
    Waiting,
    Admitted,
    Expired,
    SoldOut,
    Closed,
}

/// `GET /waiting-rooms/{room_id}/ticket`: where the caller stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub room_id: RoomId,
    pub state: Standing,
    /// `null` until the admitter gives one (the pre-queue gets its
    /// positions at the opening).
    pub position: Option<u64>,
    pub ahead: Option<u64>,
    pub estimated_wait_seconds: Option<u64>,
    /// When to poll next; also the `Retry-After` header.
    pub retry_after_seconds: u64,
    pub sale_opens_at: Option<DateTime<Utc>>,
    pub entered_at: DateTime<Utc>,
    /// The pass, while admitted and unused (header `X-Pass-Token`).
    pub pass_token: Option<String>,
    pub pass_expires_at: Option<DateTime<Utc>>,
    /// The pass made a booking.
    pub pass_used: bool,
}

/// The shortest and longest advice on when to poll again.
pub const MIN_RETRY_SECONDS: u64 = 1;
pub const MAX_RETRY_SECONDS: u64 = 30;

impl Status {
    /// Where `ticket` stands in `room` at `now`; `pass_token` is the
    /// signed pass of an admitted ticket.
    pub fn of(
        room: &Room,
        progress: &Progress,
        ticket: &Ticket,
        pass_token: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut status = Self {
            room_id: room.id.clone(),
            state: Standing::Waiting,
            position: ticket.position,
            ahead: None,
            estimated_wait_seconds: None,
            retry_after_seconds: MAX_RETRY_SECONDS,
            sale_opens_at: room.sale_opens_at,
            entered_at: ticket.entered_at,
            pass_token: None,
            pass_expires_at: None,
            pass_used: false,
        };
        // Polling again is worthless after these; advise a long wait.
        match ticket.state {
            TicketState::Used => {
                status.state = Standing::Admitted;
                status.pass_used = true;
                return status;
            }
            TicketState::Expired | TicketState::Abandoned => {
                status.state = Standing::Expired;
                return status;
            }
            TicketState::Admitted => {
                let expires = ticket.pass_expires_at.unwrap_or(now);
                if expires <= now {
                    status.state = Standing::Expired;
                } else {
                    status.state = Standing::Admitted;
                    status.pass_token = pass_token;
                    status.pass_expires_at = ticket.pass_expires_at;
                }
                return status;
            }
            TicketState::Waiting => {}
        }
        if room.status == RoomStatus::Closed {
            status.state = Standing::Closed;
            return status;
        }
        if ticket.abandoned(&room.settings, now) {
            status.state = Standing::Expired;
            return status;
        }
        if progress.sold_out {
            status.state = Standing::SoldOut;
        }
        let rate = u64::from(room.settings.rate_per_minute);
        let until_open = room
            .sale_opens_at
            .map(|at| (at - now).num_seconds().max(0) as u64)
            .unwrap_or(0);
        let wait = match ticket.position {
            Some(position) => {
                let ahead = position.saturating_sub(progress.cursor + 1);
                status.ahead = Some(ahead);
                // Whole seconds, rounded up: `ahead` admissions at `rate`
                // a minute.
                (ahead * 60).div_ceil(rate)
            }
            None => until_open,
        };
        status.estimated_wait_seconds = Some(wait);
        // Poll often near the front, seldom far back, and always often
        // enough to keep the place.
        let keep = u64::from(room.settings.abandon_after_seconds) / 3;
        status.retry_after_seconds = (wait / 4)
            .clamp(MIN_RETRY_SECONDS, MAX_RETRY_SECONDS)
            .min(keep.max(MIN_RETRY_SECONDS));
        if ticket.position.is_none() && until_open == 0 {
            // The admitter gives positions within a second or two.
            status.retry_after_seconds = MIN_RETRY_SECONDS + 1;
        }
        status
    }
}

/// A room's figures: what the admin sees and the per-minute event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Positioned and not yet reached, plus those still without a
    /// position (a bound: some of them may have left).
    pub waiting: u64,
    /// Admissions so far.
    pub admitted: u64,
    /// Admitted, with a pass neither used nor lapsed.
    pub active: u64,
    pub sold_out: bool,
}

/// `GET /admin/waiting-rooms/{room_id}`: the room and its figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomView {
    #[serde(flatten)]
    pub room: Room,
    pub figures: Figures,
}

/// `POST /admin/waiting-rooms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    pub name: String,
    pub resource_ids: Vec<String>,
    pub rate_per_minute: u32,
    pub max_active: u32,
    pub pass_ttl_seconds: Option<u32>,
    pub abandon_after_seconds: Option<u32>,
    pub sale_opens_at: Option<DateTime<Utc>>,
}

/// A room's validated creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRoom {
    pub name: String,
    pub resource_ids: Vec<ResourceId>,
    pub settings: Settings,
    pub sale_opens_at: Option<DateTime<Utc>>,
}

impl CreateRoomRequest {
    pub fn validate(self) -> Result<NewRoom, AppError> {
        let name = crate::catalog::parse_name(&self.name)?;
        if self.resource_ids.is_empty() || self.resource_ids.len() > MAX_PROTECTED {
            return Err(invalid(
                "INVALID_RESOURCES",
                format!("resource_ids must name 1 to {MAX_PROTECTED} resources"),
            ));
        }
        let mut resource_ids = Vec::new();
        for raw in &self.resource_ids {
            let id = ResourceId::parse(raw)?;
            if resource_ids.contains(&id) {
                return Err(invalid(
                    "INVALID_RESOURCES",
                    format!("the resource {id} is named twice"),
                ));
            }
            resource_ids.push(id);
        }
        let settings = Settings {
            rate_per_minute: self.rate_per_minute,
            max_active: self.max_active,
            pass_ttl_seconds: self.pass_ttl_seconds.unwrap_or(DEFAULT_PASS_TTL_SECONDS),
            abandon_after_seconds: self
                .abandon_after_seconds
                .unwrap_or(DEFAULT_ABANDON_AFTER_SECONDS),
        }
        .validate()?;
        Ok(NewRoom {
            name,
            resource_ids,
            settings,
            sale_opens_at: self.sale_opens_at,
        })
    }
}

/// `PATCH /admin/waiting-rooms/{room_id}`: any of these.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoomRequest {
    pub name: Option<String>,
    pub rate_per_minute: Option<u32>,
    pub max_active: Option<u32>,
    pub pass_ttl_seconds: Option<u32>,
    pub abandon_after_seconds: Option<u32>,
    pub status: Option<RoomStatus>,
}

impl UpdateRoomRequest {
    /// `room` as changed, and the names of the fields that changed; a
    /// closed room changes no more.
    pub fn apply(&self, room: &Room) -> Result<(Room, Vec<String>), AppError> {
        if room.status == RoomStatus::Closed {
            return Err(AppError::conflict(
                "ROOM_CLOSED",
                format!("the waiting room {} is closed", room.id),
            ));
        }
        let mut after = room.clone();
        if let Some(name) = &self.name {
            after.name = crate::catalog::parse_name(name)?;
        }
        let s = &mut after.settings;
        s.rate_per_minute = self.rate_per_minute.unwrap_or(s.rate_per_minute);
        s.max_active = self.max_active.unwrap_or(s.max_active);
        s.pass_ttl_seconds = self.pass_ttl_seconds.unwrap_or(s.pass_ttl_seconds);
        s.abandon_after_seconds = self
            .abandon_after_seconds
            .unwrap_or(s.abandon_after_seconds);
        after.settings = after.settings.validate()?;
        after.status = self.status.unwrap_or(after.status);
        let mut fields = Vec::new();
        let before = &room.settings;
        let now = &after.settings;
        for (name, changed) in [
            ("name", after.name != room.name),
            (
                "rate_per_minute",
                now.rate_per_minute != before.rate_per_minute,
            ),
            ("max_active", now.max_active != before.max_active),
            (
                "pass_ttl_seconds",
                now.pass_ttl_seconds != before.pass_ttl_seconds,
            ),
            (
                "abandon_after_seconds",
                now.abandon_after_seconds != before.abandon_after_seconds,
            ),
            ("status", after.status != room.status),
        ] {
            if changed {
                fields.push(name.to_owned());
            }
        }
        if fields.is_empty() {
            return Err(invalid("NOTHING_TO_CHANGE", "the request changes nothing"));
        }
        Ok((after, fields))
    }
}

#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod tests;

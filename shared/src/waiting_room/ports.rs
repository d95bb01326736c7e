//! The waiting room's storage. Every write that moves a room's progress is
//! one transaction conditional on the version it read, so of two admitters
//! one wins and the other reads again; a write that did not happen (killed
//! before it, or lost the race) changes nothing.

use std::future::Future;

use chrono::{DateTime, NaiveDate, Utc};

use super::admission::{Arrival, Candidate};
use super::{Progress, Room, RoomId, Ticket};
use crate::identity::UserId;
use crate::{AppError, EventEnvelope};

/// One admission, as the store writes it: the ticket admitted with its
/// pass, and its `UserAdmitted`.
#[derive(Debug, Clone)]
pub struct Admission {
    pub user_id: UserId,
    pub position: u64,
    pub admission_no: u64,
    pub pass_id: String,
    pub pass_expires_at: DateTime<Utc>,
    pub event: EventEnvelope,
}

/// An admitted ticket whose pass lapsed unused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lapsed {
    pub user_id: UserId,
    pub pass_id: String,
}

/// What one progress write does besides moving the room's progress.
#[derive(Debug, Clone)]
pub enum Advance<'a> {
    /// Gives these tickets these positions.
    Position(&'a [(UserId, u64)]),
    /// Admits and skips tickets, in one go.
    Admit {
        admitted: &'a [Admission],
        /// Each with the last poll the plan saw.
        skipped: &'a [(UserId, DateTime<Utc>)],
    },
    /// Records the room's figures event.
    Figures(&'a EventEnvelope),
    /// Only the progress (sold out or not, the clock).
    Nothing,
}

pub trait WaitingRooms: Send + Sync {
    /// Creates the room and gates each of its resources, with `activity`,
    /// in one transaction: a resource already behind a room is 409
    /// `RESOURCE_PROTECTED`.
    fn create(
        &self,
        room: &Room,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// The room and its progress, read consistently.
    fn get(
        &self,
        id: &RoomId,
    ) -> impl Future<Output = Result<Option<(Room, Progress)>, AppError>> + Send;

    /// Writes `room`'s settings and status if its progress is still at
    /// `version`, with `activity`; closing also lifts its gates. `false`:
    /// the room moved since it was read.
    fn update(
        &self,
        room: &Room,
        version: u64,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Every room not closed.
    fn live(&self) -> impl Future<Output = Result<Vec<(Room, Progress)>, AppError>> + Send;

    /// How many passes of the room were used or lapsed.
    fn done(&self, id: &RoomId) -> impl Future<Output = Result<u64, AppError>> + Send;

    /// The places left on the room's resources' available slots from
    /// `from` on; `None` when they are not counted (rooms by the range).
    fn remaining(
        &self,
        room: &Room,
        from: NaiveDate,
    ) -> impl Future<Output = Result<Option<u64>, AppError>> + Send;

    /// Writes `ticket` unless its account has one in the room: then that
    /// one is returned, unchanged.
    fn enter(
        &self,
        ticket: &Ticket,
    ) -> impl Future<Output = Result<Option<Ticket>, AppError>> + Send;

    fn ticket(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Ticket>, AppError>> + Send;

    /// Records a poll of a waiting ticket.
    fn touch(
        &self,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// A waiting ticket loses its place.
    fn abandon(&self, ticket: &Ticket) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Tickets without a position, up to `limit` of each shard by arrival
    /// (all of them entered before `before`, when given).
    fn arrivals(
        &self,
        room: &RoomId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Arrival>, AppError>> + Send;

    /// Positioned tickets still waiting, from just after `cursor`, by
    /// position.
    fn queue(
        &self,
        room: &RoomId,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Candidate>, AppError>> + Send;

    /// Admitted tickets whose pass lapsed before `before`.
    fn lapsed(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Lapsed>, AppError>> + Send;

    /// Marks lapsed passes expired and counts them done, in one
    /// transaction; `false` if one of them was used meanwhile.
    fn expire(
        &self,
        room: &RoomId,
        lapsed: &[Lapsed],
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Moves the room's progress from `version` to `progress` (whose
    /// version is `version + 1`) with `advance`, in one transaction;
    /// `false` if the room moved first or a ticket was not as planned.
    fn advance(
        &self,
        room: &RoomId,
        version: u64,
        progress: &Progress,
        advance: Advance<'_>,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;
}

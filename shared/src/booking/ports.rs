//! The booking context's storage, as small ports: reading bookings, and
//! the storage-shaped writes (a hold with its places, a change, a release,
//! a confirmation, a note), each one transaction with its event. The
//! DynamoDB adapter ([`crate::adapters::dynamo::booking::DynamoBookings`])
//! and the in-memory twin ([`crate::adapters::memory::MemoryBookings`])
//! implement them with the same guarantees.

use std::future::Future;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::events::{BookingConfirmed, BookingEnded, EndedAs};
use super::rules::Limits;
use super::{Booking, BookingId, BookingStatus, HistoryEntry, IdempotencyKey};
use crate::catalog::{ResourceId, SlotId};
use crate::identity::UserId;
use crate::payment::CardToken;
use crate::{AppError, CorrelationId, EventEnvelope};

/// Which of a user's bookings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookingFilter {
    pub status: Option<BookingStatus>,
    /// The date of the booked slot or range.
    pub date: Option<NaiveDate>,
}

/// One page of a user's bookings, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

pub trait BookingReader: Send + Sync {
    fn get(&self, id: &BookingId)
    -> impl Future<Output = Result<Option<Booking>, AppError>> + Send;

    /// A booking's history, oldest first.
    fn history(
        &self,
        id: &BookingId,
    ) -> impl Future<Output = Result<Vec<HistoryEntry>, AppError>> + Send;

    /// A page of `user`'s bookings, newest first: `limit` bookings are read
    /// from `cursor` on and those matching `filter` are returned, so a page
    /// may hold fewer than `limit` and still have a next one. A cursor this
    /// store did not return for this user is `INVALID_CURSOR`.
    fn list_for_user(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<BookingPage, AppError>> + Send;

    /// A page of the bookings of `resource`, by booked date and time (then
    /// id), paged and filtered as [`Self::list_for_user`].
    fn list_for_resource(
        &self,
        resource: &ResourceId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<BookingPage, AppError>> + Send;
}

/// An idempotency record: the key a customer sent with a new booking, the
/// fingerprint of its body, and until when it answers replays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    pub fingerprint: &'a str,
    pub expires_at: DateTime<Utc>,
}

/// A new hold, for the store to write in one transaction: the places the
/// booking takes (its slot's count and back nine, its seats, or its units),
/// the booking, its idempotency record (answering with the booking), its
/// number, its first history entry and its `BookingCreated`, each on its
/// condition, and the condition that the booked resource is open.
#[derive(Debug, Clone)]
pub struct NewHold<'a> {
    /// The booking, whose venue must be open too.
    pub booking: &'a Booking,
    pub key: KeyRecord<'a>,
    pub entry: &'a HistoryEntry,
    pub event: &'a EventEnvelope,
    /// The card to charge, kept in the booking's payment intent (with a
    /// TTL) and nowhere else.
    pub card: Option<&'a CardToken>,
    /// What the customer may hold, counted in the same transaction; `None`
    /// for staff, who are not held to it.
    pub limits: Option<Limits>,
    /// The waiting room's pass the booking uses up, on the condition that
    /// it is still unused; for a protected resource only.
    pub pass: Option<PassUse>,
}

/// A pass of a waiting room, as a booking uses it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassUse {
    pub room_id: crate::waiting_room::RoomId,
    pub user_id: UserId,
    pub pass_id: String,
}

/// Why a hold's transaction was refused, most telling first: the store
/// reports one, in this order of precedence.
#[derive(Debug)]
pub enum HoldRefused {
    /// The idempotency key made a booking first.
    KeyUsed,
    /// The venue, or its company, is closed.
    VenueClosed,
    ResourceClosed,
    /// This slot had no room, was closed, seated (or not), or gone when
    /// the transaction ran.
    Slot(SlotId),
    /// These seats were taken.
    Seats(Vec<String>),
    /// These units of the room were taken.
    Units(Vec<NaiveTime>),
    /// The drawn booking number exists: draw another.
    NumberTaken,
    /// The customer would hold more places of the slot than allowed.
    PlacesLimit,
    /// The customer would have more unpaid holds than allowed.
    TooManyHolds,
    /// The waiting room's pass was used, or lapsed, already.
    PassUsed,
    Failed(AppError),
}

impl From<AppError> for HoldRefused {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

/// A change of a counted booking's slot and/or quantity, for the store to
/// write in one transaction: the booking as `after` (conditional on it
/// still being `before`: same status, slot and quantity), the places given
/// back and taken (taken on the condition of room), a history entry, the
/// event, and the condition that the new slot's resource is open.
#[derive(Debug, Clone)]
pub struct BookingChange<'a> {
    pub before: &'a Booking,
    pub after: &'a Booking,
    pub entry: &'a HistoryEntry,
    pub event: &'a EventEnvelope,
    /// The per-slot limit of live places the change is held to; `None`
    /// for staff.
    pub limits: Option<Limits>,
}

/// Why a change's transaction was refused, most telling first.
#[derive(Debug)]
pub enum ChangeRefused {
    /// The venue, or its company, is closed.
    VenueClosed,
    ResourceClosed,
    /// The booking is no longer as it was read.
    BookingMoved,
    /// The new slot had no room for what the change takes.
    Slot(SlotId),
    /// The customer would hold more places of the slot than allowed.
    PlacesLimit,
    Failed(AppError),
}

impl From<AppError> for ChangeRefused {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

/// A release of a booking's places: from which statuses, to which, by whom,
/// why, and the event it emits.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    pub from: &'a [BookingStatus],
    pub to: BookingStatus,
    pub by: &'a str,
    pub reason: &'a str,
    pub ended_as: EndedAs,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
    /// The share of the price the payment context gives back (the refund
    /// policy's answer for a cancellation; 100 for an unconfirmed hold).
    pub refund_percent: u32,
}

impl Release<'_> {
    /// The history entry the release writes.
    pub fn entry(&self, booking: &Booking) -> HistoryEntry {
        HistoryEntry {
            at: self.now,
            from: Some(booking.status),
            to: self.to,
            by: self.by.to_owned(),
            reason: self.reason.to_owned(),
        }
    }

    /// The event the release emits: `BookingCancelled` or `BookingExpired`.
    pub fn event(&self, booking: &Booking) -> Result<EventEnvelope, AppError> {
        let ended = BookingEnded {
            booking_id: booking.id.clone(),
            user_id: booking.user_id.clone(),
            slot_id: booking.slot_id.clone(),
            quantity: booking.quantity,
            from: booking.status,
            to: self.to,
            reason: self.reason.to_owned(),
            refund_percent: self.refund_percent,
            price_cents: booking.price_cents,
            payment: booking.payment,
        };
        self.ended_as
            .envelope(ended, self.correlation_id.clone())
            .map_err(|e| AppError::internal("encoding a booking event", e))
    }

    /// The booking as the release leaves it.
    pub fn released(&self, booking: &Booking) -> Booking {
        Booking {
            status: self.to,
            updated_at: self.now,
            ..booking.clone()
        }
    }

    /// The refusal of a release whose condition failed.
    pub fn refused(&self) -> AppError {
        AppError::conflict(
            "INVALID_TRANSITION",
            format!("the booking can no longer become {}", self.to.as_str()),
        )
    }
}

/// Who the booking saga's steps are recorded as, in a booking's history.
pub const SAGA: &str = "payment-saga";

/// The confirmation of a paid hold: its history entry and event.
pub fn confirmation(
    booking: &Booking,
    reason: &str,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<(HistoryEntry, EventEnvelope), AppError> {
    let entry = HistoryEntry {
        at: now,
        from: Some(BookingStatus::Pending),
        to: BookingStatus::Confirmed,
        by: SAGA.into(),
        reason: reason.to_owned(),
    };
    let confirmed = BookingConfirmed {
        booking_id: booking.id.clone(),
        number: booking.number.clone(),
        user_id: booking.user_id.clone(),
        slot_id: booking.slot_id.clone(),
        quantity: booking.quantity,
        price_cents: booking.price_cents,
        currency: booking.currency.clone(),
    };
    let event = EventEnvelope::of(&confirmed, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding BookingConfirmed", e))?;
    Ok((entry, event))
}

/// A saga note of another context's step, as a history entry dated by the
/// event that caused it.
pub fn note(booking: &Booking, cause: &EventEnvelope, reason: &str) -> HistoryEntry {
    HistoryEntry {
        at: cause.occurred_at,
        from: Some(booking.status),
        to: booking.status,
        by: SAGA.into(),
        reason: reason.to_owned(),
    }
}

/// What confirming a paid hold led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmation {
    Confirmed,
    /// A redelivered payment: the booking was confirmed before.
    AlreadyConfirmed,
    /// Still PENDING, but its hold ran out before the payment arrived.
    HoldLapsed(Box<Booking>),
    /// Cancelled, expired or failed before the payment arrived.
    Ended(BookingStatus),
}

impl Confirmation {
    /// What a refused confirmation means, from the booking as it is now.
    pub fn of_current(current: Booking) -> Self {
        match current.status {
            BookingStatus::Confirmed => Self::AlreadyConfirmed,
            BookingStatus::Pending => Self::HoldLapsed(Box::new(current)),
            ended => Self::Ended(ended),
        }
    }
}

/// The booking context's writes. Every write is one transaction with the
/// event it emits (the outbox), conditional on what it assumes.
pub trait BookingStore: BookingReader {
    /// The first answer to `key`, if it made a booking with the same
    /// fingerprint; another fingerprint is `IDEMPOTENCY_KEY_REUSED` (422).
    fn answer(
        &self,
        key: &KeyRecord<'_>,
    ) -> impl Future<Output = Result<Option<String>, AppError>> + Send;

    /// Writes a new hold with the places it takes, all or nothing.
    fn hold(&self, hold: &NewHold<'_>) -> impl Future<Output = Result<(), HoldRefused>> + Send;

    /// Writes a change of a counted booking, all or nothing.
    fn change(
        &self,
        change: &BookingChange<'_>,
    ) -> impl Future<Output = Result<(), ChangeRefused>> + Send;

    /// Moves the booking from one of `release.from` to `release.to`, giving
    /// its places back, with a history entry and the event. An expiry also
    /// needs the hold to have run out at `release.now`. A failed condition
    /// is [`Release::refused`].
    fn release(
        &self,
        booking: &Booking,
        release: &Release<'_>,
    ) -> impl Future<Output = Result<Booking, AppError>> + Send;

    /// [`release`](Self::release) of each of `holds` (lapsed holds of one
    /// slot, as the sweeper finds them), one answer per hold, in order. A
    /// store may write them in fewer transactions than holds; each answer
    /// is still the one `release` would give.
    fn release_together(
        &self,
        holds: &[Booking],
        release: &Release<'_>,
    ) -> impl Future<Output = Vec<Result<Booking, AppError>>> + Send;

    /// PENDING becomes CONFIRMED, with the entry and event of
    /// [`confirmation`], conditional on the hold being live at `now`.
    fn confirm(
        &self,
        booking: &Booking,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Confirmation, AppError>> + Send;

    /// Adds a [`note`] to the history, keyed by its cause: a redelivered
    /// event adds nothing.
    fn note(
        &self,
        booking: &Booking,
        cause: &EventEnvelope,
        reason: &str,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// PENDING holds whose time ran out at `now`, oldest first, at most `limit`.
    fn expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Booking>, AppError>> + Send;
}

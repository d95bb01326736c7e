//! The small traits functions depend on. Handlers are generic over them, so
//! tests run against the in-memory twins in [`crate::adapters::memory`].

use std::collections::BTreeMap;

use serde::Serialize;

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::identity::profile::ProfileChange;
use crate::identity::{Email, LoginPolicy, Role, User, UserId};
use crate::{AppError, EventEnvelope};

/// An event ready to leave the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEvent {
    /// The EventBridge `source` (see [`crate::EventSource`]).
    pub source: String,
    pub envelope: EventEnvelope,
}

/// Why one event could not be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishFailure {
    /// Index of the event in the slice given to [`EventPublisher::publish`].
    pub index: usize,
    pub reason: String,
    /// The bus refused the event itself (too large, malformed): no retry
    /// will ever publish it. Otherwise it may pass later (throttling, an
    /// outage).
    pub permanent: bool,
}

/// Where events the bus refuses for good are kept, so they neither block
/// the stream behind them nor get lost: a queue with an alarm, for an
/// operator to inspect and publish again once fixed.
pub trait Parking: Send + Sync {
    fn park(
        &self,
        event: &OutgoingEvent,
        reason: &str,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Puts events on the event bus.
pub trait EventPublisher: Send + Sync {
    /// Publishes every event, retrying transient failures. Returns the events
    /// that still failed; an empty vector means all were accepted.
    fn publish(&self, events: &[OutgoingEvent])
    -> impl Future<Output = Vec<PublishFailure>> + Send;
}

/// Whether recording an event changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// The event id was recorded before; nothing was written.
    Duplicate,
}

/// The platform's append-only log of every event, idempotent on the event id.
pub trait EventLog: Send + Sync {
    fn record(
        &self,
        source: &str,
        envelope: &EventEnvelope,
    ) -> impl Future<Output = Result<Recorded, AppError>> + Send;
}

/// Where an admin action with no state change of its own in the table (a
/// dead-letter redrive moves messages between queues) records its
/// `AdminActivity`: the outbox, alone.
pub trait ActivityRecorder: Send + Sync {
    fn record(&self, activity: &EventEnvelope)
    -> impl Future<Output = Result<(), AppError>> + Send;
}

/// A reachability check of one dependency, for the health endpoint.
pub trait Probe: Send + Sync {
    fn name(&self) -> &'static str;
    /// `Ok` when the dependency answered; `Err` names the failure briefly.
    fn check(&self) -> impl Future<Output = Result<(), String>> + Send;
}

/// Records the platform's heartbeat and its `Ping` event in one transaction.
pub trait HeartbeatStore: Send + Sync {
    fn beat(
        &self,
        source: crate::EventSource,
        envelope: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Accounts (identity context).
pub trait UserStore: Send + Sync {
    /// Creates the account, its email claim and `event` in one transaction.
    /// A registered email is a `Conflict` with code `EMAIL_TAKEN`.
    fn create(
        &self,
        user: &User,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    fn find_by_email(
        &self,
        email: &Email,
    ) -> impl Future<Output = Result<Option<User>, AppError>> + Send;

    fn get(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, AppError>> + Send;

    /// Gives the account with `email` the role `role`, writing `event` (an
    /// `AdminActivity`) in the same transaction. `NotFound` if no such account.
    fn set_role(
        &self,
        email: &Email,
        role: Role,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<User, AppError>> + Send;

    /// Applies `change` to `user` (the account as read) with `event` (its
    /// `UserUpdated`) in one transaction, conditional on the account's
    /// email and password being still as read (else `ACCOUNT_CHANGED`,
    /// 409). A new email moves the email claim: one taken is
    /// `EMAIL_TAKEN`, and the old address is free to sign up again.
    fn update(
        &self,
        user: &User,
        change: &ProfileChange,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<User, AppError>> + Send;
}

/// Why an account was not closed.
#[derive(Debug)]
pub enum CloseRefused {
    /// The account holds an unpaid hold (one may have been made since its
    /// bookings were read).
    LiveHolds,
    /// The wallet's balance is not the one read.
    WalletChanged,
    /// The account is gone, or its email or password changed since read.
    AccountChanged,
    Failed(AppError),
}

impl From<AppError> for CloseRefused {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

/// An account's end, for the store to write in one transaction.
#[derive(Debug, Clone)]
pub struct Closing<'a> {
    /// The account as read.
    pub user: &'a User,
    /// The wallet's balance as read, written off to 0 with a `FORFEIT`
    /// ledger entry (0: the wallet must still be empty or absent).
    pub forfeit: u64,
    /// Its `UserDeleted`.
    pub event: &'a EventEnvelope,
}

/// Ends accounts: the account, its email claim and its login counter are
/// removed (the email may sign up again; the personal data is gone), the
/// wallet's points written off, and `UserDeleted` recorded, in one
/// transaction conditional on the account holding no unpaid hold. Bookings,
/// payments and the ledger stay, keyed by the user id alone.
pub trait AccountCloser: Send + Sync {
    fn close(&self, closing: &Closing<'_>)
    -> impl Future<Output = Result<(), CloseRefused>> + Send;
}

/// A refresh token to store: only its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRefreshToken {
    pub hash: String,
    pub user_id: UserId,
    /// The session: every token rotated from one login shares it.
    pub family_id: String,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live; it is now spent and the new one replaces it.
    Rotated {
        user_id: UserId,
        family_id: String,
    },
    /// No such token (never issued, or long gone).
    Unknown,
    Expired,
    /// The session was logged out or revoked earlier.
    Revoked,
    /// The token had already been rotated: someone replayed it. The whole
    /// family is now revoked.
    Reused {
        family_id: String,
    },
}

/// Refresh-token families (sessions).
pub trait SessionStore: Send + Sync {
    /// Opens a session with its first refresh token.
    fn start(
        &self,
        token: &StoredRefreshToken,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Spends the token hashed `old_hash` and stores `new_hash` in its family,
    /// atomically; a spent or concurrently spent token revokes the family.
    fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Rotation, AppError>> + Send;

    /// Revokes the family of the token hashed `hash`. `false` if unknown.
    fn revoke(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Whether the session `family_id` exists and is not revoked. The
    /// authorizer asks this, so a logged-out session's access tokens stop
    /// working too.
    fn is_active(&self, family_id: &str) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// Revokes every session of `user` but `except` (the caller's own,
    /// when they change their password); returns how many were active.
    fn revoke_all(
        &self,
        user: &UserId,
        except: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<usize, AppError>> + Send;
}

/// The answer to asking for one more login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Go ahead and check the password; this is attempt `number` of the window.
    Granted { number: u32 },
    /// Too many attempts: refused without checking the password.
    Locked { until: DateTime<Utc> },
}

/// Login attempts per email address, known or not.
///
/// An attempt is counted *before* the password is checked, atomically, so a
/// burst of parallel guesses cannot all slip past the limit; a successful
/// login forgets the count.
pub trait LoginAttempts: Send + Sync {
    /// Counts one attempt if the address is under its limit.
    fn reserve(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Attempt, AppError>> + Send;

    /// Locks the address until `until` (the attempt that reached the limit failed).
    fn lock(
        &self,
        email: &Email,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Forgets the attempts after a successful login.
    fn clear(&self, email: &Email) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// The most messages one list or redrive call handles.
pub const MAX_BATCH: u32 = 100;

/// A message waiting in a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    pub message_id: String,
    /// How often it was delivered before it landed here.
    pub receive_count: Option<u64>,
    pub sent_at: Option<String>,
    /// The platform event inside, when it is one: its id, type and data.
    pub event: Option<serde_json::Value>,
    /// The raw body when it is not a platform event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The platform's dead-letter queues, by consumer name: what failed, and
/// sending it back. The SQS adapter (`adapters::sqs::DeadLetters`) and
/// [`crate::adapters::memory::MemoryDeadLetters`] implement it.
pub trait DeadLetterQueues: Send + Sync {
    /// How many messages wait in each dead-letter queue.
    fn depths(&self) -> impl Future<Output = Result<BTreeMap<String, u64>, AppError>> + Send;

    /// Up to `limit` messages of one queue, left in place; an unknown queue
    /// is `QUEUE_NOT_FOUND`.
    fn list(
        &self,
        name: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, AppError>> + Send;

    /// Moves up to `limit` messages back to the queue they came from;
    /// returns how many moved.
    fn redrive(&self, name: &str, limit: u32)
    -> impl Future<Output = Result<u32, AppError>> + Send;
}

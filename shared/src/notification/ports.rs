//! The notification context's ports: the send ledger, the inbox, the
//! preferences, and the two providers (email, SMS). The DynamoDB adapter
//! (`adapters::dynamo::notification::DynamoNotifications`), SES and SNS
//! (`adapters::messaging`) and the in-memory twins
//! ([`crate::adapters::memory::MemoryNotifications`],
//! [`crate::adapters::memory::MemoryPostOffice`]) implement them.
//!
//! Who a customer is (address, phone, language) is identity's
//! [`crate::ports::UserStore`]; what a booking is, the booking and catalog
//! readers.

use std::fmt;
use std::future::Future;

use chrono::{DateTime, Utc};

use super::reminder::Reminder;
use super::{Channel, InboxEntry, InboxId, NoticeKey, Preferences};
use crate::AppError;
use crate::identity::{Email, Phone, UserId};
use crate::kernel::{Page, PageRequest};

/// What claiming a notice's send on one channel found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody sent it yet, or a sender's lease ran out: send it now.
    Go,
    /// It was sent, or failed for good, before: send nothing.
    Done,
    /// Another delivery of the same event is sending it right now.
    Busy,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The provider took it; its message id.
    Sent { provider_id: String },
    /// It can never be sent (no such address, a suppressed address, an
    /// opted-out phone): recorded, never tried again.
    Failed { reason: String },
}

/// The send ledger: one record per notice and channel, written before the
/// send and settled after it.
pub trait SendLedger: Send + Sync {
    /// Claims the send of `key` by `channel` until `lease_until`: a
    /// conditional write that succeeds when no record exists or the last
    /// claimer's lease ran out (it crashed before settling).
    fn claim(
        &self,
        key: &NoticeKey,
        channel: Channel,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, AppError>> + Send;

    /// Records how the claimed send ended.
    fn settle(
        &self,
        key: &NoticeKey,
        channel: Channel,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Gives a claim back after a send that failed for now, so the next
    /// delivery may claim it at once.
    fn release(
        &self,
        key: &NoticeKey,
        channel: Channel,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Every customer's in-app inbox.
pub trait Inbox: Send + Sync {
    /// Puts `entry` in `user`'s inbox unless an entry with its id is there
    /// already (a redelivery); whether it was new.
    fn deliver(
        &self,
        user: &UserId,
        entry: &InboxEntry,
    ) -> impl Future<Output = Result<bool, AppError>> + Send;

    /// A page of `user`'s entries, newest first. A cursor this store did
    /// not return for this user is `INVALID_CURSOR`.
    fn list(
        &self,
        user: &UserId,
        page: PageRequest<'_>,
    ) -> impl Future<Output = Result<Page<InboxEntry>, AppError>> + Send;

    /// Deletes every entry of `user`'s inbox (their account is gone); how
    /// many there were.
    fn clear(&self, user: &UserId) -> impl Future<Output = Result<u32, AppError>> + Send;

    /// Marks one of `user`'s entries read (once: a second time keeps the
    /// first `read_at`); the entry, or `None` when `user` has no such entry.
    fn mark_read(
        &self,
        user: &UserId,
        id: &InboxId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<InboxEntry>, AppError>> + Send;
}

/// Every customer's notification preferences.
pub trait PreferenceStore: Send + Sync {
    /// `user`'s preferences, the defaults when never set.
    fn preferences(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Preferences, AppError>> + Send;

    fn set_preferences(
        &self,
        user: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    /// Deletes `user`'s preferences (their account is gone).
    fn forget(&self, user: &UserId) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// The reminders waiting for their time.
pub trait ReminderSchedule: Send + Sync {
    /// Adds `reminders`; one already there stays as it is (the same booking,
    /// start and offset is the same reminder).
    fn schedule(&self, reminders: &[Reminder])
    -> impl Future<Output = Result<(), AppError>> + Send;

    /// Up to `limit` reminders due at or before `now`, the earliest first.
    fn due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Reminder>, AppError>> + Send;

    /// Takes a reminder off the schedule: sent, or no longer wanted.
    fn finish(&self, reminder: &Reminder) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Throttled, unavailable, timed out: a later try may succeed.
    #[error("the provider is unavailable: {0}")]
    Transient(String),
    /// Refused for good (a suppressed or malformed address, an opted-out
    /// phone): trying again cannot help.
    #[error("the provider refused the message: {0}")]
    Permanent(String),
}

/// An email, rendered.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for OutgoingMail {
    // The body is the customer's business; logs get the subject.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Sends email (SES).
pub trait Mailer: Send + Sync {
    /// The provider's message id.
    fn send_mail(
        &self,
        mail: &OutgoingMail,
    ) -> impl Future<Output = Result<String, SendError>> + Send;
}

/// Sends SMS (SNS).
pub trait Texter: Send + Sync {
    /// The provider's message id.
    fn send_sms(
        &self,
        to: &Phone,
        text: &str,
    ) -> impl Future<Output = Result<String, SendError>> + Send;
}

//! The notification use cases, generic over the ports in [`super::ports`]:
//! turn each event a customer should hear about into a [`Notice`], render
//! it in their language and send it by each of its channels, once.
//!
//! Exactly once per notice and channel:
//! - the inbox entry's id comes from the notice's key, and its write is
//!   conditional on that id being new, so a redelivery adds nothing;
//! - email and SMS go through the send ledger: a conditional claim of
//!   (notice, channel) with a lease before the provider is called, the
//!   provider's message id recorded after. A redelivery finds the record
//!   settled and sends nothing; a concurrent delivery finds the lease live
//!   and retries later (`NOTIFICATION_BUSY`).
//! - The one window left: the process dies after the provider took the
//!   message and before the ledger recorded it. Once the lease runs out,
//!   the next delivery sends it again. SES and SNS have no idempotency key
//!   that could close it; the window is one DynamoDB write long.
//!
//! A provider that fails for now gives its claim back and fails the
//! message, so SQS delivers it again (and after the queue's limit moves it
//! to the dead-letter queue); channels that succeeded are not repeated. A
//! permanent refusal is recorded in the ledger and never tried again.

use chrono::{DateTime, Duration, Utc};

use super::ports::{
    Claim, Inbox, Mailer, OutgoingMail, PreferenceStore, ReminderSchedule, SendError, SendLedger,
    Settled, Texter,
};
use super::reminder::{Reminder, ReminderOffsets};
use super::templates::{self, Rendered};
use super::{BookingFacts, Channel, InboxEntry, Message, Money, Notice, NoticeKey};
use crate::booking::events::{BookingCancelled, BookingConfirmed, BookingExpired, BookingModified};
use crate::booking::ports::BookingReader;
use crate::booking::{Booking, BookingStatus};
use crate::catalog::ports::{ResourceStore, VenueStore};
use crate::clock::Clock;
use crate::events::DecodeError;
use crate::identity::events::{UserDeleted, UserRegistered};
use crate::identity::{Phone, User};
use crate::kernel::BookingId;
use crate::payment::events::{PaymentFailed, PaymentRefunded};
use crate::ports::UserStore;
use crate::{AppError, EventEnvelope, EventType};

/// How long a claim keeps other deliveries of the same notice away: longer
/// than one send takes, shorter than the queue's visibility timeout.
pub const DEFAULT_LEASE: Duration = Duration::seconds(30);

/// Why a notice could not be handled now.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The event is not one this version can read: retrying cannot help.
    #[error(transparent)]
    BadEvent(#[from] DecodeError),
    #[error(transparent)]
    App(#[from] AppError),
    /// A channel failed for now, or another delivery holds its claim; the
    /// channels that were sent stay sent.
    #[error("{0}")]
    Retry(String),
}

/// What happened on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        provider_id: String,
    },
    /// A delivery before this one sent it, or recorded it as failed.
    AlreadyDone,
    /// Refused for good and recorded.
    Failed {
        reason: String,
    },
}

/// What handling one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing for a customer to hear (or nobody left to tell).
    Nothing {
        why: &'static str,
    },
    Notified(Vec<(Channel, Delivery)>),
}

/// The notification context's use cases.
#[derive(Debug)]
pub struct Notifications<U, B, K, S, M, T, C> {
    pub users: U,
    pub bookings: B,
    pub catalog: K,
    /// The ledger, the inbox, the preferences and the reminder schedule.
    pub store: S,
    pub mail: M,
    pub sms: T,
    pub clock: C,
    pub lease: Duration,
    pub reminders: ReminderOffsets,
}

/// What one sweep of the reminder schedule did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReminderSweep {
    /// Due reminders looked at.
    pub due: u32,
    /// Sent by at least one channel (or sent before).
    pub sent: u32,
    /// No longer wanted: the booking is not confirmed at that start, or it
    /// started already.
    pub dropped: u32,
    /// Left for the next sweep: a channel failed for now.
    pub later: u32,
}

impl<U, B, K, S, M, T, C> Notifications<U, B, K, S, M, T, C>
where
    U: UserStore,
    B: BookingReader,
    K: VenueStore + ResourceStore,
    S: SendLedger + Inbox + PreferenceStore + ReminderSchedule,
    M: Mailer,
    T: Texter,
    C: Clock,
{
    /// Tells the customer of `event` what they should hear about it, and
    /// schedules the reminders of a booking confirmed or moved.
    pub async fn on_event(&self, event: &EventEnvelope) -> Result<Outcome, NotifyError> {
        match event.event_type {
            EventType::BookingConfirmed => {
                let e: BookingConfirmed = event.decode()?;
                self.schedule_reminders(&e.booking_id).await?;
            }
            EventType::UserDeleted => {
                let e: UserDeleted = event.decode()?;
                let entries = self.store.clear(&e.user_id).await?;
                self.store.forget(&e.user_id).await?;
                tracing::info!(user_id = %e.user_id, entries, "the deleted account's inbox and preferences are gone");
                return Ok(Outcome::Nothing {
                    why: "the account's inbox and preferences are deleted",
                });
            }
            EventType::BookingModified => {
                let e: BookingModified = event.decode()?;
                let scheduled = self.schedule_reminders(&e.booking_id).await?;
                return Ok(Outcome::Nothing {
                    why: if scheduled > 0 {
                        "the reminders follow the booking's new start"
                    } else {
                        "no reminder to move"
                    },
                });
            }
            _ => {}
        }
        match self.notice(event).await? {
            Some(notice) => self.deliver(&notice).await,
            None => Ok(Outcome::Nothing {
                why: "no customer message for this event",
            }),
        }
    }

    /// Schedules the reminders still to come of a booking confirmed at its
    /// current start (none for one not confirmed); how many.
    async fn schedule_reminders(&self, id: &BookingId) -> Result<usize, AppError> {
        let Some(booking) = self.bookings.get(id).await? else {
            return Ok(0);
        };
        if booking.status != BookingStatus::Confirmed {
            return Ok(0);
        }
        let reminders =
            self.reminders
                .for_start(&booking.id, booking.starts_at.to_utc(), self.clock.now());
        if !reminders.is_empty() {
            self.store.schedule(&reminders).await?;
        }
        Ok(reminders.len())
    }

    /// Sends the reminders due at `now`, up to `limit` of them: each is
    /// taken off the schedule once sent or no longer wanted; one whose
    /// channel failed for now stays for the next sweep.
    pub async fn sweep_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<ReminderSweep, AppError> {
        let mut sweep = ReminderSweep::default();
        for reminder in self.store.due(now, limit).await? {
            sweep.due += 1;
            let outcome = if reminder.starts_at <= now {
                Ok(Outcome::Nothing {
                    why: "the booking started already",
                })
            } else {
                self.remind(&reminder).await
            };
            match outcome {
                Ok(Outcome::Notified(_)) => sweep.sent += 1,
                Ok(Outcome::Nothing { why }) => {
                    tracing::info!(booking_id = %reminder.booking_id, minutes_before = reminder.minutes_before, why, "reminder dropped");
                    sweep.dropped += 1;
                }
                Err(NotifyError::Retry(why)) => {
                    tracing::warn!(booking_id = %reminder.booking_id, why, "reminder left for the next sweep");
                    sweep.later += 1;
                    continue;
                }
                Err(NotifyError::App(e)) => return Err(e),
                Err(NotifyError::BadEvent(e)) => {
                    return Err(AppError::internal("a reminder's booking", e));
                }
            }
            self.store.finish(&reminder).await?;
        }
        Ok(sweep)
    }

    /// Reminds the customer of a booking that it starts in
    /// `minutes_before`, unless it is no longer confirmed or no longer
    /// starts at `starts_at` (it moved: the reminder of its new time is
    /// another one).
    pub async fn remind(&self, reminder: &Reminder) -> Result<Outcome, NotifyError> {
        let Some(current) = self.bookings.get(&reminder.booking_id).await? else {
            return Ok(Outcome::Nothing {
                why: "no such booking",
            });
        };
        if current.status != BookingStatus::Confirmed
            || current.starts_at.to_utc() != reminder.starts_at
        {
            return Ok(Outcome::Nothing {
                why: "the booking is no longer confirmed at that time",
            });
        }
        let notice = Notice {
            key: NoticeKey::of_reminder(reminder),
            user_id: current.user_id.clone(),
            at: reminder.due_at(),
            message: Message::Reminder {
                booking: self.facts(&current).await?,
                minutes_before: reminder.minutes_before,
            },
        };
        self.deliver(&notice).await
    }

    /// The notice `event` asks for, if any.
    async fn notice(&self, event: &EventEnvelope) -> Result<Option<Notice>, NotifyError> {
        let (user_id, message) = match event.event_type {
            EventType::UserRegistered => {
                let e: UserRegistered = event.decode()?;
                (e.user_id, Message::Welcome)
            }
            EventType::BookingConfirmed => {
                let e: BookingConfirmed = event.decode()?;
                let Some(booking) = self.booking(&e.booking_id).await? else {
                    return Ok(None);
                };
                (e.user_id, Message::BookingConfirmed(booking))
            }
            EventType::BookingCancelled => {
                let BookingCancelled(e) = event.decode()?;
                // A booking whose payment failed hears it from PaymentFailed.
                if e.to == BookingStatus::Failed {
                    return Ok(None);
                }
                let Some(booking) = self.booking(&e.booking_id).await? else {
                    return Ok(None);
                };
                let paid = e.from == BookingStatus::Confirmed;
                let refund_percent = if paid { e.refund_percent } else { 0 };
                let refund = Money {
                    cents: crate::payment::share(e.price_cents, refund_percent),
                    currency: booking.price.currency.clone(),
                };
                let message = Message::BookingCancelled {
                    booking,
                    refund,
                    refund_percent,
                };
                (e.user_id, message)
            }
            EventType::BookingExpired => {
                let BookingExpired(e) = event.decode()?;
                if e.from != BookingStatus::Pending {
                    return Ok(None);
                }
                let Some(booking) = self.booking(&e.booking_id).await? else {
                    return Ok(None);
                };
                (e.user_id, Message::HoldExpired(booking))
            }
            EventType::PaymentFailed => {
                let e: PaymentFailed = event.decode()?;
                let Some(booking) = self.booking(&e.payment.booking_id).await? else {
                    return Ok(None);
                };
                let message = Message::PaymentFailed {
                    booking,
                    reason: e.message,
                };
                (e.payment.user_id, message)
            }
            EventType::PaymentRefunded => {
                let e: PaymentRefunded = event.decode()?;
                let Some(booking) = self.booking(&e.payment.booking_id).await? else {
                    return Ok(None);
                };
                let refund = Money {
                    cents: e.payment.refunded_cents,
                    currency: booking.price.currency.clone(),
                };
                (
                    e.payment.user_id,
                    Message::PaymentRefunded { booking, refund },
                )
            }
            _ => return Ok(None),
        };
        Ok(Some(Notice {
            key: NoticeKey::of_event(&event.id),
            user_id,
            at: event.occurred_at,
            message,
        }))
    }

    async fn booking(&self, id: &BookingId) -> Result<Option<BookingFacts>, AppError> {
        match self.bookings.get(id).await? {
            Some(booking) => Ok(Some(self.facts(&booking).await?)),
            None => {
                tracing::warn!(booking_id = %id, "an event names a booking that does not exist");
                Ok(None)
            }
        }
    }

    async fn facts(&self, booking: &Booking) -> Result<BookingFacts, AppError> {
        let venue = self.catalog.get_venue(&booking.venue_id).await?;
        let resource = self
            .catalog
            .get_resource(&booking.slot_id.resource_id)
            .await?;
        Ok(BookingFacts {
            number: booking.number.as_str().to_owned(),
            venue: venue.map_or_else(|| booking.venue_id.to_string(), |v| v.name),
            resource: resource.map_or_else(|| booking.slot_id.resource_id.to_string(), |r| r.name),
            starts_at: booking.starts_at,
            time_zone: booking.time_zone.to_string(),
            places: booking.quantity,
            price: Money {
                cents: booking.price_cents,
                currency: booking.currency.clone(),
            },
        })
    }

    /// Sends `notice` by each channel its kind and its customer's
    /// preferences allow.
    pub async fn deliver(&self, notice: &Notice) -> Result<Outcome, NotifyError> {
        let Some(user) = self.users.get(&notice.user_id).await? else {
            return Ok(Outcome::Nothing {
                why: "the account was deleted",
            });
        };
        let preferences = self.store.preferences(&notice.user_id).await?;
        let kind = notice.message.kind();
        let rendered = templates::render(&notice.message, user.language)
            .map_err(|e| AppError::internal("TEMPLATE_FAILED", e))?;
        let mut deliveries = Vec::new();
        let mut retry = Vec::new();
        for channel in [Channel::Inbox, Channel::Email, Channel::Sms] {
            if !preferences.allows(kind, channel) {
                continue;
            }
            match self.send(notice, &user, &rendered, channel).await {
                Ok(delivery) => {
                    match &delivery {
                        Delivery::Sent { provider_id } => tracing::info!(
                            notice = notice.key.as_str(), %channel, ?kind, %provider_id, "notification sent"
                        ),
                        Delivery::Failed { reason } => tracing::warn!(
                            notice = notice.key.as_str(), %channel, ?kind, %reason, "notification refused for good; recorded"
                        ),
                        Delivery::AlreadyDone => tracing::info!(
                            notice = notice.key.as_str(), %channel, ?kind, "notification already sent; nothing sent again"
                        ),
                    }
                    deliveries.push((channel, delivery));
                }
                Err(NotifyError::Retry(why)) => retry.push(format!("{channel}: {why}")),
                Err(other) => return Err(other),
            }
        }
        if retry.is_empty() {
            Ok(Outcome::Notified(deliveries))
        } else {
            Err(NotifyError::Retry(retry.join("; ")))
        }
    }

    async fn send(
        &self,
        notice: &Notice,
        user: &User,
        rendered: &Rendered,
        channel: Channel,
    ) -> Result<Delivery, NotifyError> {
        match channel {
            Channel::Inbox => self.to_inbox(notice, rendered).await,
            Channel::Email => {
                let mail = OutgoingMail {
                    to: user.email.clone(),
                    subject: rendered.subject.clone(),
                    text: rendered.text.clone(),
                    html: rendered.html.clone(),
                };
                self.by_provider(notice, channel, Provided::Mail(&mail))
                    .await
            }
            Channel::Sms => {
                let sms = Provided::Sms(&user.phone, &rendered.sms);
                self.by_provider(notice, channel, sms).await
            }
        }
    }

    /// The inbox entry, put once: its id is the notice's.
    async fn to_inbox(
        &self,
        notice: &Notice,
        rendered: &Rendered,
    ) -> Result<Delivery, NotifyError> {
        let entry = InboxEntry {
            id: notice.inbox_id(),
            kind: notice.message.kind(),
            title: rendered.subject.clone(),
            body: rendered.text.clone(),
            booking_number: notice.message.booking().map(|b| b.number.clone()),
            created_at: notice.at,
            read_at: None,
        };
        let new = self.store.deliver(&notice.user_id, &entry).await?;
        Ok(if new {
            Delivery::Sent {
                provider_id: entry.id.to_string(),
            }
        } else {
            Delivery::AlreadyDone
        })
    }

    /// A send through a provider, between the ledger's claim and its record.
    async fn by_provider(
        &self,
        notice: &Notice,
        channel: Channel,
        message: Provided<'_>,
    ) -> Result<Delivery, NotifyError> {
        let now = self.clock.now();
        match self
            .store
            .claim(&notice.key, channel, now, now + self.lease)
            .await?
        {
            Claim::Done => return Ok(Delivery::AlreadyDone),
            Claim::Busy => {
                return Err(NotifyError::Retry(
                    "NOTIFICATION_BUSY: another delivery is sending it".into(),
                ));
            }
            Claim::Go => {}
        }
        let sent = match message {
            Provided::Mail(mail) => self.mail.send_mail(mail).await,
            Provided::Sms(phone, text) => self.sms.send_sms(phone, text).await,
        };
        let settled = match sent {
            Ok(provider_id) => Settled::Sent { provider_id },
            Err(SendError::Permanent(reason)) => Settled::Failed { reason },
            Err(SendError::Transient(why)) => {
                self.store.release(&notice.key, channel).await?;
                return Err(NotifyError::Retry(why));
            }
        };
        self.store
            .settle(&notice.key, channel, &settled, self.clock.now())
            .await?;
        Ok(match settled {
            Settled::Sent { provider_id } => Delivery::Sent { provider_id },
            Settled::Failed { reason } => Delivery::Failed { reason },
        })
    }
}

/// What a provider is given.
enum Provided<'a> {
    Mail(&'a OutgoingMail),
    Sms(&'a Phone, &'a str),
}

#[cfg(test)]
mod tests;

//! Notifications: what the platform tells a customer, by which channel,
//! exactly once.
//!
//! An event that matters to a customer becomes a [`Message`] (a booking
//! confirmed, a cancellation with its refund, a failed payment, ...). The
//! message is rendered from the repository's templates in the account's
//! language ([`templates`]) and sent by each of its channels ([`Channel`]):
//! email (SES), SMS (SNS) and the in-app inbox. A send ledger makes every
//! message go out at most once per channel however often its event is
//! delivered; the use cases that tie these together are in [`service`],
//! over the ports in [`ports`].

pub mod alerts;
pub mod inbox;
pub mod ports;
pub mod reminder;
pub mod service;
pub mod templates;

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppError;
use crate::identity::UserId;

/// How a message reaches its customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Email,
    Sms,
    Inbox,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Self::Email, Self::Sms, Self::Inbox];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "EMAIL",
            Self::Sms => "SMS",
            Self::Inbox => "INBOX",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of message; each has a template per language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageKind {
    Welcome,
    BookingConfirmed,
    BookingCancelled,
    HoldExpired,
    PaymentFailed,
    PaymentRefunded,
    Reminder,
}

impl MessageKind {
    pub const ALL: [MessageKind; 7] = [
        Self::Welcome,
        Self::BookingConfirmed,
        Self::BookingCancelled,
        Self::HoldExpired,
        Self::PaymentFailed,
        Self::PaymentRefunded,
        Self::Reminder,
    ];

    /// Its templates' file name, without the extension.
    pub fn template(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::BookingConfirmed => "booking_confirmed",
            Self::BookingCancelled => "booking_cancelled",
            Self::HoldExpired => "hold_expired",
            Self::PaymentFailed => "payment_failed",
            Self::PaymentRefunded => "payment_refunded",
            Self::Reminder => "reminder",
        }
    }

    /// The channels it goes by, before the customer's preferences. A
    /// message about money or a booking's end also goes by SMS; a welcome
    /// or an expired hold does not.
    pub fn channels(self) -> &'static [Channel] {
        match self {
            Self::Welcome | Self::HoldExpired | Self::PaymentRefunded => {
                &[Channel::Email, Channel::Inbox]
            }
            Self::BookingConfirmed
            | Self::BookingCancelled
            | Self::PaymentFailed
            | Self::Reminder => &[Channel::Email, Channel::Sms, Channel::Inbox],
        }
    }

    /// Whether the customer may turn it off per channel. Receipts,
    /// cancellations and failures always arrive (by email and inbox at
    /// least); reminders are the customer's choice.
    pub fn optional(self) -> bool {
        matches!(self, Self::Reminder)
    }
}

/// An amount of money in minor units of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub cents: u64,
    pub currency: String,
}

impl fmt::Display for Money {
    /// `12.50 EUR`; a currency without minor units (`KRW`, `JPY`) shows
    /// whole units with thousands separators (`50,000 KRW`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let grouped = |units: u64| {
            let digits = units.to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        match self.currency.as_str() {
            "KRW" | "JPY" => write!(f, "{} {}", grouped(self.cents), self.currency),
            _ => write!(
                f,
                "{}.{:02} {}",
                grouped(self.cents / 100),
                self.cents % 100,
                self.currency
            ),
        }
    }
}

/// What a message says about its booking. `venue`, `resource` and the
/// reasons are operator or customer text: [`templates`] strips control
/// characters from them and escapes them in HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingFacts {
    pub number: String,
    pub venue: String,
    pub resource: String,
    /// The slot's start, in the venue's time zone.
    pub starts_at: DateTime<FixedOffset>,
    /// The venue's IANA zone (`Asia/Seoul`).
    pub time_zone: String,
    pub places: u32,
    pub price: Money,
}

/// One message to one customer: what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Welcome,
    BookingConfirmed(BookingFacts),
    BookingCancelled {
        booking: BookingFacts,
        refund: Money,
        refund_percent: u32,
    },
    HoldExpired(BookingFacts),
    PaymentFailed {
        booking: BookingFacts,
        reason: String,
    },
    PaymentRefunded {
        booking: BookingFacts,
        refund: Money,
    },
    Reminder {
        booking: BookingFacts,
        /// How long before the start it is sent.
        minutes_before: u32,
    },
}

impl Message {
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Welcome => MessageKind::Welcome,
            Self::BookingConfirmed(_) => MessageKind::BookingConfirmed,
            Self::BookingCancelled { .. } => MessageKind::BookingCancelled,
            Self::HoldExpired(_) => MessageKind::HoldExpired,
            Self::PaymentFailed { .. } => MessageKind::PaymentFailed,
            Self::PaymentRefunded { .. } => MessageKind::PaymentRefunded,
            Self::Reminder { .. } => MessageKind::Reminder,
        }
    }

    pub fn booking(&self) -> Option<&BookingFacts> {
        match self {
            Self::Welcome => None,
            Self::BookingConfirmed(b) | Self::HoldExpired(b) => Some(b),
            Self::BookingCancelled { booking, .. }
            | Self::PaymentFailed { booking, .. }
            | Self::PaymentRefunded { booking, .. }
            | Self::Reminder { booking, .. } => Some(booking),
        }
    }
}

/// The key a message is sent once under: the event it answers
/// (`EVENT#<event id>`), or a reminder's booking and offset. The same key
/// is never sent twice by one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NoticeKey(String);

impl NoticeKey {
    pub fn of_event(id: &crate::EventId) -> Self {
        Self(format!("EVENT#{id}"))
    }

    /// An admin alert's key (`ALERT#<what>`).
    pub fn of_alert(what: &str) -> Self {
        Self(format!("ALERT#{what}"))
    }

    /// A reminder's key names the start it is for, so a booking moved to
    /// another time is reminded again of the new one.
    pub fn of_reminder(reminder: &reminder::Reminder) -> Self {
        Self(format!(
            "REMINDER#{}#{}#{}",
            reminder.booking_id,
            reminder.starts_at.timestamp(),
            reminder.minutes_before
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message ready to send: to whom, under which key, saying what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub key: NoticeKey,
    pub user_id: UserId,
    /// When what it tells of happened; the inbox sorts by it.
    pub at: DateTime<Utc>,
    pub message: Message,
}

impl Notice {
    /// Its id in the customer's inbox: the instant in milliseconds (13
    /// digits, so ids sort by time) and a digest of its key (so the same
    /// notice always gets the same id).
    pub fn inbox_id(&self) -> InboxId {
        let digest = Sha256::digest(self.key.as_str().as_bytes());
        InboxId(format!(
            "{:013}-{}",
            self.at.timestamp_millis().max(0),
            hex::encode(&digest[..8])
        ))
    }
}

/// An inbox entry's id (`<13-digit epoch ms>-<16 hex digits>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InboxId(String);

impl InboxId {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let valid = raw.len() == 30
            && raw.as_bytes()[13] == b'-'
            && raw[..13].bytes().all(|b| b.is_ascii_digit())
            && raw[14..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::validation(
                "INVALID_NOTIFICATION_ID",
                "a notification id looks like 1800000000000-0123456789abcdef",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of a customer's in-app inbox, as `GET /me/notifications`
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub id: InboxId,
    pub kind: MessageKind,
    pub title: String,
    pub body: String,
    /// The booking it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_number: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When its customer marked it read; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// Which channels a customer wants reminders by. Receipts, cancellations
/// and failed payments ignore them: those always arrive by email and in
/// the inbox ([`MessageKind::optional`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelChoice {
    pub email: bool,
    pub sms: bool,
    pub inbox: bool,
}

impl ChannelChoice {
    pub fn allows(self, channel: Channel) -> bool {
        match channel {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
            Channel::Inbox => self.inbox,
        }
    }
}

/// A customer's notification preferences (`GET/PUT
/// /me/notification-preferences`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    pub reminders: ChannelChoice,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            reminders: ChannelChoice {
                email: true,
                sms: true,
                inbox: true,
            },
        }
    }
}

impl Preferences {
    /// Whether `kind` goes by `channel` for this customer.
    pub fn allows(&self, kind: MessageKind, channel: Channel) -> bool {
        kind.channels().contains(&channel) && (!kind.optional() || self.reminders.allows(channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_shows_minor_units_only_where_the_currency_has_them() {
        let m = |cents, currency: &str| {
            Money {
                cents,
                currency: currency.into(),
            }
            .to_string()
        };
        assert_eq!(m(1250, "EUR"), "12.50 EUR");
        assert_eq!(m(5, "EUR"), "0.05 EUR");
        assert_eq!(m(123_456_700, "EUR"), "1,234,567.00 EUR");
        assert_eq!(m(50_000, "KRW"), "50,000 KRW");
        assert_eq!(m(0, "KRW"), "0 KRW");
    }

    #[test]
    fn receipts_ignore_preferences_and_reminders_follow_them() {
        let prefs = Preferences {
            reminders: ChannelChoice {
                email: false,
                sms: false,
                inbox: false,
            },
        };
        for channel in Channel::ALL {
            assert!(!prefs.allows(MessageKind::Reminder, channel));
        }
        assert!(prefs.allows(MessageKind::BookingConfirmed, Channel::Email));
        assert!(prefs.allows(MessageKind::BookingCancelled, Channel::Sms));
        assert!(prefs.allows(MessageKind::PaymentFailed, Channel::Inbox));
        assert!(!prefs.allows(MessageKind::Welcome, Channel::Sms));
        // Every kind that is not optional reaches email and the inbox.
        for kind in MessageKind::ALL.into_iter().filter(|k| !k.optional()) {
            assert!(prefs.allows(kind, Channel::Email), "{kind:?}");
            assert!(prefs.allows(kind, Channel::Inbox), "{kind:?}");
        }
    }

    #[test]
    fn an_inbox_id_is_stable_time_ordered_and_parses_back() {
        let notice = |key: &str, at: &str| Notice {
            key: NoticeKey(key.into()),
            user_id: UserId::generate(),
            at: DateTime::parse_from_rfc3339(at).unwrap().to_utc(),
            message: Message::Welcome,
        };
        let a = notice("EVENT#a", "2027-01-15T08:00:00Z");
        let b = notice("EVENT#b", "2027-01-15T08:00:01Z");
        assert_eq!(a.inbox_id(), a.clone().inbox_id());
        assert!(a.inbox_id() < b.inbox_id());
        assert_eq!(InboxId::parse(a.inbox_id().as_str()).unwrap(), a.inbox_id());
        for bad in [
            "",
            "x",
            "1800000000000_0123456789abcdef",
            "18000000000-0123456789abcdefab",
        ] {
            assert!(InboxId::parse(bad).is_err(), "{bad}");
        }
        assert!(InboxId::parse("1800000000000-0123456789ABCDEF").is_err());
    }
}

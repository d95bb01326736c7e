//! Inbox entries for handler tests.

use chrono::{DateTime, Utc};

use crate::notification::{InboxEntry, InboxId, MessageKind};

/// An unread confirmation created at `created_at`, its id ending in `n`.
pub fn entry(created_at: DateTime<Utc>, n: u64) -> InboxEntry {
    let id = format!("{:013}-{n:016x}", created_at.timestamp_millis());
    InboxEntry {
        id: InboxId::parse(&id).expect("a valid inbox id"),
        kind: MessageKind::BookingConfirmed,
        title: format!("Booking confirmed ({n})"),
        body: "Old Course, Fri 15 Jan 2027 08:00 (GMT), 2 places".into(),
        booking_number: Some("BK-7KQ2-M9XD".into()),
        created_at,
        read_at: None,
    }
}

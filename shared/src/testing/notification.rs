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

/// The notification use cases over in-memory twins.
pub type Twin = crate::notification::service::Notifications<
    crate::adapters::memory::MemoryIdentity,
    crate::adapters::memory::MemoryBookings,
    crate::adapters::memory::MemoryCatalog,
    crate::adapters::memory::MemoryNotifications,
    crate::adapters::memory::MemoryPostOffice,
    crate::adapters::memory::MemoryPostOffice,
    crate::clock::FixedClock,
>;

/// [`Twin`] knowing `booking` (at Royal Links' Old Course, the catalog
/// fixtures' course) and its customer's account in `language`; the clock
/// at the booking fixtures' `at(60)`, the default lease and reminders.
pub async fn twin(booking: &crate::booking::Booking, language: crate::identity::Language) -> Twin {
    let users = crate::adapters::memory::MemoryIdentity::default();
    super::identity::account_in(&users, &booking.user_id, language).await;
    let catalog = crate::adapters::memory::MemoryCatalog::default();
    super::catalog::course(&catalog).await;
    let bookings = crate::adapters::memory::MemoryBookings::default();
    bookings.insert(booking.clone(), Vec::new());
    crate::notification::service::Notifications {
        users,
        bookings,
        catalog,
        store: crate::adapters::memory::MemoryNotifications::default(),
        mail: crate::adapters::memory::MemoryPostOffice::default(),
        sms: crate::adapters::memory::MemoryPostOffice::default(),
        clock: crate::clock::FixedClock::at(super::booking::at(60)),
        lease: crate::notification::service::DEFAULT_LEASE,
        reminders: crate::notification::reminder::ReminderOffsets::default(),
    }
}

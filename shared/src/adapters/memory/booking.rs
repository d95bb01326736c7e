//! The booking context's twin: bookings and their histories, read.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::AppError;
use crate::booking::ports::{BookingFilter, BookingPage, BookingReader};
use crate::booking::{Booking, BookingId, HistoryEntry};
use crate::identity::UserId;

/// Bookings and their histories in memory, read as the DynamoDB adapter
/// reads them: a user's list newest first (by `created_at`, then id), paged
/// by an opaque cursor, `limit` read before the filter applies.
#[derive(Debug, Default)]
pub struct MemoryBookings {
    bookings: Mutex<BTreeMap<BookingId, (Booking, Vec<HistoryEntry>)>>,
}

impl MemoryBookings {
    /// Stores a booking with its history (for tests).
    pub fn insert(&self, booking: Booking, history: Vec<HistoryEntry>) {
        self.bookings
            .lock()
            .expect("lock")
            .insert(booking.id.clone(), (booking, history));
    }
}

impl BookingReader for MemoryBookings {
    async fn get(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        Ok(self
            .bookings
            .lock()
            .expect("lock")
            .get(id)
            .map(|(b, _)| b.clone()))
    }

    async fn history(&self, id: &BookingId) -> Result<Vec<HistoryEntry>, AppError> {
        Ok(self
            .bookings
            .lock()
            .expect("lock")
            .get(id)
            .map(|(_, h)| h.clone())
            .unwrap_or_default())
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        let mut mine: Vec<Booking> = self
            .bookings
            .lock()
            .expect("lock")
            .values()
            .filter(|(b, _)| b.user_id == *user)
            .map(|(b, _)| b.clone())
            .collect();
        mine.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let start = match cursor {
            None => 0,
            Some(c) => {
                mine.iter()
                    .position(|b| b.id.as_str() == c)
                    .ok_or_else(|| {
                        AppError::validation(
                            "INVALID_CURSOR",
                            "cursor is not one this API returned",
                        )
                    })?
                    + 1
            }
        };
        let read: Vec<Booking> = mine
            .into_iter()
            .skip(start)
            .take(usize::try_from(limit).unwrap_or(usize::MAX) + 1)
            .collect();
        let (page, more) = read.split_at(read.len().min(limit as usize));
        let next_cursor = (!more.is_empty())
            .then(|| page.last().map(|b| b.id.to_string()))
            .flatten();
        let bookings = page
            .iter()
            .filter(|b| filter.status.is_none_or(|s| b.status == s))
            .filter(|b| filter.date.is_none_or(|d| b.slot_id.date == d))
            .cloned()
            .collect();
        Ok(BookingPage {
            bookings,
            next_cursor,
        })
    }
}

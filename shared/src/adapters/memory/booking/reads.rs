//! The bookings twin's reads: one booking, its history, and the pages of a
//! customer's or a resource's bookings.

use crate::AppError;
use crate::booking::ports::{BookingFilter, BookingPage, BookingReader};
use crate::booking::{Booking, BookingId, HistoryEntry};
use crate::catalog::ResourceId;
use crate::identity::UserId;

use super::MemoryBookings;

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
            .map(|(_, h)| {
                let mut h = h.clone();
                h.sort_by_key(|e| e.at);
                h
            })
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
        page_of(mine, filter, limit, cursor)
    }

    async fn list_for_resource(
        &self,
        resource: &ResourceId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        let mut of: Vec<Booking> = self
            .bookings
            .lock()
            .expect("lock")
            .values()
            .filter(|(b, _)| &b.slot_id.resource_id == resource)
            // The date narrows what is read, as the adapter's key condition does.
            .filter(|(b, _)| filter.date.is_none_or(|d| b.slot_id.date == d))
            .map(|(b, _)| b.clone())
            .collect();
        of.sort_by(|a, b| {
            (a.slot_id.date, a.slot_id.start, &a.id).cmp(&(b.slot_id.date, b.slot_id.start, &b.id))
        });
        page_of(of, filter, limit, cursor)
    }
}

/// One page of `sorted` from `cursor` (the last id of the page before): the
/// next `limit` read, those matching `filter` returned.
fn page_of(
    sorted: Vec<Booking>,
    filter: &BookingFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<BookingPage, AppError> {
    let mine = sorted;
    let start = match cursor {
        None => 0,
        Some(c) => {
            mine.iter()
                .position(|b| b.id.as_str() == c)
                .ok_or_else(|| {
                    AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
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

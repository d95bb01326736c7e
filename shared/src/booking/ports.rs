//! The booking context's storage, as small ports. Today: reading bookings;
//! the writes (holds, transitions, changes) still live on the DynamoDB
//! adapter and move here next.

use std::future::Future;

use chrono::NaiveDate;

use super::{Booking, BookingId, BookingStatus, HistoryEntry};
use crate::AppError;
use crate::identity::UserId;

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
}

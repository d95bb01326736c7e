//! The booking context's reads: one booking, a user's bookings by page,
//! a booking's history, and the lapsed holds of the hold index.

use chrono::{DateTime, Utc};

use super::super::{cursor, keys, s};
use super::DynamoBookings;
use super::items::{BookingItem, GSI2, HOLD_SHARDS, booking_pk, due, resource_bookings_pk};
use crate::AppError;
use crate::booking::ports::{BookingFilter, BookingPage};
use crate::booking::{Booking, BookingId, HistoryEntry};
use crate::catalog::ResourceId;
use crate::identity::UserId;

impl DynamoBookings {
    pub async fn get(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        super::super::get_consistent(&self.client, &self.table, booking_pk(id), "BOOKING")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, BookingItem>(i)
                    .map(|b| b.booking)
                    .map_err(|e| AppError::internal("decoding a booking", e))
            })
            .transpose()
    }

    /// Holds whose time ran out, oldest first, at most `limit`.
    pub(super) async fn lapsed_holds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Booking>, AppError> {
        let mut out = Vec::new();
        for shard in 0..HOLD_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI2)
                .key_condition_expression("GSI2PK = :pk AND GSI2SK <= :now")
                .expression_attribute_values(":pk", s(format!("HOLD#{shard}")))
                .expression_attribute_values(":now", s(due(now)))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| AppError::internal("listing expired holds", e))?;
            for item in page.items() {
                let b: BookingItem = serde_dynamo::from_item(item.clone())
                    .map_err(|e| AppError::internal("decoding a booking", e))?;
                out.push(b.booking);
            }
        }
        out.sort_by_key(|b| b.hold_expires_at);
        out.truncate(limit);
        Ok(out)
    }

    /// A user's bookings, newest first, one page of at most `limit`, from
    /// the opaque `cursor` a previous page returned; optionally only one
    /// status and/or one date of the booked slot or range.
    pub(super) async fn list_page(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        let BookingFilter { status, date } = *filter;
        let expected = format!("USER#{user}#BOOKINGS");
        let start = start_key(cursor, ["GSI1PK", "GSI1SK"], &expected)?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(format!("USER#{user}#BOOKINGS")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start);
        let mut filters = Vec::new();
        if let Some(status) = status {
            filters.push("#status = :status");
            query = query
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        if let Some(date) = date {
            // The slot id holds the date: `<resource>@<date>T<time>`.
            filters.push("contains(slot_id, :day)");
            query = query.expression_attribute_values(":day", s(format!("@{date}T")));
        }
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        let page = query
            .send()
            .await
            .map_err(|e| AppError::internal("listing bookings", e))?;
        booking_page(&page)
    }

    /// A resource's bookings by booked date and time, one page of at most
    /// `limit`, optionally of one date (a key condition) and one status (a
    /// filter, applied after the read).
    pub(super) async fn resource_page(
        &self,
        resource: &ResourceId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        let BookingFilter { status, date } = *filter;
        let expected = resource_bookings_pk(resource);
        let start = start_key(cursor, ["GSI3PK", "GSI3SK"], &expected)?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI3)
            .expression_attribute_values(":pk", s(expected.clone()))
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start);
        query = match date {
            Some(date) => query
                .key_condition_expression("GSI3PK = :pk AND begins_with(GSI3SK, :day)")
                .expression_attribute_values(":day", s(format!("{date}T"))),
            None => query.key_condition_expression("GSI3PK = :pk"),
        };
        if let Some(status) = status {
            query = query
                .filter_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        let page = query
            .send()
            .await
            .map_err(|e| AppError::internal("listing a resource's bookings", e))?;
        booking_page(&page)
    }

    /// A booking's history, oldest first.
    pub(super) async fn history_of(&self, id: &BookingId) -> Result<Vec<HistoryEntry>, AppError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :h)")
            .expression_attribute_values(":pk", s(booking_pk(id)))
            .expression_attribute_values(":h", s("HISTORY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a booking's history", e))?;
        page.items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item(i.clone())
                    .map_err(|e| AppError::internal("decoding history", e))
            })
            .collect()
    }
}

/// The start key a booking list's `cursor` stands for: exactly the keys of
/// a booking item in the index partition `expected` (`[pk, sk]` naming the
/// index's keys), or DynamoDB would refuse it (a 500, not a 400).
fn start_key(
    cursor: Option<&str>,
    [pk, sk]: [&str; 2],
    expected: &str,
) -> Result<
    Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
    AppError,
> {
    cursor
        .map(|c| {
            cursor::decode(c, &["PK", "SK", pk, sk], |key| {
                key[pk] == expected && key["SK"] == "BOOKING" && key["PK"].starts_with("BOOKING#")
            })
        })
        .transpose()
}

/// A query's booking items as a page, with the cursor of the next one.
fn booking_page(
    page: &aws_sdk_dynamodb::operation::query::QueryOutput,
) -> Result<BookingPage, AppError> {
    let bookings = page
        .items()
        .iter()
        .map(|i| {
            serde_dynamo::from_item::<_, BookingItem>(i.clone())
                .map(|b| b.booking)
                .map_err(|e| AppError::internal("decoding a booking", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BookingPage {
        bookings,
        next_cursor: page.last_evaluated_key().map(cursor::encode),
    })
}

//! A resource's bookings over a date range as CSV, in pages: each answer
//! holds up to `limit` bookings and the cursor of the next, so no export
//! comes near Lambda's 6 MB response limit however many bookings it has.
//! The header is on the first page only: the pages, concatenated in order,
//! are one CSV file.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ports::FiguresStore;
use super::service::{RangeQuery, Reporting};
use super::{DateRange, Subject};
use crate::AppError;
use crate::booking::Booking;
use crate::booking::ports::{BookingFilter, BookingReader};
use crate::catalog::ResourceId;
use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use crate::clock::Clock;
use crate::identity::Caller;
use crate::kernel::BookingId;
use crate::payment::ports::PaymentStore;
use crate::payment::{Payment, PaymentStatus};

/// The columns, in order.
pub const HEADER: &str = "number,booking_id,customer,slot_id,starts_at,places,status,currency,price_cents,paid_cents,refunded_cents";

/// One page of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPage {
    pub csv: String,
    pub rows: usize,
    pub next_cursor: Option<String>,
}

/// Where the next page starts: a day of the range, and the booking list's
/// cursor within it.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    d: NaiveDate,
    c: Option<String>,
}

fn bad_cursor() -> AppError {
    AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
}

impl Cursor {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str, range: DateRange) -> Result<Self, AppError> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad_cursor())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
        if cursor.d < range.from || cursor.d > range.to {
            return Err(bad_cursor());
        }
        Ok(cursor)
    }
}

/// One CSV row of `booking` and its payment.
pub fn row(booking: &Booking, payment: Option<&Payment>) -> String {
    let places = if booking.units.is_empty() {
        booking.quantity as usize
    } else {
        booking.units.len()
    };
    let paid = payment
        .filter(|p| matches!(p.status, PaymentStatus::Completed | PaymentStatus::Refunded))
        .map_or(0, |p| p.amount_cents);
    let refunded = payment.map_or(0, |p| p.refunded_cents);
    [
        booking.number.as_str().to_owned(),
        booking.id.to_string(),
        booking.user_id.to_string(),
        booking.slot_id.to_string(),
        booking.starts_at.to_rfc3339(),
        places.to_string(),
        booking.status.as_str().to_owned(),
        booking.currency.clone(),
        booking.price_cents.to_string(),
        paid.to_string(),
        refunded.to_string(),
    ]
    .iter()
    .map(|f| field(f))
    .collect::<Vec<_>>()
    .join(",")
}

/// A CSV field: quoted when it holds a comma, quote or line break, and
/// never read as a formula by a spreadsheet.
fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The payments of `bookings`, read 16 at a time.
pub async fn payments_of(
    payments: &impl PaymentStore,
    bookings: &[Booking],
) -> Result<HashMap<BookingId, Payment>, AppError> {
    let mut out = HashMap::new();
    for chunk in bookings.chunks(16) {
        let mut reads = Vec::with_capacity(chunk.len());
        for booking in chunk {
            reads.push(payments.payment(&booking.id));
        }
        for payment in futures::future::join_all(reads).await {
            if let Some(p) = payment? {
                out.insert(p.booking_id.clone(), p);
            }
        }
    }
    Ok(out)
}

impl<F, B, C, K> Reporting<F, B, C, K>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    /// A page of `resource`'s bookings over the range `query` names (its
    /// `by` is not read), by booked date and time, as CSV rows; the
    /// caller's access is checked before the range.
    pub async fn export(
        &self,
        payments: &impl PaymentStore,
        caller: &Caller,
        resource: &ResourceId,
        query: RangeQuery<'_>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ExportPage, AppError> {
        self.open(caller, &Subject::Resource(resource.clone()))
            .await?;
        let range = DateRange::parse(query.from, query.to)?;
        let mut at = match cursor {
            Some(raw) => Cursor::decode(raw, range)?,
            None => Cursor {
                d: range.from,
                c: None,
            },
        };
        let mut csv = String::new();
        if cursor.is_none() {
            csv.push_str(HEADER);
            csv.push('\n');
        }
        let mut rows = 0usize;
        loop {
            let want = limit.saturating_sub(u32::try_from(rows).unwrap_or(u32::MAX));
            if want == 0 {
                return Ok(ExportPage {
                    csv,
                    rows,
                    next_cursor: Some(at.encode()),
                });
            }
            let filter = BookingFilter {
                status: None,
                date: Some(at.d),
            };
            let page = self
                .bookings
                .list_for_resource(resource, &filter, want, at.c.as_deref())
                .await?;
            let paid = payments_of(payments, &page.bookings).await?;
            for booking in &page.bookings {
                csv.push_str(&row(booking, paid.get(&booking.id)));
                csv.push('\n');
            }
            rows += page.bookings.len();
            match page.next_cursor {
                Some(next) => at.c = Some(next),
                None if at.d < range.to => {
                    at = Cursor {
                        d: at.d.succ_opt().ok_or_else(bad_cursor)?,
                        c: None,
                    };
                }
                None => {
                    return Ok(ExportPage {
                        csv,
                        rows,
                        next_cursor: None,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_never_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1+1"), "'=1+1");
    }
}

//! The reconciliation: a venue's figures recounted from the bookings and
//! their payments as they are now, compared with the kept ones.
//!
//! The recount reads each booking of the venue's resources booked on a day
//! of the range: every booking counts as created on its slot's day; one
//! confirmed at some point as confirmed, with its price as gross revenue;
//! its end status as cancelled (by the notice from its last change to its
//! start), expired or failed; one still confirmed its places; and the
//! refund its payment records as refunded. What the consumer kept from the
//! events must be the same, day by day; any difference is reported.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use super::export::payments_of;
use super::ports::FiguresStore;
use super::service::Reporting;
use super::{Counter, DateRange, Figures, Subject, places_of};
use crate::AppError;
use crate::booking::ports::{BookingFilter, BookingReader};
use crate::booking::{Booking, BookingStatus};
use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use crate::catalog::{ResourceId, VenueId};
use crate::clock::Clock;
use crate::payment::Payment;
use crate::payment::ports::PaymentStore;

/// The figures a booking adds to the days it touches, recounted.
pub fn recount(
    booking: &Booking,
    payment: Option<&Payment>,
) -> Vec<(ResourceId, NaiveDate, Figures)> {
    let mut days: BTreeMap<(ResourceId, NaiveDate), Figures> = BTreeMap::new();
    let slot = &booking.slot_id;
    let mut add = |resource: &ResourceId, date: NaiveDate, change: &dyn Fn(&mut Figures)| {
        change(days.entry((resource.clone(), date)).or_default());
    };
    add(&slot.resource_id, slot.date, &|f| {
        f.count(Counter::Created, 1)
    });
    if booking.confirmed_at.is_some() {
        let price = i64::try_from(booking.price_cents).unwrap_or(i64::MAX);
        add(&slot.resource_id, slot.date, &|f| {
            f.count(Counter::Confirmed, 1);
            f.earn(&booking.currency, price, 0);
        });
    }
    match booking.status {
        BookingStatus::Cancelled => {
            let notice = booking.starts_at.with_timezone(&Utc) - booking.updated_at;
            add(&slot.resource_id, slot.date, &|f| {
                f.count(Counter::Cancelled, 1);
                f.count(Counter::notice(notice), 1);
            });
            if booking.confirmed_at.is_some() {
                let refunded = payment.map_or(0, |p| p.refunded_cents);
                let refunded = i64::try_from(refunded).unwrap_or(i64::MAX);
                add(&slot.resource_id, slot.date, &|f| {
                    f.earn(&booking.currency, 0, refunded);
                });
            }
        }
        BookingStatus::Expired => add(&slot.resource_id, slot.date, &|f| {
            f.count(Counter::Expired, 1);
        }),
        BookingStatus::Failed => add(&slot.resource_id, slot.date, &|f| {
            f.count(Counter::Failed, 1);
        }),
        BookingStatus::Confirmed => {
            for (at, places) in places_of(booking, slot, booking.quantity) {
                add(&at.resource_id, at.date, &|f| {
                    f.count(Counter::Places, places)
                });
            }
        }
        BookingStatus::Pending => {}
    }
    days.into_iter()
        .map(|((resource, date), figures)| (resource, date, figures))
        .collect()
}

/// One day whose kept figures are not what the recount gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// `resource` or `venue`.
    pub subject: &'static str,
    pub id: String,
    pub date: NaiveDate,
    /// `counter` names, or `gross_cents.EUR` / `refunds_cents.EUR`.
    pub figure: String,
    pub kept: i64,
    pub recounted: i64,
}

/// What a rebuild found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub venue_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub bookings: usize,
    pub days_compared: usize,
    pub differences: Vec<Difference>,
}

fn compare(
    subject: &'static str,
    id: &str,
    date: NaiveDate,
    kept: &Figures,
    recounted: &Figures,
    out: &mut Vec<Difference>,
) {
    let mut diff = |figure: String, kept: i64, recounted: i64| {
        if kept != recounted {
            out.push(Difference {
                subject,
                id: id.to_owned(),
                date,
                figure,
                kept,
                recounted,
            });
        }
    };
    for counter in Counter::ALL {
        diff(
            counter.as_str().to_owned(),
            kept.get(counter),
            recounted.get(counter),
        );
    }
    let currencies: BTreeSet<&String> = kept.money.keys().chain(recounted.money.keys()).collect();
    for currency in currencies {
        let k = kept.money.get(currency).copied().unwrap_or_default();
        let r = recounted.money.get(currency).copied().unwrap_or_default();
        diff(
            format!("gross_cents.{currency}"),
            k.gross_cents,
            r.gross_cents,
        );
        diff(
            format!("refunds_cents.{currency}"),
            k.refunds_cents,
            r.refunds_cents,
        );
    }
}

impl<F, B, C, K> Reporting<F, B, C, K>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    /// Recounts `venue`'s figures over `range` and reports every day whose
    /// kept figures differ (an operator command: no caller).
    pub async fn rebuild(
        &self,
        payments: &impl PaymentStore,
        venue: &VenueId,
        range: DateRange,
    ) -> Result<Reconciliation, AppError> {
        let resources = self.resources_of(venue).await?;
        let mut recounted: BTreeMap<(ResourceId, NaiveDate), Figures> = BTreeMap::new();
        let mut bookings = 0;
        for resource in &resources {
            for date in range.days() {
                let mut cursor: Option<String> = None;
                loop {
                    let filter = BookingFilter {
                        status: None,
                        date: Some(date),
                    };
                    let page = self
                        .bookings
                        .list_for_resource(&resource.id, &filter, 100, cursor.as_deref())
                        .await?;
                    let paid = payments_of(payments, &page.bookings).await?;
                    for booking in &page.bookings {
                        bookings += 1;
                        for (r, d, figures) in recount(booking, paid.get(&booking.id)) {
                            recounted.entry((r, d)).or_default().add(&figures);
                        }
                    }
                    match page.next_cursor {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
        }
        let mut differences = Vec::new();
        let mut days_compared = 0;
        let mut venue_recount: BTreeMap<NaiveDate, Figures> = BTreeMap::new();
        for resource in &resources {
            let kept = self
                .figures
                .days(&Subject::Resource(resource.id.clone()), range)
                .await?;
            for date in range.days() {
                let empty = Figures::default();
                let again = recounted
                    .get(&(resource.id.clone(), date))
                    .unwrap_or(&empty);
                venue_recount.entry(date).or_default().add(again);
                days_compared += 1;
                compare(
                    "resource",
                    &resource.id.to_string(),
                    date,
                    kept.get(&date).unwrap_or(&empty),
                    again,
                    &mut differences,
                );
            }
        }
        let kept = self
            .figures
            .days(&Subject::Venue(venue.clone()), range)
            .await?;
        for date in range.days() {
            let empty = Figures::default();
            days_compared += 1;
            compare(
                "venue",
                &venue.to_string(),
                date,
                kept.get(&date).unwrap_or(&empty),
                venue_recount.get(&date).unwrap_or(&empty),
                &mut differences,
            );
        }
        Ok(Reconciliation {
            venue_id: venue.to_string(),
            from: range.from,
            to: range.to,
            bookings,
            days_compared,
            differences,
        })
    }
}

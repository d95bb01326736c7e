//! The reporting use cases, generic over the ports: count an event once,
//! answer a subject's statistics over a date range, and a venue's
//! dashboard.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use serde::{Deserialize, Serialize};

use super::ports::{Counted, FiguresStore};
use super::{Counter, DateRange, Figures, Money, Period, Subject, counts, tally};
use crate::booking::ports::BookingReader;
use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use crate::catalog::{Resource, ResourceId, SlotId, SlotStatus, Venue, VenueId};
use crate::clock::Clock;
use crate::events::DecodeError;
use crate::identity::{Caller, Permission};
use crate::kernel::{BookingId, PageRequest};
use crate::{AppError, EventEnvelope};

/// Why an event could not be counted now.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// Not an event this version can read: retrying cannot help.
    #[error(transparent)]
    BadEvent(#[from] DecodeError),
    #[error(transparent)]
    App(#[from] AppError),
}

/// The reporting context over its ports.
pub struct Reporting<F, B, C, K> {
    pub figures: F,
    pub bookings: B,
    pub catalog: C,
    pub clock: K,
}

/// The booking an event is about (every counted event names it).
#[derive(Deserialize)]
struct About {
    booking_id: BookingId,
}

pub(crate) fn venue_not_found(id: &VenueId) -> AppError {
    AppError::NotFound {
        code: "VENUE_NOT_FOUND",
        what: format!("the venue {id}"),
    }
}

pub(crate) fn resource_not_found(id: &ResourceId) -> AppError {
    AppError::NotFound {
        code: "RESOURCE_NOT_FOUND",
        what: format!("the resource {id}"),
    }
}

impl<F, B, C, K> Reporting<F, B, C, K>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    /// Counts `event` once: `None` for an event the figures do not count.
    pub async fn count(&self, event: &EventEnvelope) -> Result<Option<Counted>, CountError> {
        if !counts(&event.event_type) {
            return Ok(None);
        }
        let about: About = serde_json::from_value(event.data.clone()).map_err(|source| {
            DecodeError::Malformed {
                event_type: event.event_type.clone(),
                source,
            }
        })?;
        // The booking was written in the transaction of its event, so it
        // exists; one that does not is a fault worth a retry and then the
        // dead-letter queue, never a silent skip.
        let booking = self.bookings.get(&about.booking_id).await?.ok_or_else(|| {
            AppError::internal(
                "counting an event",
                format!(
                    "booking {} of event {} not found",
                    about.booking_id, event.id
                ),
            )
        })?;
        let Some(tally) = tally(event, &booking)? else {
            return Ok(None);
        };
        if tally.is_empty() {
            return Ok(Some(Counted::New));
        }
        Ok(Some(self.figures.apply(&tally).await?))
    }

    /// The venue and resources of `subject`, if the caller may read its
    /// statistics (else the 404 of one that does not exist, or 403).
    pub(crate) async fn open(
        &self,
        caller: &Caller,
        subject: &Subject,
    ) -> Result<(Venue, Vec<Resource>), AppError> {
        let scope = caller.scope(Permission::StatsRead)?;
        match subject {
            Subject::Resource(id) => {
                let resource = self
                    .catalog
                    .get_resource(id)
                    .await?
                    .ok_or_else(|| resource_not_found(id))?;
                let venue = self
                    .catalog
                    .get_venue(&resource.venue_id)
                    .await?
                    .ok_or_else(|| resource_not_found(id))?;
                scope.check(venue.company_id.as_ref(), || resource_not_found(id))?;
                Ok((venue, vec![resource]))
            }
            Subject::Venue(id) => {
                let venue = self
                    .catalog
                    .get_venue(id)
                    .await?
                    .ok_or_else(|| venue_not_found(id))?;
                scope.check(venue.company_id.as_ref(), || venue_not_found(id))?;
                let resources = self.resources_of(id).await?;
                Ok((venue, resources))
            }
        }
    }

    pub(crate) async fn resources_of(&self, venue: &VenueId) -> Result<Vec<Resource>, AppError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .catalog
                .list_resources(
                    venue,
                    PageRequest {
                        limit: 100,
                        cursor: cursor.as_deref(),
                    },
                )
                .await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// Places offered per slot of `resource` in `range`, from the catalog
    /// as it is now: an open slot its capacity, a closed one the places it
    /// still holds; a room every unit of its opening hours.
    async fn offered(
        &self,
        resource: &Resource,
        range: DateRange,
    ) -> Result<BTreeMap<SlotId, i64>, AppError> {
        let mut out = BTreeMap::new();
        if let Some(rules) = &resource.range {
            let units = rules.units(rules.opens, rules.closes).unwrap_or_default();
            for date in range.days() {
                for start in &units {
                    let id = SlotId {
                        resource_id: resource.id.clone(),
                        date,
                        start: *start,
                    };
                    out.insert(id, 1);
                }
            }
            return Ok(out);
        }
        let days = futures::future::try_join_all(
            range
                .days()
                .map(|date| self.catalog.slots_on(&resource.id, date)),
        )
        .await?;
        for slot in days.into_iter().flatten() {
            let places = match slot.status {
                SlotStatus::Available => slot.capacity,
                SlotStatus::Closed => slot.booked.min(slot.capacity),
            };
            out.insert(slot.id, i64::from(places));
        }
        Ok(out)
    }

    /// Statistics of `subject` over the range `query` names, one row per
    /// day or week. The caller's access is checked first: someone without
    /// it learns nothing, not even that their query was malformed.
    pub async fn stats(
        &self,
        caller: &Caller,
        subject: &Subject,
        query: RangeQuery<'_>,
    ) -> Result<Stats, AppError> {
        let (venue, resources) = self.open(caller, subject).await?;
        let range = DateRange::parse(query.from, query.to)?;
        let period = Period::parse(query.by)?;
        let kept = self.figures.days(subject, range).await?;
        let mut offered: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for resource in &resources {
            for (slot, places) in self.offered(resource, range).await? {
                *offered.entry(slot.date).or_default() += places;
            }
        }
        let mut rows: BTreeMap<NaiveDate, Row> = BTreeMap::new();
        let mut total = Row::default();
        for date in range.days() {
            let start = period.start_of(date);
            let row = rows.entry(start).or_insert_with(|| Row {
                start: Some(start),
                ..Row::default()
            });
            let figures = kept.get(&date).cloned().unwrap_or_default();
            let places = offered.get(&date).copied().unwrap_or(0);
            for r in [&mut *row, &mut total] {
                r.figures.add(&figures);
                r.offered += places;
            }
        }
        Ok(Stats {
            subject: SubjectView::of(subject),
            time_zone: venue.time_zone.name().to_owned(),
            from: range.from,
            to: range.to,
            by: match period {
                Period::Day => "day",
                Period::Week => "week",
            },
            rows: rows.into_values().map(Row::view).collect(),
            total: total.view(),
        })
    }

    /// A venue's dashboard as of now at the venue: today, the last 7 and
    /// 30 days, the next 7; and over the last 30 days and the next 7 the
    /// busiest and the emptiest slots and the occupancy of each weekday
    /// and hour.
    pub async fn dashboard(
        &self,
        caller: &Caller,
        venue_id: &VenueId,
    ) -> Result<Dashboard, AppError> {
        let subject = Subject::Venue(venue_id.clone());
        let (venue, resources) = self.open(caller, &subject).await?;
        let today = venue.time_zone.local(self.clock.now()).date_naive();
        let window = DateRange::new(today - Duration::days(29), today + Duration::days(7))?;
        let kept = self.figures.days(&subject, window).await?;
        let mut offered: BTreeMap<SlotId, i64> = BTreeMap::new();
        let mut used: BTreeMap<SlotId, i64> = BTreeMap::new();
        for resource in &resources {
            offered.extend(self.offered(resource, window).await?);
            used.extend(self.figures.slot_places(&resource.id, window).await?);
        }
        let summary = |from: NaiveDate, to: NaiveDate| {
            let mut row = Row::default();
            for (date, figures) in kept.range(from..=to) {
                let _ = date;
                row.figures.add(figures);
            }
            row.offered = offered
                .iter()
                .filter(|(slot, _)| slot.date >= from && slot.date <= to)
                .map(|(_, p)| *p)
                .sum();
            row.view()
        };
        let mut slots: Vec<SlotFigures> = offered
            .iter()
            .filter(|(slot, places)| **places > 0 && resources_slot(&resources, slot))
            .map(|(slot, places)| {
                let sold = used.get(slot).copied().unwrap_or(0);
                SlotFigures {
                    slot_id: slot.to_string(),
                    starts_at: venue
                        .time_zone
                        .local(venue.time_zone.starts_at(slot))
                        .to_rfc3339(),
                    places_sold: sold,
                    places_offered: *places,
                    occupancy: ratio(sold, *places),
                }
            })
            .collect();
        slots.sort_by(|a, b| {
            b.occupancy
                .partial_cmp(&a.occupancy)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.places_sold.cmp(&a.places_sold))
                .then(a.slot_id.cmp(&b.slot_id))
        });
        let busiest: Vec<SlotFigures> = slots.iter().take(5).cloned().collect();
        let emptiest: Vec<SlotFigures> = slots.iter().rev().take(5).cloned().collect();
        Ok(Dashboard {
            venue_id: venue.id.to_string(),
            time_zone: venue.time_zone.name().to_owned(),
            today,
            window_from: window.from,
            window_to: window.to,
            today_figures: summary(today, today),
            last_7_days: summary(today - Duration::days(6), today),
            last_30_days: summary(today - Duration::days(29), today),
            next_7_days: summary(today + Duration::days(1), today + Duration::days(7)),
            busiest_slots: busiest,
            emptiest_slots: emptiest,
            occupancy_matrix: Matrix::of(&offered, &used),
        })
    }
}

/// A statistics request's range and period, as sent (checked once the
/// caller's access is).
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeQuery<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub by: Option<&'a str>,
}

/// Whether `slot` is one of a slotted resource's (rooms have no slots to
/// rank; their units count in the totals and the matrix).
fn resources_slot(resources: &[Resource], slot: &SlotId) -> bool {
    resources
        .iter()
        .any(|r| r.id == slot.resource_id && r.range.is_none())
}

fn ratio(sold: i64, offered: i64) -> Option<f64> {
    (offered > 0).then(|| ((sold as f64 / offered as f64) * 10_000.0).round() / 10_000.0)
}

/// A row being summed.
#[derive(Debug, Default)]
struct Row {
    start: Option<NaiveDate>,
    figures: Figures,
    offered: i64,
}

impl Row {
    fn view(self) -> FiguresView {
        let f = &self.figures;
        let sold = f.get(Counter::Places);
        FiguresView {
            start: self.start,
            bookings: BookingCounts {
                created: f.get(Counter::Created),
                confirmed: f.get(Counter::Confirmed),
                cancelled: f.get(Counter::Cancelled),
                expired: f.get(Counter::Expired),
                failed: f.get(Counter::Failed),
            },
            places_sold: sold,
            places_offered: self.offered,
            occupancy: ratio(sold, self.offered),
            revenue: f
                .money
                .iter()
                .map(|(currency, m)| (currency.clone(), MoneyView::of(*m)))
                .collect(),
            cancellations_by_notice: NoticeCounts {
                under_24h: f.get(Counter::NoticeUnder24h),
                from_1_to_3_days: f.get(Counter::Notice1To3Days),
                from_3_to_7_days: f.get(Counter::Notice3To7Days),
                over_7_days: f.get(Counter::NoticeOver7Days),
            },
        }
    }
}

/// Whose statistics, as answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectView {
    pub kind: &'static str,
    pub id: String,
}

impl SubjectView {
    fn of(subject: &Subject) -> Self {
        match subject {
            Subject::Resource(id) => Self {
                kind: "resource",
                id: id.to_string(),
            },
            Subject::Venue(id) => Self {
                kind: "venue",
                id: id.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub subject: SubjectView,
    pub time_zone: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: &'static str,
    pub rows: Vec<FiguresView>,
    pub total: FiguresView,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BookingCounts {
    pub created: i64,
    pub confirmed: i64,
    pub cancelled: i64,
    pub expired: i64,
    pub failed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoticeCounts {
    pub under_24h: i64,
    pub from_1_to_3_days: i64,
    pub from_3_to_7_days: i64,
    pub over_7_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MoneyView {
    pub gross_cents: i64,
    pub refunds_cents: i64,
    pub net_cents: i64,
}

impl MoneyView {
    fn of(m: Money) -> Self {
        Self {
            gross_cents: m.gross_cents,
            refunds_cents: m.refunds_cents,
            net_cents: m.net_cents(),
        }
    }
}

/// One row of figures: a day, a week, or a total (`start` absent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FiguresView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    pub bookings: BookingCounts,
    pub places_sold: i64,
    pub places_offered: i64,
    /// Places sold / places offered; `null` when nothing was offered.
    pub occupancy: Option<f64>,
    /// Per currency.
    pub revenue: BTreeMap<String, MoneyView>,
    pub cancellations_by_notice: NoticeCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotFigures {
    pub slot_id: String,
    pub starts_at: String,
    pub places_sold: i64,
    pub places_offered: i64,
    pub occupancy: Option<f64>,
}

/// Occupancy by local weekday (rows, Monday first) and hour (columns,
/// 0-23), ready for a heat map; `null` where nothing was offered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    pub weekdays: [&'static str; 7],
    pub hours: Vec<u32>,
    pub places_sold: Vec<Vec<i64>>,
    pub places_offered: Vec<Vec<i64>>,
    pub occupancy: Vec<Vec<Option<f64>>>,
}

impl Matrix {
    fn of(offered: &BTreeMap<SlotId, i64>, used: &BTreeMap<SlotId, i64>) -> Self {
        let mut sold = vec![vec![0i64; 24]; 7];
        let mut offer = vec![vec![0i64; 24]; 7];
        let cell = |slot: &SlotId| {
            (
                slot.date.weekday().num_days_from_monday() as usize,
                slot.start.hour() as usize,
            )
        };
        for (slot, places) in offered {
            let (d, h) = cell(slot);
            offer[d][h] += places;
        }
        for (slot, places) in used {
            let (d, h) = cell(slot);
            sold[d][h] += places;
        }
        let occupancy = sold
            .iter()
            .zip(&offer)
            .map(|(s, o)| s.iter().zip(o).map(|(s, o)| ratio(*s, *o)).collect())
            .collect();
        Self {
            weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
            hours: (0..24).collect(),
            places_sold: sold,
            places_offered: offer,
            occupancy,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub venue_id: String,
    pub time_zone: String,
    /// Today at the venue.
    pub today: NaiveDate,
    /// The days the slots and the matrix cover.
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    #[serde(rename = "today_figures")]
    pub today_figures: FiguresView,
    pub last_7_days: FiguresView,
    pub last_30_days: FiguresView,
    pub next_7_days: FiguresView,
    pub busiest_slots: Vec<SlotFigures>,
    pub emptiest_slots: Vec<SlotFigures>,
    pub occupancy_matrix: Matrix,
}

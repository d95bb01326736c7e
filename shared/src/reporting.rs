//! Reporting: the figures an operator runs the business on.
//!
//! Every booking event is turned into a [`Tally`]: how it changes the daily
//! figures of its resource (and so of its venue) and the places used of
//! each slot it touches. The stats consumer writes a tally once per event,
//! with the marker that says it was counted, in one transaction, so a
//! redelivery changes nothing. Tallies only add, so the order events
//! arrive in does not matter either.
//!
//! The day of a figure is the day of the slot at its venue: the slot id is
//! the venue's wall-clock date and time, so a round at 08:00 in Seoul on
//! the 2nd counts on the 2nd, whichever day it is in UTC. Places offered
//! are read from the catalog when figures are asked for (so generating,
//! resizing and closing slots count at once); everything else is kept.

pub mod activity;
pub mod export;
pub mod ports;
pub mod rebuild;
pub mod service;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::booking::events::{
    BookingCancelled, BookingConfirmed, BookingCreated, BookingEnded, BookingExpired,
    BookingModified,
};
use crate::booking::{Booking, BookingStatus};
use crate::catalog::{ResourceId, SlotId, VenueId};
use crate::events::DecodeError;
use crate::payment::share;
use crate::{AppError, EventEnvelope, EventType};

/// A counted figure of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Counter {
    /// Holds taken (a hold moved to another day moves with it).
    Created,
    Confirmed,
    /// Cancelled by the customer (from a hold or a confirmed booking).
    Cancelled,
    Expired,
    /// Ended because the payment failed.
    Failed,
    /// Places of confirmed bookings still standing: the capacity they take
    /// (a round's places at both of its tee times, a room's units).
    Places,
    NoticeUnder24h,
    Notice1To3Days,
    Notice3To7Days,
    NoticeOver7Days,
}

impl Counter {
    pub const ALL: [Counter; 10] = [
        Self::Created,
        Self::Confirmed,
        Self::Cancelled,
        Self::Expired,
        Self::Failed,
        Self::Places,
        Self::NoticeUnder24h,
        Self::Notice1To3Days,
        Self::Notice3To7Days,
        Self::NoticeOver7Days,
    ];

    /// Its attribute name in the table and its key in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
            Self::Failed => "failed",
            Self::Places => "places_sold",
            Self::NoticeUnder24h => "notice_under_24h",
            Self::Notice1To3Days => "notice_1_to_3_days",
            Self::Notice3To7Days => "notice_3_to_7_days",
            Self::NoticeOver7Days => "notice_over_7_days",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// The bucket of a cancellation made `notice` before the start.
    pub fn notice(notice: Duration) -> Self {
        if notice < Duration::hours(24) {
            Self::NoticeUnder24h
        } else if notice < Duration::days(3) {
            Self::Notice1To3Days
        } else if notice < Duration::days(7) {
            Self::Notice3To7Days
        } else {
            Self::NoticeOver7Days
        }
    }
}

/// Money of one currency, in cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Money {
    /// Prices of bookings confirmed (paid).
    pub gross_cents: i64,
    /// What their cancellations gave back.
    pub refunds_cents: i64,
}

impl Money {
    pub fn net_cents(self) -> i64 {
        self.gross_cents - self.refunds_cents
    }
}

/// Kept figures: counters and money per currency. A value that was never
/// counted is zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub counts: BTreeMap<Counter, i64>,
    pub money: BTreeMap<String, Money>,
}

impl Figures {
    pub fn get(&self, counter: Counter) -> i64 {
        self.counts.get(&counter).copied().unwrap_or(0)
    }

    pub fn count(&mut self, counter: Counter, by: i64) {
        *self.counts.entry(counter).or_default() += by;
    }

    pub fn earn(&mut self, currency: &str, gross_cents: i64, refunds_cents: i64) {
        let money = self.money.entry(currency.to_owned()).or_default();
        money.gross_cents += gross_cents;
        money.refunds_cents += refunds_cents;
    }

    pub fn add(&mut self, other: &Figures) {
        for (counter, by) in &other.counts {
            self.count(*counter, *by);
        }
        for (currency, money) in &other.money {
            self.earn(currency, money.gross_cents, money.refunds_cents);
        }
    }

    /// The same figures without the zeros (what a store that never wrote a
    /// value reads back).
    pub fn trimmed(&self) -> Self {
        Self {
            counts: self
                .counts
                .iter()
                .filter(|(_, v)| **v != 0)
                .map(|(k, v)| (*k, *v))
                .collect(),
            money: self
                .money
                .iter()
                .filter(|(_, m)| **m != Money::default())
                .map(|(k, m)| (k.clone(), *m))
                .collect(),
        }
    }
}

/// How one event changes one resource's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayChange {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub figures: Figures,
}

/// Everything one event changes, written once with its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub event_id: String,
    pub venue_id: VenueId,
    pub days: Vec<DayChange>,
    /// Places used, per slot (for the busiest slots and the week matrix).
    pub slots: Vec<(SlotId, i64)>,
}

impl Tally {
    fn new(event: &EventEnvelope, booking: &Booking) -> Self {
        Self {
            event_id: event.id.to_string(),
            venue_id: booking.venue_id.clone(),
            days: Vec::new(),
            slots: Vec::new(),
        }
    }

    fn day(&mut self, slot: &SlotId, change: impl FnOnce(&mut Figures)) {
        let index = match self
            .days
            .iter()
            .position(|d| d.resource_id == slot.resource_id && d.date == slot.date)
        {
            Some(i) => i,
            None => {
                self.days.push(DayChange {
                    resource_id: slot.resource_id.clone(),
                    date: slot.date,
                    figures: Figures::default(),
                });
                self.days.len() - 1
            }
        };
        change(&mut self.days[index].figures);
    }

    /// `sign` times the places `booking` takes, at every slot it takes
    /// them in.
    fn places(&mut self, booking: &Booking, slot: &SlotId, quantity: u32, sign: i64) {
        for (slot, places) in places_of(booking, slot, quantity) {
            self.day(&slot, |f| f.count(Counter::Places, sign * places));
            self.slots.push((slot, sign * places));
        }
    }

    /// Whether it changes nothing (a hold moved within its day).
    pub fn is_empty(&self) -> bool {
        self.days
            .iter()
            .all(|d| d.figures.trimmed() == Figures::default())
            && self.slots.iter().all(|(_, p)| *p == 0)
    }
}

/// The slots a booking takes capacity in and how much: a room range one
/// place per unit it locks (each unit as the slot starting then), a round its places at both tee times, anything
/// else its places at its slot.
pub fn places_of(booking: &Booking, slot: &SlotId, quantity: u32) -> Vec<(SlotId, i64)> {
    if !booking.units.is_empty() {
        return booking
            .units
            .iter()
            .map(|start| {
                let unit = SlotId {
                    start: *start,
                    ..slot.clone()
                };
                (unit, 1)
            })
            .collect();
    }
    let mut out = vec![(slot.clone(), i64::from(quantity))];
    if let Some(back) = &booking.back_nine_slot_id {
        out.push((back.clone(), i64::from(quantity)));
    }
    out
}

/// The tally of `event` about `booking` (the booking as it is now: only its
/// venue, zone, currency and shape are read from it, which never change),
/// or `None` for an event the figures do not count.
pub fn tally(event: &EventEnvelope, booking: &Booking) -> Result<Option<Tally>, DecodeError> {
    let mut tally = Tally::new(event, booking);
    match event.event_type {
        EventType::BookingCreated => {
            let created: BookingCreated = event.decode()?;
            tally.day(&created.slot_id, |f| f.count(Counter::Created, 1));
        }
        EventType::BookingConfirmed => {
            let confirmed: BookingConfirmed = event.decode()?;
            let price = i64::try_from(confirmed.price_cents).unwrap_or(i64::MAX);
            tally.day(&confirmed.slot_id, |f| {
                f.count(Counter::Confirmed, 1);
                f.earn(&confirmed.currency, price, 0);
            });
            tally.places(booking, &confirmed.slot_id, confirmed.quantity, 1);
        }
        EventType::BookingCancelled => {
            let BookingCancelled(ended) = event.decode()?;
            ended_tally(&mut tally, &ended, booking, event.occurred_at);
        }
        EventType::BookingExpired => {
            let BookingExpired(ended) = event.decode()?;
            tally.day(&ended.slot_id, |f| f.count(Counter::Expired, 1));
        }
        EventType::BookingModified => {
            // Only unpaid holds change (rules::check_modifiable): the hold
            // moves; no place sold and no money moves with it.
            let modified: BookingModified = event.decode()?;
            let (from, to) = (&modified.from.slot_id, &modified.to.slot_id);
            if from.resource_id != to.resource_id || from.date != to.date {
                tally.day(from, |f| f.count(Counter::Created, -1));
                tally.day(to, |f| f.count(Counter::Created, 1));
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(tally))
}

fn ended_tally(tally: &mut Tally, ended: &BookingEnded, booking: &Booking, at: DateTime<Utc>) {
    if ended.to == BookingStatus::Failed {
        tally.day(&ended.slot_id, |f| f.count(Counter::Failed, 1));
        return;
    }
    let notice = booking.starts_at.with_timezone(&Utc) - at;
    tally.day(&ended.slot_id, |f| {
        f.count(Counter::Cancelled, 1);
        f.count(Counter::notice(notice), 1);
    });
    if ended.from == BookingStatus::Confirmed {
        let refund = share(ended.price_cents, ended.refund_percent);
        tally.day(&ended.slot_id, |f| {
            f.earn(
                &booking.currency,
                0,
                i64::try_from(refund).unwrap_or(i64::MAX),
            );
        });
        tally.places(booking, &ended.slot_id, ended.quantity, -1);
    }
}

/// Whether the figures count events of this type (the consumer reads the
/// booking only for these).
pub fn counts(event_type: &EventType) -> bool {
    matches!(
        event_type,
        EventType::BookingCreated
            | EventType::BookingConfirmed
            | EventType::BookingCancelled
            | EventType::BookingExpired
            | EventType::BookingModified
    )
}

/// Whose figures: one resource's, or a venue's (all its resources).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Resource(ResourceId),
    Venue(VenueId),
}

/// The rows of a statistics answer: one per day, or one per ISO week
/// (Monday to Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
}

impl Period {
    pub fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        match raw {
            None | Some("day") => Ok(Self::Day),
            Some("week") => Ok(Self::Week),
            Some(_) => Err(AppError::validation(
                "INVALID_PERIOD",
                "by must be day or week",
            )),
        }
    }

    /// The first day of the row `date` belongs to.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => date,
            Self::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        }
    }
}

/// The longest date range one statistics request may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A validated inclusive date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, AppError> {
        let date = |raw: Option<&str>, name: &str| {
            let raw = raw.ok_or_else(|| {
                AppError::validation("MISSING_DATE", format!("{name} is required (YYYY-MM-DD)"))
            })?;
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                AppError::validation("INVALID_DATE", format!("{name} must be YYYY-MM-DD"))
            })
        };
        Self::new(date(from, "from")?, date(to, "to")?)
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, AppError> {
        if to < from {
            return Err(AppError::validation(
                "INVALID_RANGE",
                "to must not be before from",
            ));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(AppError::validation(
                "RANGE_TOO_LONG",
                format!("a range covers at most {MAX_RANGE_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        self.from.iter_days().take_while(move |d| *d <= self.to)
    }
}

#[cfg(test)]
mod tests;

//! The booking context's twin: bookings, their histories and idempotency
//! records, and the places they take of the catalog twin's slots, seats
//! and room units.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

mod reads;

use super::MemoryCatalog;
use super::catalog::MemorySlots;
use crate::booking::ports::{
    BookingChange, BookingStore, ChangeRefused, Confirmation, HoldRefused, KeyRecord, NewHold,
    Release, confirmation, note,
};
use crate::booking::{Booking, BookingId, BookingStatus, HistoryEntry};
use crate::catalog::{CatalogStatus, ResourceId, SeatStatus, SlotId, SlotStatus, VenueId};
use crate::events::EventId;
use crate::identity::UserId;
use crate::payment::CardToken;
use crate::{AppError, CorrelationId, EventEnvelope};

/// Bookings in memory, with the DynamoDB adapter's guarantees: a hold
/// takes all its places or none (a slot's places never go below zero, a
/// seat or unit has one holder), one booking per idempotency key and per
/// number, every transition conditional on the status read, every change
/// written with its event. Read as the adapter reads: a user's list newest
/// first (by `created_at`, then id), paged by an opaque cursor, `limit`
/// read before the filter applies; a history in time order.
#[derive(Debug, Default)]
pub struct MemoryBookings {
    catalog: Arc<MemoryCatalog>,
    /// The companies whose status a hold checks; none: every company is open.
    companies: Option<Arc<super::MemoryCompanies>>,
    bookings: Mutex<BTreeMap<BookingId, (Booking, Vec<HistoryEntry>)>>,
    state: Mutex<Records>,
}

/// What the adapter keeps beside the bookings.
#[derive(Debug, Default)]
struct Records {
    /// `(user, key)` to `(fingerprint, first answer)`.
    keys: HashMap<(UserId, String), (String, String)>,
    numbers: HashSet<String>,
    notes: HashSet<(BookingId, EventId)>,
    outbox: Vec<EventEnvelope>,
    /// Payment intents: the card each card booking is to be charged on.
    intents: HashMap<BookingId, CardToken>,
    /// Each customer's live places per slot.
    places: HashMap<(UserId, SlotId), i64>,
    /// Each customer's unpaid holds.
    holds: HashMap<UserId, i64>,
}

impl Records {
    fn count_places(&mut self, user: &UserId, slot: &SlotId, delta: i64) {
        *self.places.entry((user.clone(), slot.clone())).or_default() += delta;
    }

    fn count_holds(&mut self, user: &UserId, delta: i64) {
        *self.holds.entry(user.clone()).or_default() += delta;
    }

    /// Whether `user` may take `delta` more places of `slot` under `limits`.
    fn places_allowed(
        &self,
        user: &UserId,
        slot: &SlotId,
        delta: i64,
        limits: Option<crate::booking::rules::Limits>,
    ) -> bool {
        let held = self
            .places
            .get(&(user.clone(), slot.clone()))
            .copied()
            .unwrap_or(0);
        limits.is_none_or(|l| delta <= 0 || held + delta <= i64::from(l.places_per_slot))
    }
}

impl MemoryBookings {
    /// Bookings of the slots, seats and units of `catalog`.
    pub fn over(catalog: Arc<MemoryCatalog>) -> Self {
        Self {
            catalog,
            ..Self::default()
        }
    }

    /// The same, checking that a venue's company is active as the
    /// adapter's transaction does.
    pub fn with_companies(self, companies: Arc<super::MemoryCompanies>) -> Self {
        Self {
            companies: Some(companies),
            ..self
        }
    }

    /// The catalog whose places the bookings take.
    pub fn catalog(&self) -> &MemoryCatalog {
        &self.catalog
    }

    /// Stores a booking with its history (for tests).
    pub fn insert(&self, booking: Booking, history: Vec<HistoryEntry>) {
        self.bookings
            .lock()
            .expect("lock")
            .insert(booking.id.clone(), (booking, history));
    }

    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").outbox.clone()
    }

    /// The card a booking's payment intent holds.
    pub fn intent(&self, booking: &BookingId) -> Option<CardToken> {
        self.state
            .lock()
            .expect("lock")
            .intents
            .get(booking)
            .cloned()
    }
}

/// Whether `slot` has `quantity` places for a booking seated (or not).
fn has_room(slots: &MemorySlots, slot: &SlotId, quantity: u32, seated: bool) -> bool {
    slots.slots.get(slot).is_some_and(|s| {
        s.status == SlotStatus::Available && s.remaining() >= quantity && s.seated == seated
    })
}

fn take(slots: &mut MemorySlots, slot: &SlotId, quantity: u32) {
    if let Some(s) = slots.slots.get_mut(slot) {
        s.booked += quantity;
    }
}

fn give_back(slots: &mut MemorySlots, slot: &SlotId, quantity: u32) {
    if let Some(s) = slots.slots.get_mut(slot) {
        s.booked = s.booked.saturating_sub(quantity);
    }
}

impl MemoryBookings {
    /// The venue is open and its company (if the twin knows companies) active.
    fn venue_open(&self, booking: &Booking) -> bool {
        let company_open = match (&self.companies, &booking.company_id) {
            (Some(companies), Some(company)) => companies.is_active(company),
            _ => true,
        };
        company_open && self.venue_is_open(&booking.venue_id)
    }

    fn venue_is_open(&self, id: &VenueId) -> bool {
        self.catalog
            .venues
            .lock()
            .expect("lock")
            .get(id)
            .is_some_and(|v| v.status == CatalogStatus::Open)
    }

    fn resource_open(&self, id: &ResourceId) -> bool {
        self.catalog
            .resources
            .lock()
            .expect("lock")
            .get(id)
            .is_some_and(|r| r.status == CatalogStatus::Open)
    }

    /// The refusal of a hold, in the adapter's order of precedence.
    fn hold_refusal(
        &self,
        hold: &NewHold<'_>,
        records: &Records,
        slots: &MemorySlots,
    ) -> Option<HoldRefused> {
        let booking = hold.booking;
        let slot = &booking.slot_id;
        if records
            .keys
            .contains_key(&(hold.key.user.clone(), hold.key.key.as_str().to_owned()))
        {
            return Some(HoldRefused::KeyUsed);
        }
        if !self.venue_open(booking) {
            return Some(HoldRefused::VenueClosed);
        }
        let back_closed = booking
            .back_nine_slot_id
            .as_ref()
            .is_some_and(|b| !self.resource_open(&b.resource_id));
        if !self.resource_open(&slot.resource_id) || back_closed {
            return Some(HoldRefused::ResourceClosed);
        }
        let user = &booking.user_id;
        if booking.units.is_empty()
            && !records.places_allowed(user, slot, i64::from(booking.quantity), hold.limits)
        {
            return Some(HoldRefused::PlacesLimit);
        }
        let pending = records.holds.get(user).copied().unwrap_or(0);
        if hold
            .limits
            .is_some_and(|l| pending >= i64::from(l.unpaid_holds))
        {
            return Some(HoldRefused::TooManyHolds);
        }
        if let Some(back) = &booking.back_nine_slot_id
            && !has_room(slots, back, booking.quantity, false)
        {
            return Some(HoldRefused::Slot(back.clone()));
        }
        let seats: Vec<String> = booking
            .seats
            .iter()
            .filter(|seat| {
                slots
                    .seats
                    .get(slot)
                    .and_then(|m| m.get(&seat.seat_id))
                    .is_none_or(|s| s.status != SeatStatus::Available)
            })
            .map(|seat| seat.seat_id.clone())
            .collect();
        if !seats.is_empty() {
            return Some(HoldRefused::Seats(seats));
        }
        let held = slots.units.get(&(slot.resource_id.clone(), slot.date));
        let units: Vec<_> = booking
            .units
            .iter()
            .filter(|u| held.is_some_and(|h| h.contains_key(u)))
            .copied()
            .collect();
        if !units.is_empty() {
            return Some(HoldRefused::Units(units));
        }
        if booking.units.is_empty()
            && !has_room(slots, slot, booking.quantity, !booking.seats.is_empty())
        {
            return Some(HoldRefused::Slot(slot.clone()));
        }
        if records.numbers.contains(booking.number.as_str()) {
            return Some(HoldRefused::NumberTaken);
        }
        None
    }
}

impl BookingStore for MemoryBookings {
    async fn answer(&self, key: &KeyRecord<'_>) -> Result<Option<String>, AppError> {
        let records = self.state.lock().expect("lock");
        match records
            .keys
            .get(&(key.user.clone(), key.key.as_str().to_owned()))
        {
            None => Ok(None),
            Some((fingerprint, _)) if fingerprint != key.fingerprint => {
                Err(AppError::Unprocessable {
                    code: "IDEMPOTENCY_KEY_REUSED",
                    message: "this Idempotency-Key was used for a different request".into(),
                })
            }
            Some((_, answer)) => Ok(Some(answer.clone())),
        }
    }

    async fn hold(&self, hold: &NewHold<'_>) -> Result<(), HoldRefused> {
        let mut bookings = self.bookings.lock().expect("lock");
        let mut records = self.state.lock().expect("lock");
        let mut slots = self.catalog.slots.lock().expect("lock");
        if let Some(refusal) = self.hold_refusal(hold, &records, &slots) {
            return Err(refusal);
        }
        let booking = hold.booking;
        let slot = &booking.slot_id;
        if booking.units.is_empty() {
            take(&mut slots, slot, booking.quantity);
        }
        if let Some(back) = &booking.back_nine_slot_id {
            take(&mut slots, back, booking.quantity);
        }
        for seat in &booking.seats {
            if let Some(s) = slots
                .seats
                .get_mut(slot)
                .and_then(|m| m.get_mut(&seat.seat_id))
            {
                s.status = SeatStatus::Taken;
            }
            slots
                .seat_holders
                .insert((slot.clone(), seat.seat_id.clone()), booking.id.clone());
        }
        let held = slots
            .units
            .entry((slot.resource_id.clone(), slot.date))
            .or_default();
        for unit in &booking.units {
            held.insert(*unit, Some(booking.id.clone()));
        }
        let answer = serde_json::to_string(booking)
            .map_err(|e| AppError::internal("encoding a booking", e))?;
        records.keys.insert(
            (hold.key.user.clone(), hold.key.key.as_str().to_owned()),
            (hold.key.fingerprint.to_owned(), answer),
        );
        records.numbers.insert(booking.number.as_str().to_owned());
        records.outbox.push(hold.event.clone());
        if let Some(card) = hold.card {
            records.intents.insert(booking.id.clone(), card.clone());
        }
        if booking.units.is_empty() {
            records.count_places(
                &booking.user_id,
                &booking.slot_id,
                i64::from(booking.quantity),
            );
        }
        records.count_holds(&booking.user_id, 1);
        bookings.insert(
            booking.id.clone(),
            (booking.clone(), vec![hold.entry.clone()]),
        );
        Ok(())
    }

    async fn change(&self, change: &BookingChange<'_>) -> Result<(), ChangeRefused> {
        let (before, after) = (change.before, change.after);
        let mut bookings = self.bookings.lock().expect("lock");
        let mut records = self.state.lock().expect("lock");
        let mut slots = self.catalog.slots.lock().expect("lock");
        if !self.venue_open(after) {
            return Err(ChangeRefused::VenueClosed);
        }
        if !self.resource_open(&after.slot_id.resource_id) {
            return Err(ChangeRefused::ResourceClosed);
        }
        let Some((stored, history)) = bookings.get_mut(&before.id) else {
            return Err(ChangeRefused::BookingMoved);
        };
        if (stored.status, stored.quantity, &stored.slot_id)
            != (before.status, before.quantity, &before.slot_id)
        {
            return Err(ChangeRefused::BookingMoved);
        }
        let moved = before.slot_id != after.slot_id;
        let more = if moved {
            i64::from(after.quantity)
        } else {
            i64::from(after.quantity) - i64::from(before.quantity)
        };
        if !records.places_allowed(&after.user_id, &after.slot_id, more, change.limits) {
            return Err(ChangeRefused::PlacesLimit);
        }
        let taken = crate::booking::rules::places_taken(before, after);
        if taken > 0 && !has_room(&slots, &after.slot_id, taken, false) {
            return Err(ChangeRefused::Slot(after.slot_id.clone()));
        }
        records.count_places(&after.user_id, &after.slot_id, more);
        if moved {
            records.count_places(
                &before.user_id,
                &before.slot_id,
                -i64::from(before.quantity),
            );
        }
        if moved {
            give_back(&mut slots, &before.slot_id, before.quantity);
            take(&mut slots, &after.slot_id, after.quantity);
        } else if after.quantity > before.quantity {
            take(&mut slots, &after.slot_id, taken);
        } else {
            give_back(
                &mut slots,
                &before.slot_id,
                before.quantity - after.quantity,
            );
        }
        *stored = Booking {
            status: stored.status,
            hold_expires_at: stored.hold_expires_at,
            ..after.clone()
        };
        history.push(change.entry.clone());
        records.outbox.push(change.event.clone());
        Ok(())
    }

    async fn release_together(
        &self,
        holds: &[Booking],
        release: &Release<'_>,
    ) -> Vec<Result<Booking, AppError>> {
        let mut answers = Vec::with_capacity(holds.len());
        for booking in holds {
            answers.push(self.release(booking, release).await);
        }
        answers
    }

    async fn release(&self, booking: &Booking, release: &Release<'_>) -> Result<Booking, AppError> {
        let mut bookings = self.bookings.lock().expect("lock");
        let mut records = self.state.lock().expect("lock");
        let mut slots = self.catalog.slots.lock().expect("lock");
        let Some((stored, history)) = bookings.get_mut(&booking.id) else {
            return Err(release.refused());
        };
        let lapsed = release.to != BookingStatus::Expired
            || (stored.status == BookingStatus::Pending && stored.hold_expires_at <= release.now);
        if !release.from.contains(&stored.status)
            || stored.quantity != booking.quantity
            || stored.slot_id != booking.slot_id
            || !lapsed
        {
            return Err(release.refused());
        }
        let event = release.event(booking)?;
        let slot = &booking.slot_id;
        if booking.units.is_empty() {
            give_back(&mut slots, slot, booking.quantity);
            records.count_places(&booking.user_id, slot, -i64::from(booking.quantity));
        }
        if stored.status == BookingStatus::Pending {
            records.count_holds(&booking.user_id, -1);
        }
        if let Some(back) = &booking.back_nine_slot_id {
            give_back(&mut slots, back, booking.quantity);
        }
        if let Some(held) = slots.units.get_mut(&(slot.resource_id.clone(), slot.date)) {
            for unit in &booking.units {
                held.remove(unit);
            }
        }
        for seat in &booking.seats {
            slots
                .seat_holders
                .remove(&(slot.clone(), seat.seat_id.clone()));
            if let Some(s) = slots
                .seats
                .get_mut(slot)
                .and_then(|m| m.get_mut(&seat.seat_id))
            {
                s.status = SeatStatus::Available;
            }
        }
        history.push(release.entry(booking));
        records.outbox.push(event);
        *stored = release.released(stored);
        Ok(stored.clone())
    }

    async fn confirm(
        &self,
        booking: &Booking,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, AppError> {
        let (entry, event) = confirmation(booking, reason, correlation_id, now)?;
        let mut bookings = self.bookings.lock().expect("lock");
        let Some((stored, history)) = bookings.get_mut(&booking.id) else {
            return Err(AppError::internal(
                "confirming a booking",
                "the booking vanished",
            ));
        };
        if stored.status != BookingStatus::Pending || stored.hold_expires_at <= now {
            return Ok(Confirmation::of_current(stored.clone()));
        }
        stored.status = BookingStatus::Confirmed;
        stored.confirmed_at = Some(now);
        stored.updated_at = now;
        history.push(entry);
        let mut records = self.state.lock().expect("lock");
        records.outbox.push(event);
        records.count_holds(&booking.user_id, -1);
        Ok(Confirmation::Confirmed)
    }

    async fn note(
        &self,
        booking: &Booking,
        cause: &EventEnvelope,
        reason: &str,
    ) -> Result<(), AppError> {
        let mut bookings = self.bookings.lock().expect("lock");
        let mut records = self.state.lock().expect("lock");
        if !records.notes.insert((booking.id.clone(), cause.id)) {
            return Ok(());
        }
        if let Some((_, history)) = bookings.get_mut(&booking.id) {
            history.push(note(booking, cause, reason));
        }
        Ok(())
    }

    async fn expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Booking>, AppError> {
        let mut lapsed: Vec<Booking> = self
            .bookings
            .lock()
            .expect("lock")
            .values()
            .map(|(b, _)| b)
            .filter(|b| b.status == BookingStatus::Pending && b.hold_expires_at <= now)
            .cloned()
            .collect();
        lapsed.sort_by_key(|b| b.hold_expires_at);
        lapsed.truncate(limit);
        Ok(lapsed)
    }
}

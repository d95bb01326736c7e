//! In-memory twins of the adapters, for fast handler tests.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use crate::adapters::sqs::{DeadLetter, DeadLetterQueues};
use crate::booking::ports::{BookingFilter, BookingPage, BookingReader};
use crate::booking::{Booking, BookingId, HistoryEntry};
use crate::catalog::events::SlotsGenerated;
use crate::catalog::ports::{
    ResourceChange, ResourceStore, SlotChange, SlotStore, VenueChange, VenueStore,
};
use crate::catalog::{
    GenerationSummary, Resource, ResourceId, Seat, SeatMapSummary, Slot, SlotId, Venue, VenueId,
};
use crate::events::{EventEnvelope, EventId};
use crate::identity::service::LoginPolicy;
use crate::identity::{Email, Role, User, UserId};
use crate::payment::events::WalletCharged;
use crate::payment::ports::{TopUpOrder, ToppedUp, WalletStore};
use crate::payment::{LedgerEntry, LedgerKind, MAX_BALANCE, WalletView};
use crate::ports::{
    Attempt, EventLog, EventPublisher, HeartbeatStore, LoginAttempts, OutgoingEvent, Probe,
    PublishFailure, Recorded, Rotation, SessionStore, StoredRefreshToken, UserStore,
};
use crate::{AppError, CorrelationId, EventSource};

/// Records published events; can be told to refuse some event ids.
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    published: Mutex<Vec<OutgoingEvent>>,
    refuse: Mutex<HashSet<EventId>>,
}

impl MemoryPublisher {
    /// Makes every later publish of `id` fail.
    pub fn refuse(&self, id: EventId) {
        self.refuse.lock().expect("lock").insert(id);
    }

    pub fn published(&self) -> Vec<OutgoingEvent> {
        self.published.lock().expect("lock").clone()
    }
}

impl EventPublisher for MemoryPublisher {
    async fn publish(&self, events: &[OutgoingEvent]) -> Vec<PublishFailure> {
        let refuse = self.refuse.lock().expect("lock").clone();
        let mut published = self.published.lock().expect("lock");
        let mut failures = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if refuse.contains(&event.envelope.id) {
                failures.push(PublishFailure {
                    index,
                    reason: "refused by the test".into(),
                });
            } else {
                published.push(event.clone());
            }
        }
        failures
    }
}

/// An event log in a map; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryEventLog {
    events: Mutex<HashMap<EventId, (String, EventEnvelope)>>,
    failing: Mutex<bool>,
}

impl MemoryEventLog {
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("lock") = failing;
    }

    pub fn len(&self) -> usize {
        self.events.lock().expect("lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: &EventId) -> Option<(String, EventEnvelope)> {
        self.events.lock().expect("lock").get(id).cloned()
    }
}

impl EventLog for MemoryEventLog {
    async fn record(&self, source: &str, envelope: &EventEnvelope) -> Result<Recorded, AppError> {
        if *self.failing.lock().expect("lock") {
            return Err(AppError::internal(
                "recording the event",
                "store unavailable",
            ));
        }
        let mut events = self.events.lock().expect("lock");
        if events.contains_key(&envelope.id) {
            return Ok(Recorded::Duplicate);
        }
        events.insert(envelope.id, (source.to_owned(), envelope.clone()));
        Ok(Recorded::New)
    }
}

/// A probe whose answer the test chooses.
#[derive(Debug)]
pub struct StaticProbe {
    pub name: &'static str,
    pub result: Result<(), String>,
}

impl Probe for StaticProbe {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn check(&self) -> Result<(), String> {
        self.result.clone()
    }
}

/// Heartbeats kept in a vector; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryHeartbeats {
    written: Mutex<Vec<OutgoingEvent>>,
    failing: Mutex<bool>,
}

impl MemoryHeartbeats {
    pub fn set_failing(&self, failing: bool) {
        *self.failing.lock().expect("lock") = failing;
    }

    pub fn written(&self) -> Vec<OutgoingEvent> {
        self.written.lock().expect("lock").clone()
    }
}

impl HeartbeatStore for MemoryHeartbeats {
    async fn beat(&self, source: EventSource, envelope: &EventEnvelope) -> Result<(), AppError> {
        if *self.failing.lock().expect("lock") {
            return Err(AppError::internal(
                "writing the heartbeat",
                "store unavailable",
            ));
        }
        self.written.lock().expect("lock").push(OutgoingEvent {
            source: source.as_str().to_owned(),
            envelope: envelope.clone(),
        });
        Ok(())
    }
}

/// Accounts, sessions and login counters in memory, with the same rules as
/// the DynamoDB adapter (unique emails, rotation, reuse revokes the family).
#[derive(Debug, Default)]
pub struct MemoryIdentity {
    state: Mutex<IdentityState>,
}

#[derive(Debug, Default)]
struct IdentityState {
    users: HashMap<UserId, User>,
    emails: HashMap<Email, UserId>,
    events: Vec<EventEnvelope>,
    /// family id -> revoked?
    sessions: HashMap<String, bool>,
    /// token hash -> (token, status)
    tokens: HashMap<String, (StoredRefreshToken, TokenStatus)>,
    attempts: HashMap<Email, Attempts>,
}

/// Failures, when their window opened, and the lock's end if locked.
type Attempts = (u32, DateTime<Utc>, Option<DateTime<Utc>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenStatus {
    Active,
    Rotated,
    Revoked,
}

impl MemoryIdentity {
    /// Every event written with an account change, in order.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").events.clone()
    }

    pub fn user_count(&self) -> usize {
        self.state.lock().expect("lock").users.len()
    }

    /// Whether the session `family_id` has been revoked.
    pub fn session_revoked(&self, family_id: &str) -> Option<bool> {
        self.state
            .lock()
            .expect("lock")
            .sessions
            .get(family_id)
            .copied()
    }
}

impl UserStore for MemoryIdentity {
    async fn create(&self, user: &User, event: &EventEnvelope) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        if state.emails.contains_key(&user.email) {
            return Err(AppError::conflict(
                "EMAIL_TAKEN",
                "an account with this email already exists",
            ));
        }
        state.emails.insert(user.email.clone(), user.id.clone());
        state.users.insert(user.id.clone(), user.clone());
        state.events.push(event.clone());
        Ok(())
    }

    async fn find_by_email(&self, email: &Email) -> Result<Option<User>, AppError> {
        let state = self.state.lock().expect("lock");
        Ok(state
            .emails
            .get(email)
            .and_then(|id| state.users.get(id))
            .cloned())
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, AppError> {
        Ok(self.state.lock().expect("lock").users.get(id).cloned())
    }

    async fn set_role(
        &self,
        email: &Email,
        role: Role,
        event: &EventEnvelope,
    ) -> Result<User, AppError> {
        let mut state = self.state.lock().expect("lock");
        let id = state.emails.get(email).cloned().ok_or(AppError::NotFound {
            code: "USER_NOT_FOUND",
            what: format!("an account with the email {email}"),
        })?;
        let user = state.users.get_mut(&id).expect("claimed email has a user");
        user.role = role;
        let user = user.clone();
        state.events.push(event.clone());
        Ok(user)
    }
}

impl SessionStore for MemoryIdentity {
    async fn start(&self, token: &StoredRefreshToken, _now: DateTime<Utc>) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        state.sessions.insert(token.family_id.clone(), false);
        state
            .tokens
            .insert(token.hash.clone(), (token.clone(), TokenStatus::Active));
        Ok(())
    }

    async fn rotate(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Rotation, AppError> {
        let mut state = self.state.lock().expect("lock");
        let Some((old, status)) = state.tokens.get(old_hash).cloned() else {
            return Ok(Rotation::Unknown);
        };
        if old.expires_at <= now {
            return Ok(Rotation::Expired);
        }
        let family_revoked = state.sessions.get(&old.family_id).copied().unwrap_or(true);
        match status {
            TokenStatus::Revoked => return Ok(Rotation::Revoked),
            TokenStatus::Rotated => {
                state.sessions.insert(old.family_id.clone(), true);
                return Ok(Rotation::Reused {
                    family_id: old.family_id,
                });
            }
            TokenStatus::Active if family_revoked => return Ok(Rotation::Revoked),
            TokenStatus::Active => {}
        }
        state
            .tokens
            .insert(old_hash.to_owned(), (old.clone(), TokenStatus::Rotated));
        let next = StoredRefreshToken {
            hash: new_hash.to_owned(),
            expires_at: new_expires_at,
            ..old.clone()
        };
        state
            .tokens
            .insert(new_hash.to_owned(), (next, TokenStatus::Active));
        Ok(Rotation::Rotated {
            user_id: old.user_id,
            family_id: old.family_id,
        })
    }

    async fn revoke(&self, hash: &str, _now: DateTime<Utc>) -> Result<bool, AppError> {
        let mut state = self.state.lock().expect("lock");
        let Some((token, _)) = state.tokens.get(hash).cloned() else {
            return Ok(false);
        };
        state.sessions.insert(token.family_id.clone(), true);
        if let Some(entry) = state.tokens.get_mut(hash)
            && entry.1 == TokenStatus::Active
        {
            entry.1 = TokenStatus::Revoked;
        }
        Ok(true)
    }

    async fn is_active(&self, family_id: &str) -> Result<bool, AppError> {
        let state = self.state.lock().expect("lock");
        Ok(state.sessions.get(family_id) == Some(&false))
    }

    async fn revoke_all(&self, user: &UserId, _now: DateTime<Utc>) -> Result<usize, AppError> {
        let mut state = self.state.lock().expect("lock");
        let families: Vec<String> = state
            .sessions
            .iter()
            .filter(|(f, revoked)| {
                !**revoked && Self::family_owner(&state, f).as_ref() == Some(user)
            })
            .map(|(f, _)| f.clone())
            .collect();
        for family in &families {
            state.sessions.insert(family.clone(), true);
        }
        Ok(families.len())
    }
}

impl MemoryIdentity {
    fn family_owner(state: &IdentityState, family_id: &str) -> Option<UserId> {
        state
            .tokens
            .values()
            .find(|(t, _)| t.family_id == family_id)
            .map(|(t, _)| t.user_id.clone())
    }
}

impl LoginAttempts for MemoryIdentity {
    async fn reserve(
        &self,
        email: &Email,
        policy: &LoginPolicy,
        now: DateTime<Utc>,
    ) -> Result<Attempt, AppError> {
        let mut state = self.state.lock().expect("lock");
        let entry = state
            .attempts
            .entry(email.clone())
            .or_insert((0, now, None));
        match entry.2 {
            Some(until) if until > now => return Ok(Attempt::Locked { until }),
            Some(_) => *entry = (0, now, None),
            None if entry.1 <= now - policy.window => *entry = (0, now, None),
            None => {}
        }
        if entry.0 >= policy.max_failures {
            return Ok(Attempt::Locked {
                until: now + policy.lockout,
            });
        }
        entry.0 += 1;
        Ok(Attempt::Granted { number: entry.0 })
    }

    async fn lock(&self, email: &Email, until: DateTime<Utc>) -> Result<(), AppError> {
        let mut state = self.state.lock().expect("lock");
        if let Some(entry) = state.attempts.get_mut(email) {
            entry.2 = Some(until);
        }
        Ok(())
    }

    async fn clear(&self, email: &Email) -> Result<(), AppError> {
        self.state.lock().expect("lock").attempts.remove(email);
        Ok(())
    }
}

/// The catalog's venues and resources in memory, with the DynamoDB
/// adapter's guarantees: an id is created once (a second create changes
/// nothing), updates need the item to exist, lists are ordered by name
/// (case-insensitively, then id).
#[derive(Debug, Default)]
pub struct MemoryCatalog {
    venues: Mutex<HashMap<VenueId, Venue>>,
    resources: Mutex<HashMap<ResourceId, Resource>>,
    slots: Mutex<MemorySlots>,
}

fn by_name<T>(mut items: Vec<T>, key: impl Fn(&T) -> (String, String)) -> Vec<T> {
    items.sort_by_key(|item| key(item));
    items
}

impl VenueStore for MemoryCatalog {
    async fn create_venue(&self, venue: &Venue) -> Result<(), AppError> {
        // Created once: a second create of the same id changes nothing.
        self.venues
            .lock()
            .expect("lock")
            .entry(venue.id.clone())
            .or_insert_with(|| venue.clone());
        Ok(())
    }

    async fn get_venue(&self, id: &VenueId) -> Result<Option<Venue>, AppError> {
        Ok(self.venues.lock().expect("lock").get(id).cloned())
    }

    async fn list_venues(&self) -> Result<Vec<Venue>, AppError> {
        let venues = self
            .venues
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        Ok(by_name(venues, |v| {
            (v.name.to_lowercase(), v.id.to_string())
        }))
    }

    async fn update_venue(&self, id: &VenueId, change: &VenueChange) -> Result<Venue, AppError> {
        let mut venues = self.venues.lock().expect("lock");
        let venue = venues.get_mut(id).ok_or_else(|| AppError::NotFound {
            code: "VENUE_NOT_FOUND",
            what: format!("the venue {id}"),
        })?;
        if let Some(name) = &change.name {
            venue.name.clone_from(name);
        }
        if let Some(city) = &change.city {
            venue.city.clone_from(city);
        }
        if let Some(status) = change.status {
            venue.status = status;
        }
        Ok(venue.clone())
    }
}

impl ResourceStore for MemoryCatalog {
    async fn create_resource(&self, resource: &Resource) -> Result<(), AppError> {
        self.resources
            .lock()
            .expect("lock")
            .entry(resource.id.clone())
            .or_insert_with(|| resource.clone());
        Ok(())
    }

    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, AppError> {
        Ok(self.resources.lock().expect("lock").get(id).cloned())
    }

    async fn list_resources(&self, venue: &VenueId) -> Result<Vec<Resource>, AppError> {
        let resources = self
            .resources
            .lock()
            .expect("lock")
            .values()
            .filter(|r| r.venue_id == *venue)
            .cloned()
            .collect();
        Ok(by_name(resources, |r| {
            (r.name.to_lowercase(), r.id.to_string())
        }))
    }

    async fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
    ) -> Result<Resource, AppError> {
        let mut resources = self.resources.lock().expect("lock");
        let resource = resources.get_mut(id).ok_or_else(|| AppError::NotFound {
            code: "RESOURCE_NOT_FOUND",
            what: format!("the resource {id}"),
        })?;
        if let Some(name) = &change.name {
            resource.name.clone_from(name);
        }
        if let Some(status) = change.status {
            resource.status = status;
        }
        Ok(resource.clone())
    }
}

/// The catalog's slots, seats and room units in memory (part of
/// [`MemoryCatalog`]), with the adapter's guarantees: generation creates
/// each slot once, a capacity never drops below what is booked, a seat map
/// keeps the seats it has.
#[derive(Debug, Default)]
struct MemorySlots {
    slots: BTreeMap<SlotId, Slot>,
    seats: BTreeMap<SlotId, BTreeMap<String, Seat>>,
    units: HashMap<(ResourceId, NaiveDate), BTreeSet<NaiveTime>>,
    outbox: Vec<EventEnvelope>,
}

impl MemoryCatalog {
    /// Takes `places` of a slot, as a booking would (for tests).
    pub fn book(&self, id: &SlotId, places: u32) {
        let mut slots = self.slots.lock().expect("lock");
        if let Some(slot) = slots.slots.get_mut(id) {
            slot.booked += places;
        }
    }

    /// Locks units of a room on a date, as a range booking would (for tests).
    pub fn take_units(&self, resource: &ResourceId, date: NaiveDate, units: &[NaiveTime]) {
        let mut slots = self.slots.lock().expect("lock");
        slots
            .units
            .entry((resource.clone(), date))
            .or_default()
            .extend(units.iter().copied());
    }

    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.slots.lock().expect("lock").outbox.clone()
    }
}

fn no_slot(id: &SlotId) -> AppError {
    AppError::NotFound {
        code: "SLOT_NOT_FOUND",
        what: format!("the slot {id}"),
    }
}

impl SlotStore for MemoryCatalog {
    async fn generate(
        &self,
        slots: &[Slot],
        announce: &SlotsGenerated,
        correlation_id: &CorrelationId,
    ) -> Result<GenerationSummary, AppError> {
        let mut state = self.slots.lock().expect("lock");
        let mut summary = GenerationSummary::default();
        for slot in slots {
            if state.slots.contains_key(&slot.id) {
                summary.skipped += 1;
            } else {
                state.slots.insert(slot.id.clone(), slot.clone());
                summary.created += 1;
            }
        }
        let announce = SlotsGenerated {
            created: summary.created,
            skipped: summary.skipped,
            ..announce.clone()
        };
        let event = EventEnvelope::of(&announce, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
        state.outbox.push(event);
        Ok(summary)
    }

    async fn slots_on(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> Result<Vec<Slot>, AppError> {
        let state = self.slots.lock().expect("lock");
        Ok(state
            .slots
            .values()
            .filter(|s| s.id.resource_id == *resource && s.id.date == date)
            .cloned()
            .collect())
    }

    async fn get_slot(&self, id: &SlotId) -> Result<Option<Slot>, AppError> {
        Ok(self.slots.lock().expect("lock").slots.get(id).cloned())
    }

    async fn update_slot(&self, id: &SlotId, change: &SlotChange) -> Result<Slot, AppError> {
        let mut state = self.slots.lock().expect("lock");
        let slot = state.slots.get_mut(id).ok_or_else(|| no_slot(id))?;
        if let Some(capacity) = change.capacity
            && capacity < slot.booked
        {
            return Err(AppError::conflict(
                "CAPACITY_BELOW_BOOKED",
                format!("{} places are already booked", slot.booked),
            ));
        }
        if let Some(status) = change.status {
            slot.status = status;
        }
        if let Some(capacity) = change.capacity {
            slot.capacity = capacity;
        }
        Ok(slot.clone())
    }

    async fn set_seat_map(&self, id: &SlotId, seats: &[Seat]) -> Result<SeatMapSummary, AppError> {
        let mut state = self.slots.lock().expect("lock");
        let booked = state.slots.get(id).ok_or_else(|| no_slot(id))?.booked;
        let existing = state.seats.get(id).cloned().unwrap_or_default();
        let mut all: BTreeSet<&str> = existing.keys().map(String::as_str).collect();
        all.extend(seats.iter().map(|s| s.seat_id.as_str()));
        let capacity = u32::try_from(all.len()).unwrap_or(u32::MAX);
        if booked > capacity {
            return Err(AppError::conflict(
                "CAPACITY_BELOW_BOOKED",
                format!("{booked} places are booked; the map has {capacity} seats"),
            ));
        }
        let mut summary = SeatMapSummary {
            capacity,
            ..SeatMapSummary::default()
        };
        let map = state.seats.entry(id.clone()).or_default();
        for seat in seats {
            if map.contains_key(&seat.seat_id) {
                summary.skipped += 1;
            } else {
                map.insert(seat.seat_id.clone(), seat.clone());
                summary.created += 1;
            }
        }
        let slot = state.slots.get_mut(id).ok_or_else(|| no_slot(id))?;
        slot.seated = true;
        slot.capacity = capacity;
        Ok(summary)
    }

    async fn seats_of(&self, id: &SlotId) -> Result<Vec<Seat>, AppError> {
        let state = self.slots.lock().expect("lock");
        Ok(state
            .seats
            .get(id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn taken_units(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> Result<BTreeSet<NaiveTime>, AppError> {
        let state = self.slots.lock().expect("lock");
        Ok(state
            .units
            .get(&(resource.clone(), date))
            .cloned()
            .unwrap_or_default())
    }
}

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

/// Wallets in memory, with the DynamoDB adapter's guarantees: one top-up
/// per idempotency key (the same body replays the first answer, another is
/// 422), no wallet past `MAX_BALANCE`, the balance always the ledger's sum.
#[derive(Debug, Default)]
pub struct MemoryWallets {
    state: Mutex<WalletState>,
}

#[derive(Debug, Default)]
struct WalletState {
    /// Each user's ledger, oldest first.
    ledgers: HashMap<UserId, Vec<LedgerEntry>>,
    /// (user, key) -> (fingerprint, first answer).
    records: HashMap<(UserId, String), (String, String)>,
    outbox: Vec<EventEnvelope>,
}

impl MemoryWallets {
    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.state.lock().expect("lock").outbox.clone()
    }
}

impl WalletStore for MemoryWallets {
    async fn top_up(&self, order: &TopUpOrder<'_>) -> Result<ToppedUp, AppError> {
        let mut state = self.state.lock().expect("lock");
        let record = (order.user.clone(), order.key.as_str().to_owned());
        if let Some((fingerprint, answer)) = state.records.get(&record) {
            return if fingerprint == order.fingerprint {
                Ok(ToppedUp::Replayed(answer.clone()))
            } else {
                Err(AppError::Unprocessable {
                    code: "IDEMPOTENCY_KEY_REUSED",
                    message: "this Idempotency-Key was used for a different request".into(),
                })
            };
        }
        let ledger = state.ledgers.entry(order.user.clone()).or_default();
        let balance = ledger.last().map_or(0, |e| e.balance_after);
        let after = balance + order.points.get();
        if after > MAX_BALANCE {
            return Err(AppError::conflict(
                "BALANCE_LIMIT",
                format!("a wallet holds at most {MAX_BALANCE} points"),
            ));
        }
        let entry = LedgerEntry {
            entry_id: uuid::Uuid::now_v7().to_string(),
            kind: LedgerKind::TopUp,
            points: i64::try_from(order.points.get())
                .map_err(|e| AppError::internal("topping up", e))?,
            balance_after: after,
            booking_id: None,
            at: order.now,
        };
        ledger.push(entry.clone());
        let charged = WalletCharged {
            user_id: order.user.clone(),
            entry_id: entry.entry_id.clone(),
            points: order.points.get(),
            balance: after,
        };
        let event = EventEnvelope::of(&charged, order.correlation_id.clone())
            .map_err(|e| AppError::internal("encoding WalletCharged", e))?;
        state.outbox.push(event);
        let answer = serde_json::to_string(&entry)
            .map_err(|e| AppError::internal("encoding a ledger entry", e))?;
        state
            .records
            .insert(record, (order.fingerprint.to_owned(), answer));
        Ok(ToppedUp::New(entry))
    }

    async fn wallet(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        let state = self.state.lock().expect("lock");
        let mut newest_first: Vec<LedgerEntry> =
            state.ledgers.get(user).cloned().unwrap_or_default();
        newest_first.reverse();
        let balance = newest_first.first().map_or(0, |e| e.balance_after);
        let start = match cursor {
            None => 0,
            Some(c) => {
                newest_first
                    .iter()
                    .position(|e| e.entry_id == c)
                    .ok_or_else(|| {
                        AppError::validation(
                            "INVALID_CURSOR",
                            "cursor is not one this API returned",
                        )
                    })?
                    + 1
            }
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let rest: Vec<LedgerEntry> = newest_first.into_iter().skip(start).collect();
        let next_cursor = (rest.len() > limit)
            .then(|| rest.get(limit - 1).map(|e| e.entry_id.clone()))
            .flatten();
        Ok(WalletView {
            user_id: user.clone(),
            balance,
            ledger: rest.into_iter().take(limit).collect(),
            next_cursor,
        })
    }
}

/// Dead-letter queues in memory, by consumer name: each holds the messages
/// that failed, and a redrive moves them back to the consumer's queue.
#[derive(Debug, Default)]
pub struct MemoryDeadLetters {
    queues: Mutex<BTreeMap<String, DeadLetterQueue>>,
}

/// One consumer's dead-letter queue, and what a redrive sent back.
#[derive(Debug, Default)]
struct DeadLetterQueue {
    dead: Vec<DeadLetter>,
    redriven: Vec<DeadLetter>,
}

impl MemoryDeadLetters {
    /// Queues of these names, all empty.
    pub fn with_queues(names: &[&str]) -> Self {
        let queues = names
            .iter()
            .map(|n| ((*n).to_owned(), DeadLetterQueue::default()))
            .collect();
        Self {
            queues: Mutex::new(queues),
        }
    }

    /// A message lands in `name`'s dead-letter queue (for tests).
    pub fn put(&self, name: &str, letter: DeadLetter) {
        if let Some(queue) = self.queues.lock().expect("lock").get_mut(name) {
            queue.dead.push(letter);
        }
    }

    /// What a redrive sent back to `name`'s source queue.
    pub fn redriven(&self, name: &str) -> Vec<DeadLetter> {
        self.queues
            .lock()
            .expect("lock")
            .get(name)
            .map(|queue| queue.redriven.clone())
            .unwrap_or_default()
    }

    fn unknown(&self, name: &str) -> AppError {
        let known: Vec<String> = self.queues.lock().expect("lock").keys().cloned().collect();
        AppError::NotFound {
            code: "QUEUE_NOT_FOUND",
            what: format!("the queue {name:?} (known: {})", known.join(", ")),
        }
    }
}

impl DeadLetterQueues for MemoryDeadLetters {
    async fn depths(&self) -> Result<BTreeMap<String, u64>, AppError> {
        Ok(self
            .queues
            .lock()
            .expect("lock")
            .iter()
            .map(|(name, queue)| (name.clone(), queue.dead.len() as u64))
            .collect())
    }

    async fn list(&self, name: &str, limit: u32) -> Result<Vec<DeadLetter>, AppError> {
        let queues = self.queues.lock().expect("lock");
        let Some(queue) = queues.get(name) else {
            drop(queues);
            return Err(self.unknown(name));
        };
        Ok(queue.dead.iter().take(limit as usize).cloned().collect())
    }

    async fn redrive(&self, name: &str, limit: u32) -> Result<u32, AppError> {
        let mut queues = self.queues.lock().expect("lock");
        let Some(queue) = queues.get_mut(name) else {
            drop(queues);
            return Err(self.unknown(name));
        };
        let n = queue.dead.len().min(limit as usize);
        let moved: Vec<DeadLetter> = queue.dead.drain(..n).collect();
        queue.redriven.extend(moved);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

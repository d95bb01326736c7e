//! The catalog context's twin: venues, resources, slots, seats and room units.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{NaiveDate, NaiveTime};

use crate::booking::BookingId;
use crate::catalog::events::SlotsGenerated;
use crate::catalog::ports::{
    ActivityOf, ResourceChange, ResourceStore, SlotChange, SlotStore, VenueChange, VenueStore,
};
use crate::catalog::{
    GenerationSummary, Resource, ResourceId, Seat, SeatMapSummary, Slot, SlotId, Venue, VenueId,
};
use crate::events::EventEnvelope;
use crate::kernel::{Page, PageRequest};
use crate::{AppError, CorrelationId};

/// The catalog's venues and resources in memory, with the DynamoDB
/// adapter's guarantees: an id is created once (a second create changes
/// nothing), updates need the item to exist, lists are ordered by name
/// (case-insensitively, then id).
#[derive(Debug, Default)]
pub struct MemoryCatalog {
    pub(super) venues: Mutex<HashMap<VenueId, Venue>>,
    pub(super) resources: Mutex<HashMap<ResourceId, Resource>>,
    pub(super) slots: Mutex<MemorySlots>,
}

/// One page of `items` in the order of `key` (`name#id`, as the table's
/// index sorts them), the cursor being the last key shown.
fn page_by_name<T>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> String,
    page: PageRequest<'_>,
) -> Page<T> {
    items.sort_by_key(|item| key(item));
    let mut items: Vec<T> = items
        .into_iter()
        .filter(|item| page.cursor.is_none_or(|after| key(item).as_str() > after))
        .collect();
    let limit = page.limit as usize;
    let next_cursor = (items.len() > limit).then(|| key(&items[limit - 1]));
    items.truncate(limit);
    Page { items, next_cursor }
}

impl VenueStore for MemoryCatalog {
    async fn create_venue(&self, venue: &Venue, activity: &EventEnvelope) -> Result<(), AppError> {
        // Created once: a second create of the same id changes nothing.
        self.venues
            .lock()
            .expect("lock")
            .entry(venue.id.clone())
            .or_insert_with(|| venue.clone());
        self.record(activity);
        Ok(())
    }

    async fn get_venue(&self, id: &VenueId) -> Result<Option<Venue>, AppError> {
        Ok(self.venues.lock().expect("lock").get(id).cloned())
    }

    async fn list_venues(&self, page: PageRequest<'_>) -> Result<Page<Venue>, AppError> {
        let venues = self
            .venues
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        Ok(page_by_name(
            venues,
            |v| format!("{}#{}", v.name.to_lowercase(), v.id),
            page,
        ))
    }

    async fn update_venue(
        &self,
        id: &VenueId,
        change: &VenueChange,
        activity: &EventEnvelope,
    ) -> Result<Venue, AppError> {
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
        self.record(activity);
        Ok(venue.clone())
    }
}

impl ResourceStore for MemoryCatalog {
    async fn create_resource(
        &self,
        resource: &Resource,
        activity: &EventEnvelope,
    ) -> Result<(), AppError> {
        self.resources
            .lock()
            .expect("lock")
            .entry(resource.id.clone())
            .or_insert_with(|| resource.clone());
        self.record(activity);
        Ok(())
    }

    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, AppError> {
        Ok(self.resources.lock().expect("lock").get(id).cloned())
    }

    async fn list_resources(
        &self,
        venue: &VenueId,
        page: PageRequest<'_>,
    ) -> Result<Page<Resource>, AppError> {
        let resources = self
            .resources
            .lock()
            .expect("lock")
            .values()
            .filter(|r| r.venue_id == *venue)
            .cloned()
            .collect();
        Ok(page_by_name(
            resources,
            |r| format!("{}#{}", r.name.to_lowercase(), r.id),
            page,
        ))
    }

    async fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
        activity: &EventEnvelope,
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
        self.record(activity);
        Ok(resource.clone())
    }
}

/// The catalog's slots, seats and room units in memory (part of
/// [`MemoryCatalog`]), with the adapter's guarantees: generation creates
/// each slot once, a capacity never drops below what is booked, a seat map
/// keeps the seats it has.
#[derive(Debug, Default)]
pub(super) struct MemorySlots {
    pub slots: BTreeMap<SlotId, Slot>,
    pub seats: BTreeMap<SlotId, BTreeMap<String, Seat>>,
    /// Who holds each taken seat.
    pub seat_holders: HashMap<(SlotId, String), BookingId>,
    /// The units of a room on a date that a booking holds, and by whom
    /// (`None`: taken by a test).
    pub units: HashMap<(ResourceId, NaiveDate), BTreeMap<NaiveTime, Option<BookingId>>>,
    outbox: Vec<EventEnvelope>,
}

impl MemoryCatalog {
    /// Every venue, by name (for tests).
    pub fn venues(&self) -> Vec<Venue> {
        let venues = self
            .venues
            .lock()
            .expect("lock")
            .values()
            .cloned()
            .collect();
        page_by_name(
            venues,
            |v| format!("{}#{}", v.name.to_lowercase(), v.id),
            PageRequest::first(u32::MAX),
        )
        .items
    }

    /// Every resource of `venue`, by name (for tests).
    pub fn resources_of(&self, venue: &VenueId) -> Vec<Resource> {
        let resources = self
            .resources
            .lock()
            .expect("lock")
            .values()
            .filter(|r| r.venue_id == *venue)
            .cloned()
            .collect();
        page_by_name(
            resources,
            |r| format!("{}#{}", r.name.to_lowercase(), r.id),
            PageRequest::first(u32::MAX),
        )
        .items
    }

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
            .extend(units.iter().map(|u| (*u, None)));
    }

    /// The events written to the outbox, oldest first.
    pub fn events(&self) -> Vec<EventEnvelope> {
        self.slots.lock().expect("lock").outbox.clone()
    }

    fn record(&self, event: &EventEnvelope) {
        self.slots.lock().expect("lock").outbox.push(event.clone());
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
        activity: &ActivityOf<'_, GenerationSummary>,
        correlation_id: &CorrelationId,
    ) -> Result<GenerationSummary, AppError> {
        let mut state = self.slots.lock().expect("lock");
        let mut summary = GenerationSummary::default();
        // Parts of 98, each with its event, as the table writes them.
        let parts = slots.len().div_ceil(98);
        for (index, chunk) in slots.chunks(98).enumerate() {
            let mut part = GenerationSummary::default();
            for slot in chunk {
                if state.slots.contains_key(&slot.id) {
                    part.skipped += 1;
                } else {
                    state.slots.insert(slot.id.clone(), slot.clone());
                    part.created += 1;
                }
            }
            let announce = SlotsGenerated {
                created: part.created,
                skipped: part.skipped,
                part: index + 1,
                parts,
                ..announce.clone()
            };
            let event = EventEnvelope::of(&announce, correlation_id.clone())
                .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
            state.outbox.push(event);
            summary.created += part.created;
            summary.skipped += part.skipped;
        }
        if parts > 0 {
            state.outbox.push(activity(&summary)?);
        }
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

    async fn update_slot(
        &self,
        id: &SlotId,
        change: &SlotChange,
        activity: &EventEnvelope,
    ) -> Result<Slot, AppError> {
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
        let slot = slot.clone();
        state.outbox.push(activity.clone());
        Ok(slot)
    }

    async fn set_seat_map(
        &self,
        id: &SlotId,
        seats: &[Seat],
        activity: &ActivityOf<'_, SeatMapSummary>,
    ) -> Result<SeatMapSummary, AppError> {
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
        state.outbox.push(activity(&summary)?);
        Ok(summary)
    }

    async fn get_seat(&self, id: &SlotId, seat_id: &str) -> Result<Option<Seat>, AppError> {
        let state = self.slots.lock().expect("lock");
        Ok(state.seats.get(id).and_then(|m| m.get(seat_id)).cloned())
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
            .map(|held| held.keys().copied().collect())
            .unwrap_or_default())
    }
}

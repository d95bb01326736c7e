//! The catalog's storage, as small ports: venues and resources. The DynamoDB
//! adapter ([`crate::adapters::dynamo::catalog::DynamoCatalog`]) and the
//! in-memory twin ([`crate::adapters::memory::MemoryCatalog`]) implement
//! them with the same guarantees.

use std::future::Future;

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveTime};

use super::events::SlotsGenerated;
use super::{
    CatalogStatus, GenerationSummary, Resource, ResourceId, Seat, SeatMapSummary, Slot, SlotId,
    SlotStatus, Venue, VenueId,
};
use crate::kernel::{Page, PageRequest};
use crate::{AppError, CorrelationId, EventEnvelope};

/// A validated change of a venue: each field, if given, replaces the stored one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueChange {
    pub name: Option<String>,
    pub city: Option<String>,
    pub status: Option<CatalogStatus>,
}

/// A validated change of a slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotChange {
    pub status: Option<SlotStatus>,
    pub capacity: Option<u32>,
}

/// A validated change of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceChange {
    pub name: Option<String>,
    pub status: Option<CatalogStatus>,
}

/// The `AdminActivity` of a write whose figures only the store knows (how
/// many slots or seats it wrote), given them.
pub type ActivityOf<'a, T> = dyn Fn(&T) -> Result<EventEnvelope, AppError> + Send + Sync + 'a;

pub trait VenueStore: Send + Sync {
    /// Creates the venue with `activity` (its `AdminActivity`), in one
    /// transaction; so every catalog write below.
    fn create_venue(
        &self,
        venue: &Venue,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    fn get_venue(
        &self,
        id: &VenueId,
    ) -> impl Future<Output = Result<Option<Venue>, AppError>> + Send;

    /// One page of the venues, ordered by name (`INVALID_CURSOR` for a
    /// cursor this store did not return).
    fn list_venues(
        &self,
        page: PageRequest<'_>,
    ) -> impl Future<Output = Result<Page<Venue>, AppError>> + Send;

    /// Applies `change` to the venue, conditional on it existing
    /// (`VENUE_NOT_FOUND`), and returns it as it is now.
    fn update_venue(
        &self,
        id: &VenueId,
        change: &VenueChange,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<Venue, AppError>> + Send;
}

pub trait ResourceStore: Send + Sync {
    fn create_resource(
        &self,
        resource: &Resource,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<(), AppError>> + Send;

    fn get_resource(
        &self,
        id: &ResourceId,
    ) -> impl Future<Output = Result<Option<Resource>, AppError>> + Send;

    /// One page of the resources of a venue, ordered by name.
    fn list_resources(
        &self,
        venue: &VenueId,
        page: PageRequest<'_>,
    ) -> impl Future<Output = Result<Page<Resource>, AppError>> + Send;

    /// Applies `change` to the resource, conditional on it existing
    /// (`RESOURCE_NOT_FOUND`), and returns it as it is now.
    fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<Resource, AppError>> + Send;
}

pub trait SlotStore: Send + Sync {
    /// Writes the slots that do not exist yet, leaving every existing one
    /// as it is, and records `announce` with the counts filled in; the
    /// last part's transaction records `activity` of the totals too.
    fn generate(
        &self,
        slots: &[Slot],
        announce: &SlotsGenerated,
        activity: &ActivityOf<'_, GenerationSummary>,
        correlation_id: &CorrelationId,
    ) -> impl Future<Output = Result<GenerationSummary, AppError>> + Send;

    /// The slots of a resource on a date, in start order.
    fn slots_on(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> impl Future<Output = Result<Vec<Slot>, AppError>> + Send;

    fn get_slot(&self, id: &SlotId) -> impl Future<Output = Result<Option<Slot>, AppError>> + Send;

    /// Changes a slot's status and/or capacity. A capacity below what is
    /// booked is refused by the write's condition (`CAPACITY_BELOW_BOOKED`);
    /// an unknown slot is `SLOT_NOT_FOUND`.
    fn update_slot(
        &self,
        id: &SlotId,
        change: &SlotChange,
        activity: &EventEnvelope,
    ) -> impl Future<Output = Result<Slot, AppError>> + Send;

    /// Adds the seats a slot does not have yet (existing ones stay as they
    /// are, taken or not), marks the slot seated and sets its capacity to
    /// its number of seats; never below what is booked.
    fn set_seat_map(
        &self,
        id: &SlotId,
        seats: &[Seat],
        activity: &ActivityOf<'_, SeatMapSummary>,
    ) -> impl Future<Output = Result<SeatMapSummary, AppError>> + Send;

    /// One seat of a slot.
    fn get_seat(
        &self,
        id: &SlotId,
        seat_id: &str,
    ) -> impl Future<Output = Result<Option<Seat>, AppError>> + Send;

    /// Every seat of a slot, by seat id.
    fn seats_of(&self, id: &SlotId) -> impl Future<Output = Result<Vec<Seat>, AppError>> + Send;

    /// The start of every unit of a room that a booking holds on a date.
    fn taken_units(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> impl Future<Output = Result<BTreeSet<NaiveTime>, AppError>> + Send;
}

//! The catalog's use cases for venues and resources, generic over the
//! ports in [`super::ports`]. Handlers parse the request, call one of these
//! and map the result; every rule is here or in the values of
//! [`crate::catalog`].

use std::collections::{BTreeSet, HashSet};

use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};

use super::events::SlotsGenerated;
use super::ports::{ResourceChange, ResourceStore, SlotChange, SlotStore, VenueChange, VenueStore};
use super::{
    BackNine, CatalogStatus, GenerationPreview, GenerationRequest, GenerationSummary, MAX_CAPACITY,
    PlannedSlot, RangeRules, Resource, ResourceId, ResourceKind, SeatMapRequest, SeatMapSummary,
    Slot, SlotId, TimeZone, Venue, VenueId, parse_name,
};
use crate::company::ports::CompanyReader;
use crate::company::service::company_not_found;
use crate::identity::CompanyId;
use crate::identity::events::AdminActivity;
use crate::kernel::PageRequest;
use crate::{AppError, CorrelationId};

fn venue_not_found(id: &VenueId) -> AppError {
    AppError::NotFound {
        code: "VENUE_NOT_FOUND",
        what: format!("the venue {id}"),
    }
}

/// The names of the fields marked changed.
fn named(fields: &[(&str, bool)]) -> Vec<String> {
    fields
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

fn nothing_to_change() -> AppError {
    AppError::validation("NOTHING_TO_CHANGE", "give at least one field to change")
}

pub async fn create_venue(
    venues: &impl VenueStore,
    companies: &impl CompanyReader,
    writer: &CatalogWriter,
    request: CreateVenueRequest,
    correlation_id: &CorrelationId,
) -> Result<Venue, AppError> {
    let company = CompanyId::parse(&request.company_id)?;
    let venue = Venue {
        id: VenueId::generate(),
        company_id: Some(company.clone()),
        name: parse_name(&request.name)?,
        kind: request.kind,
        city: parse_name(&request.city)?,
        time_zone: TimeZone::parse(&request.time_zone)?,
        status: CatalogStatus::Open,
    };
    writer.company(&company)?;
    if companies.company(&company).await?.is_none() {
        return Err(company_not_found(&company));
    }
    let activity = writer.record(
        &AdminActivity::VenueCreated {
            company_id: company,
            venue_id: venue.id.to_string(),
            name: venue.name.clone(),
            actor: writer.user_id.to_string(),
        },
        correlation_id,
    )?;
    venues.create_venue(&venue, &activity).await?;
    Ok(venue)
}

/// Renames, moves or closes/reopens a venue. A closed venue says so; its
/// resources are closed one by one.
pub async fn update_venue(
    venues: &impl VenueStore,
    writer: &CatalogWriter,
    id: &VenueId,
    request: UpdateVenueRequest,
    correlation_id: &CorrelationId,
) -> Result<Venue, AppError> {
    let venue = writer.venue(venues, id).await?;
    let change = VenueChange {
        name: request.name.as_deref().map(parse_name).transpose()?,
        city: request.city.as_deref().map(parse_name).transpose()?,
        status: request.status,
    };
    if change == VenueChange::default() {
        return Err(nothing_to_change());
    }
    let fields = [
        ("city", change.city.is_some()),
        ("name", change.name.is_some()),
        ("status", change.status.is_some()),
    ];
    let activity = writer.record(
        &AdminActivity::VenueChanged {
            company_id: venue.company_id,
            venue_id: id.to_string(),
            fields: named(&fields),
            status: change.status.map(|s| s.as_str().to_owned()),
            actor: writer.user_id.to_string(),
        },
        correlation_id,
    )?;
    venues.update_venue(id, &change, &activity).await
}

pub async fn list_venues(
    venues: &impl VenueStore,
    page: PageRequest<'_>,
) -> Result<VenueList, AppError> {
    let page = venues.list_venues(page).await?;
    Ok(VenueList {
        venues: page.items,
        next_cursor: page.next_cursor,
    })
}

pub async fn venue_resources<S: VenueStore + ResourceStore>(
    store: &S,
    id: &VenueId,
    page: PageRequest<'_>,
) -> Result<VenueResources, AppError> {
    let venue = store
        .get_venue(id)
        .await?
        .ok_or_else(|| venue_not_found(id))?;
    let page = store.list_resources(id, page).await?;
    Ok(VenueResources {
        venue,
        resources: page.items,
        next_cursor: page.next_cursor,
    })
}

/// Which rules a resource of `kind` takes: range rules for rooms (and only
/// rooms), a back nine for courses (and only courses), each validated.
pub fn resource_rules(
    kind: ResourceKind,
    range: Option<RangeRules>,
    back_nine: Option<BackNine>,
) -> Result<(Option<RangeRules>, Option<BackNine>), AppError> {
    let range = match (kind, range) {
        (ResourceKind::Room, Some(rules)) => Some(rules.validate()?),
        (ResourceKind::Room, None) => {
            return Err(AppError::validation(
                "MISSING_RANGE_RULES",
                "a room needs range rules: unit_minutes, opens, closes, unit_price_cents",
            ));
        }
        (_, Some(_)) => {
            return Err(AppError::validation(
                "UNEXPECTED_RANGE_RULES",
                "only rooms are booked by time range",
            ));
        }
        (_, None) => None,
    };
    let back_nine = match (kind, back_nine) {
        (ResourceKind::Course, Some(back)) => Some(back.validate()?),
        (_, Some(_)) => {
            return Err(AppError::validation(
                "UNEXPECTED_BACK_NINE",
                "only courses have a back nine",
            ));
        }
        (_, None) => None,
    };
    Ok((range, back_nine))
}

/// A back nine must be an existing course of the same venue.
pub fn check_back_nine(course: Option<&Resource>, venue: &VenueId) -> Result<(), AppError> {
    if course.is_some_and(|c| c.kind == ResourceKind::Course && c.venue_id == *venue) {
        Ok(())
    } else {
        Err(AppError::validation(
            "INVALID_BACK_NINE",
            "the back nine must be a course of the same venue",
        ))
    }
}

pub async fn create_resource<S: VenueStore + ResourceStore>(
    store: &S,
    writer: &CatalogWriter,
    venue_id: VenueId,
    request: CreateResourceRequest,
    correlation_id: &CorrelationId,
) -> Result<Resource, AppError> {
    let (range, back_nine) = resource_rules(request.kind, request.range, request.back_nine)?;
    let name = parse_name(&request.name)?;
    let venue = writer.venue(store, &venue_id).await?;
    if let Some(back) = &back_nine {
        let course = store.get_resource(&back.resource_id).await?;
        check_back_nine(course.as_ref(), &venue_id)?;
    }
    let resource = Resource {
        back_nine,
        range,
        id: ResourceId::generate(),
        venue_id,
        name,
        kind: request.kind,
        status: CatalogStatus::Open,
        waiting_room: None,
    };
    let activity = writer.record(
        &AdminActivity::ResourceCreated {
            company_id: venue.company_id,
            venue_id: resource.venue_id.to_string(),
            resource_id: resource.id.to_string(),
            kind: resource.kind.as_str().to_owned(),
            actor: writer.user_id.to_string(),
        },
        correlation_id,
    )?;
    store.create_resource(&resource, &activity).await?;
    Ok(resource)
}

/// Renames or closes/reopens a resource. A closed resource refuses new
/// bookings (inside the booking's transaction) and keeps the ones it has.
pub async fn update_resource<S: VenueStore + ResourceStore>(
    resources: &S,
    writer: &CatalogWriter,
    id: &ResourceId,
    request: UpdateResourceRequest,
    correlation_id: &CorrelationId,
) -> Result<Resource, AppError> {
    let (_, venue) = writer.resource_in(resources, id).await?;
    let change = ResourceChange {
        name: request.name.as_deref().map(parse_name).transpose()?,
        status: request.status,
    };
    if change == ResourceChange::default() {
        return Err(nothing_to_change());
    }
    let fields = [
        ("name", change.name.is_some()),
        ("status", change.status.is_some()),
    ];
    let activity = writer.record(
        &AdminActivity::ResourceChanged {
            company_id: venue.company_id,
            resource_id: id.to_string(),
            fields: named(&fields),
            status: change.status.map(|s| s.as_str().to_owned()),
            actor: writer.user_id.to_string(),
        },
        correlation_id,
    )?;
    resources.update_resource(id, &change, &activity).await
}

fn resource_not_found(id: &ResourceId) -> AppError {
    AppError::NotFound {
        code: "RESOURCE_NOT_FOUND",
        what: format!("the resource {id}"),
    }
}

fn slot_not_found(id: &SlotId) -> AppError {
    AppError::NotFound {
        code: "SLOT_NOT_FOUND",
        what: format!("the slot {id}"),
    }
}

fn hhmm(time: chrono::NaiveTime) -> String {
    time.format("%H:%M").to_string()
}

/// Generates a daily pattern of slots; running it again creates nothing
/// twice. `SlotsGenerated` records what was asked and what was written. A
/// pattern with a slot whose bookings would already be closed (started, or
/// inside the cut-off) is refused whole: 409 `SLOT_IN_PAST`.
pub async fn generate_slots<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    writer: &CatalogWriter,
    resource_id: &ResourceId,
    request: GenerationRequest,
    correlation_id: &CorrelationId,
    deadline: &super::Deadline,
) -> Result<GenerationSummary, AppError> {
    let (slots, venue) = open_pattern(store, writer, resource_id, &request, deadline).await?;
    let announce = SlotsGenerated {
        resource_id: resource_id.clone(),
        from: request.from,
        to: request.to,
        requested: slots.len(),
        by: writer.user_id.to_string(),
        created: 0,
        skipped: 0,
        part: 1,
        parts: 1,
    };
    let activity = |summary: &GenerationSummary| {
        writer.record(
            &AdminActivity::SlotsGenerated {
                company_id: venue.company_id.clone(),
                resource_id: resource_id.to_string(),
                from: request.from,
                to: request.to,
                created: summary.created,
                skipped: summary.skipped,
                actor: writer.user_id.to_string(),
            },
            correlation_id,
        )
    };
    store
        .generate(&slots, &announce, &activity, correlation_id)
        .await
}

/// How many days of existing slots a dry run reads at once.
const PREVIEW_READS: usize = 8;

/// What [`generate_slots`] would do, without doing it: the same access
/// check, validation and `SLOT_IN_PAST` refusal, then every slot of the
/// pattern with whether it exists already (a run skips those) and the
/// counts a run would report. Nothing is written and no event or activity
/// recorded. The existing slots are read a day at a time, so a run made
/// meanwhile may find more of them.
pub async fn preview_slots<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    writer: &CatalogWriter,
    resource_id: &ResourceId,
    request: GenerationRequest,
    deadline: &super::Deadline,
) -> Result<GenerationPreview, AppError> {
    let (slots, venue) = open_pattern(store, writer, resource_id, &request, deadline).await?;
    let dates: BTreeSet<NaiveDate> = slots.iter().map(|s| s.id.date).collect();
    let days: Vec<Vec<Slot>> = futures::stream::iter(dates)
        .map(|date| store.slots_on(resource_id, date))
        .buffer_unordered(PREVIEW_READS)
        .try_collect()
        .await?;
    let existing: HashSet<SlotId> = days.into_iter().flatten().map(|s| s.id).collect();
    let zone = venue.time_zone;
    let slots: Vec<PlannedSlot> = slots
        .into_iter()
        .map(|s| PlannedSlot {
            date: s.id.date,
            start: hhmm(s.id.start),
            end: hhmm(s.end),
            starts_at: zone.rfc3339(zone.starts_at(&s.id)),
            ends_at: zone.rfc3339(zone.instant(s.id.date, s.end)),
            capacity: s.capacity,
            unit_price_cents: s.unit_price(),
            premium: s.premium,
            exists: existing.contains(&s.id),
            slot_id: s.id,
        })
        .collect();
    let skipped = slots.iter().filter(|s| s.exists).count();
    Ok(GenerationPreview {
        dry_run: true,
        created: slots.len() - skipped,
        skipped,
        slots,
    })
}

/// The slots of `request` for the resource, with its venue: once the
/// writer may write the resource, the pattern is valid, and every slot of
/// it is still open to bookings (else 409 `SLOT_IN_PAST`, for the whole
/// pattern).
async fn open_pattern<S: VenueStore + ResourceStore>(
    store: &S,
    writer: &CatalogWriter,
    resource_id: &ResourceId,
    request: &GenerationRequest,
    deadline: &super::Deadline,
) -> Result<(Vec<Slot>, Venue), AppError> {
    let (_, venue) = writer.resource_in(store, resource_id).await?;
    let slots = request.slots(resource_id)?;
    let zone = venue.time_zone;
    if let Some(late) = slots.iter().find(|s| deadline.check(&s.id, zone).is_err()) {
        return Err(AppError::conflict(
            "SLOT_IN_PAST",
            format!(
                "{} would be closed to bookings from the start (at {}); generate from a later time",
                late.id,
                zone.rfc3339(deadline.closes_at(&late.id, zone))
            ),
        ));
    }
    Ok((slots, venue))
}

/// The time zone of `resource`'s venue.
pub async fn zone_of(venues: &impl VenueStore, resource: &Resource) -> Result<TimeZone, AppError> {
    Ok(venue_of(venues, resource).await?.time_zone)
}

/// `resource`'s venue, which must exist.
pub async fn venue_of(venues: &impl VenueStore, resource: &Resource) -> Result<Venue, AppError> {
    venues.get_venue(&resource.venue_id).await?.ok_or_else(|| {
        AppError::internal(
            "reading a resource's venue",
            format!(
                "the venue {} of {} is missing",
                resource.venue_id, resource.id
            ),
        )
    })
}

/// The slots of a resource on one day, with what is left of each.
pub async fn availability<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    resource_id: &ResourceId,
    date: NaiveDate,
) -> Result<DayAvailability, AppError> {
    let resource = store
        .get_resource(resource_id)
        .await?
        .ok_or_else(|| resource_not_found(resource_id))?;
    let zone = zone_of(store, &resource).await?;
    let slots = store
        .slots_on(resource_id, date)
        .await?
        .into_iter()
        .map(|s| SlotView {
            start: hhmm(s.id.start),
            end: hhmm(s.end),
            starts_at: zone.rfc3339(zone.starts_at(&s.id)),
            ends_at: zone.rfc3339(zone.instant(s.id.date, s.end)),
            capacity: s.capacity,
            remaining: s.remaining(),
            availability: s.availability(),
            premium: s.premium,
            unit_price_cents: s.unit_price(),
            slot_id: s.id,
        })
        .collect();
    Ok(DayAvailability {
        resource_id: resource_id.clone(),
        date,
        time_zone: zone,
        slots,
    })
}

/// A room's free stretches of one day, on its unit grid.
pub async fn free_ranges<S: ResourceStore + SlotStore>(
    store: &S,
    resource_id: &ResourceId,
    date: NaiveDate,
) -> Result<FreeRanges, AppError> {
    let resource = store
        .get_resource(resource_id)
        .await?
        .ok_or_else(|| resource_not_found(resource_id))?;
    let Some(rules) = resource.range else {
        return Err(AppError::conflict(
            "NOT_A_ROOM",
            "this resource is not booked by time range",
        ));
    };
    let taken = store.taken_units(resource_id, date).await?;
    let free = rules
        .free_ranges(&taken)
        .into_iter()
        .map(|(start, end)| FreeRange {
            start: hhmm(start),
            end: hhmm(end),
        })
        .collect();
    Ok(FreeRanges {
        resource_id: resource_id.clone(),
        date,
        unit_minutes: rules.unit_minutes,
        unit_price_cents: rules.unit_price_cents,
        free,
    })
}

/// A slot's seat map: every seat with its tier, price and status.
pub async fn seat_map(store: &impl SlotStore, id: &SlotId) -> Result<SeatMapView, AppError> {
    let slot = store
        .get_slot(id)
        .await?
        .ok_or_else(|| slot_not_found(id))?;
    let seats = store.seats_of(id).await?;
    Ok(SeatMapView {
        slot_id: id.clone(),
        seated: slot.seated,
        remaining: slot.remaining(),
        seats,
    })
}

/// Makes a slot seated with this map (seats already there stay as they are).
pub async fn set_seats<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    writer: &CatalogWriter,
    id: &SlotId,
    request: SeatMapRequest,
    correlation_id: &CorrelationId,
) -> Result<SeatMapSummary, AppError> {
    let venue = writer.slot(store, id).await?;
    let seats = request.seats()?;
    let activity = |summary: &SeatMapSummary| {
        writer.record(
            &AdminActivity::SeatMapSet {
                company_id: venue.company_id.clone(),
                slot_id: id.to_string(),
                created: summary.created,
                skipped: summary.skipped,
                capacity: summary.capacity,
                actor: writer.user_id.to_string(),
            },
            correlation_id,
        )
    };
    store.set_seat_map(id, &seats, &activity).await
}

/// Closes or reopens a slot and/or changes its capacity (never below what
/// is booked).
pub async fn update_slot<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    writer: &CatalogWriter,
    id: &SlotId,
    request: UpdateSlotRequest,
    correlation_id: &CorrelationId,
) -> Result<SlotUpdated, AppError> {
    let venue = writer.slot(store, id).await?;
    let capacity = request
        .capacity
        .map(|c| {
            u32::try_from(c)
                .ok()
                .filter(|c| (1..=MAX_CAPACITY).contains(c))
                .ok_or_else(|| {
                    AppError::validation(
                        "INVALID_CAPACITY",
                        format!("capacity must be 1 to {MAX_CAPACITY}"),
                    )
                })
        })
        .transpose()?;
    let change = SlotChange {
        status: request.status,
        capacity,
    };
    if change == SlotChange::default() {
        return Err(AppError::validation(
            "NOTHING_TO_CHANGE",
            "give status and/or capacity",
        ));
    }
    let fields = [
        ("capacity", change.capacity.is_some()),
        ("status", change.status.is_some()),
    ];
    let activity = writer.record(
        &AdminActivity::SlotChanged {
            company_id: venue.company_id,
            slot_id: id.to_string(),
            fields: named(&fields),
            status: change.status.map(|s| s.as_str().to_owned()),
            capacity: change.capacity,
            actor: writer.user_id.to_string(),
        },
        correlation_id,
    )?;
    let slot = store.update_slot(id, &change, &activity).await?;
    Ok(SlotUpdated {
        capacity: slot.capacity,
        booked: slot.booked,
        remaining: slot.remaining(),
        availability: slot.availability(),
        slot_id: slot.id,
    })
}

mod bodies;
mod writer;

pub use bodies::*;

pub use writer::CatalogWriter;

#[cfg(test)]
mod tests;

//! Catalog items.
//!
//! | item     | PK                   | SK                      | GSI1PK                          | GSI1SK          |
//! |----------|----------------------|-------------------------|---------------------------------|-----------------|
//! | venue    | `VENUE#<id>`         | VENUE                   | VENUES                          | `<name>#<id>`   |
//! | resource | `RESOURCE#<id>`      | RESOURCE                | `VENUE#<venue id>#RESOURCES`    | `<name>#<id>`   |
//! | slot     | `RESOURCE#<id>`      | `SLOT#<date>T<hh:mm>`   |                                 |                 |
//! | seat     | `SEATS#<slot id>`    | `SEAT#<seat id>`        |                                 |                 |
//! | unit lock| `RANGE#<room>#<date>`| `UNIT#<hh:mm>`          |                                 |                 |

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{OutboxItem, is_conditional_failure, keys, s};
use crate::catalog::events::SlotsGenerated;
use crate::catalog::ports::{
    ResourceChange, ResourceStore, SlotChange, SlotStore, VenueChange, VenueStore,
};
use crate::catalog::{
    BackNine, CatalogStatus, GenerationSummary, RangeRules, Resource, ResourceId, ResourceKind,
    Seat, SeatMapSummary, Slot, SlotId, Venue, VenueId, VenueKind,
};
use crate::{AppError, CorrelationId, EventEnvelope, EventSource};

fn venue_pk(id: &VenueId) -> String {
    format!("VENUE#{id}")
}

pub(crate) fn resource_pk(id: &ResourceId) -> String {
    format!("RESOURCE#{id}")
}

/// The partition of a room's unit locks on a date.
pub(crate) fn range_pk(resource: &ResourceId, date: NaiveDate) -> String {
    format!("RANGE#{resource}#{date}")
}

/// The partition of a slot's seats.
pub(crate) fn seats_pk(slot: &SlotId) -> String {
    format!("SEATS#{slot}")
}

#[derive(Debug, Serialize, Deserialize)]
struct VenueItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    id: VenueId,
    name: String,
    kind: VenueKind,
    city: String,
    status: CatalogStatus,
}

#[derive(Debug, Serialize, Deserialize)]
struct ResourceItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    entity: String,
    id: ResourceId,
    venue_id: VenueId,
    name: String,
    kind: ResourceKind,
    status: CatalogStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range: Option<RangeRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    back_nine: Option<BackNine>,
}

/// A slot as stored: the slot's fields next to its keys.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SlotItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    /// `capacity - booked`, kept beside `booked` by every write: condition
    /// expressions cannot add, so a booking is taken on `remaining >= :q`.
    pub remaining: u32,
    #[serde(flatten)]
    pub slot: Slot,
}

impl SlotItem {
    pub fn new(slot: &Slot) -> Self {
        Self {
            pk: resource_pk(&slot.id.resource_id),
            sk: slot.id.sort_key(),
            entity: "SLOT".to_owned(),
            remaining: slot.remaining(),
            slot: slot.clone(),
        }
    }
}

/// Venues, resources and slots in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoCatalog {
    client: Client,
    table: String,
}

impl DynamoCatalog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Renames, moves or closes/reopens a venue or a resource (`pk`/`sk`
    /// name which). `fields` are (attribute, value) pairs already validated.
    async fn update_entity(
        &self,
        pk: String,
        sk: &str,
        fields: &[(&str, AttributeValue)],
        what: &str,
    ) -> Result<std::collections::HashMap<String, AttributeValue>, AppError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression("attribute_exists(PK)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        let mut sets = Vec::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            sets.push(format!("#f{i} = :f{i}"));
            update = update
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":f{i}"), value.clone());
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(out) => Ok(out.attributes.unwrap_or_default()),
            Err(e) if is_conditional_failure(&e) => Err(AppError::NotFound {
                code: if sk == "VENUE" {
                    "VENUE_NOT_FOUND"
                } else {
                    "RESOURCE_NOT_FOUND"
                },
                what: what.to_owned(),
            }),
            Err(e) => Err(AppError::internal("updating the catalog", e)),
        }
    }

    async fn put_new(&self, item: impl Serialize, what: &'static str) -> Result<bool, AppError> {
        let item = serde_dynamo::to_item(item).map_err(|e| AppError::internal(what, e))?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(AppError::internal(what, e)),
        }
    }

    /// Puts every item that does not exist yet, 16 at a time; answers
    /// (created, skipped).
    async fn put_all_new<T: Serialize>(
        &self,
        items: Vec<T>,
        what: &'static str,
    ) -> Result<(usize, usize), AppError> {
        let results: Vec<Result<bool, AppError>> = futures::stream::iter(items)
            .map(|item| self.put_new(item, what))
            .buffer_unordered(16)
            .collect()
            .await;
        let mut counts = (0, 0);
        for result in results {
            if result? {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        Ok(counts)
    }

    /// A strongly consistent read: a booking prices and refuses by what it
    /// reads here, so it must see a slot generated or changed a moment ago.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        sk: String,
        what: &'static str,
    ) -> Result<Option<T>, AppError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal(what, e))?;
        out.item
            .map(|i| serde_dynamo::from_item(i).map_err(|e| AppError::internal(what, e)))
            .transpose()
    }

    async fn query_gsi1<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        what: &'static str,
    ) -> Result<Vec<T>, AppError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AppError::internal(what, e))?;
            for item in page.items() {
                out.push(
                    serde_dynamo::from_item(item.clone())
                        .map_err(|e| AppError::internal(what, e))?,
                );
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(out);
            }
        }
    }
}

impl VenueStore for DynamoCatalog {
    async fn create_venue(&self, venue: &Venue) -> Result<(), AppError> {
        let item = VenueItem {
            pk: venue_pk(&venue.id),
            sk: "VENUE".into(),
            gsi1pk: "VENUES".into(),
            gsi1sk: format!("{}#{}", venue.name.to_lowercase(), venue.id),
            entity: "VENUE".into(),
            id: venue.id.clone(),
            name: venue.name.clone(),
            kind: venue.kind,
            city: venue.city.clone(),
            status: venue.status,
        };
        self.put_new(item, "creating a venue").await?;
        Ok(())
    }

    async fn get_venue(&self, id: &VenueId) -> Result<Option<Venue>, AppError> {
        let item: Option<VenueItem> = self
            .get(venue_pk(id), "VENUE".into(), "reading a venue")
            .await?;
        Ok(item.map(venue_of))
    }

    async fn list_venues(&self) -> Result<Vec<Venue>, AppError> {
        let items: Vec<VenueItem> = self.query_gsi1("VENUES".into(), "listing venues").await?;
        Ok(items.into_iter().map(venue_of).collect())
    }

    async fn update_venue(&self, id: &VenueId, change: &VenueChange) -> Result<Venue, AppError> {
        let mut fields = Vec::new();
        if let Some(name) = &change.name {
            fields.push(("GSI1SK", s(format!("{}#{id}", name.to_lowercase()))));
            fields.push(("name", s(name)));
        }
        if let Some(city) = &change.city {
            fields.push(("city", s(city)));
        }
        if let Some(status) = change.status {
            fields.push(("status", s(status.as_str())));
        }
        let item = self
            .update_entity(venue_pk(id), "VENUE", &fields, &format!("the venue {id}"))
            .await?;
        let item: VenueItem =
            serde_dynamo::from_item(item).map_err(|e| AppError::internal("decoding a venue", e))?;
        Ok(venue_of(item))
    }
}

impl ResourceStore for DynamoCatalog {
    async fn create_resource(&self, resource: &Resource) -> Result<(), AppError> {
        let item = ResourceItem {
            pk: resource_pk(&resource.id),
            sk: "RESOURCE".into(),
            gsi1pk: format!("VENUE#{}#RESOURCES", resource.venue_id),
            gsi1sk: format!("{}#{}", resource.name.to_lowercase(), resource.id),
            entity: "RESOURCE".into(),
            id: resource.id.clone(),
            venue_id: resource.venue_id.clone(),
            name: resource.name.clone(),
            kind: resource.kind,
            status: resource.status,
            range: resource.range,
            back_nine: resource.back_nine.clone(),
        };
        self.put_new(item, "creating a resource").await?;
        Ok(())
    }

    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, AppError> {
        let item: Option<ResourceItem> = self
            .get(resource_pk(id), "RESOURCE".into(), "reading a resource")
            .await?;
        Ok(item.map(resource_of))
    }

    async fn list_resources(&self, venue: &VenueId) -> Result<Vec<Resource>, AppError> {
        let items: Vec<ResourceItem> = self
            .query_gsi1(format!("VENUE#{venue}#RESOURCES"), "listing resources")
            .await?;
        Ok(items.into_iter().map(resource_of).collect())
    }

    async fn update_resource(
        &self,
        id: &ResourceId,
        change: &ResourceChange,
    ) -> Result<Resource, AppError> {
        let mut fields = Vec::new();
        if let Some(name) = &change.name {
            fields.push(("GSI1SK", s(format!("{}#{id}", name.to_lowercase()))));
            fields.push(("name", s(name)));
        }
        if let Some(status) = change.status {
            fields.push(("status", s(status.as_str())));
        }
        let item = self
            .update_entity(
                resource_pk(id),
                "RESOURCE",
                &fields,
                &format!("the resource {id}"),
            )
            .await?;
        let item: ResourceItem = serde_dynamo::from_item(item)
            .map_err(|e| AppError::internal("decoding a resource", e))?;
        Ok(resource_of(item))
    }
}

fn venue_of(v: VenueItem) -> Venue {
    Venue {
        id: v.id,
        name: v.name,
        kind: v.kind,
        city: v.city,
        status: v.status,
    }
}

fn resource_of(r: ResourceItem) -> Resource {
    Resource {
        id: r.id,
        venue_id: r.venue_id,
        name: r.name,
        kind: r.kind,
        status: r.status,
        range: r.range,
        back_nine: r.back_nine,
    }
}

impl SlotStore for DynamoCatalog {
    /// Writes the slots that do not exist yet (16 at a time), leaving every
    /// existing one untouched, then records `event` (SlotsGenerated).
    async fn generate(
        &self,
        slots: &[Slot],
        announce: &SlotsGenerated,
        correlation_id: &CorrelationId,
    ) -> Result<GenerationSummary, AppError> {
        let items: Vec<SlotItem> = slots.iter().map(SlotItem::new).collect();
        let (created, skipped) = self.put_all_new(items, "writing a slot").await?;
        let summary = GenerationSummary { created, skipped };
        let announce = SlotsGenerated {
            created,
            skipped,
            ..announce.clone()
        };
        let event = EventEnvelope::of(&announce, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
        let outbox = OutboxItem::new(EventSource::Catalog, &event)
            .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
        self.put_new(outbox, "recording SlotsGenerated").await?;
        Ok(summary)
    }

    /// The slots of a resource on a date, in start order.
    async fn slots_on(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> Result<Vec<Slot>, AppError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :day)")
            .expression_attribute_values(":pk", s(resource_pk(resource)))
            .expression_attribute_values(":day", s(format!("SLOT#{date}")))
            .send()
            .await
            .map_err(|e| AppError::internal("reading slots", e))?;
        page.items()
            .iter()
            .map(|item| {
                serde_dynamo::from_item::<_, SlotItem>(item.clone())
                    .map(|i| i.slot)
                    .map_err(|e| AppError::internal("decoding a slot", e))
            })
            .collect()
    }

    /// Changes a slot's status and/or capacity. A capacity below what is
    /// already booked is refused by the write's condition, not by a read.
    async fn update_slot(&self, id: &SlotId, change: &SlotChange) -> Result<Slot, AppError> {
        let SlotChange { status, capacity } = *change;
        let mut sets = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(&id.resource_id)))
            .key(keys::SK, s(id.sort_key()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        let mut condition = "attribute_exists(PK)".to_owned();
        if let Some(status) = status {
            sets.push("#status = :status");
            update = update
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        if let Some(capacity) = capacity {
            // `capacity` is a DynamoDB reserved word.
            sets.push("#capacity = :cap, remaining = :cap - booked");
            condition.push_str(" AND booked <= :cap");
            update = update
                .expression_attribute_names("#capacity", "capacity")
                .expression_attribute_values(":cap", AttributeValue::N(capacity.to_string()));
        }
        if sets.is_empty() {
            return Err(AppError::validation(
                "NOTHING_TO_CHANGE",
                "give status and/or capacity",
            ));
        }
        let result = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item: SlotItem = serde_dynamo::from_item(out.attributes.unwrap_or_default())
                    .map_err(|e| AppError::internal("decoding a slot", e))?;
                Ok(item.slot)
            }
            Err(e) if is_conditional_failure(&e) => match self.get_slot(id).await? {
                None => Err(AppError::NotFound {
                    code: "SLOT_NOT_FOUND",
                    what: format!("the slot {id}"),
                }),
                Some(slot) => Err(AppError::conflict(
                    "CAPACITY_BELOW_BOOKED",
                    format!("{} places are already booked", slot.booked),
                )),
            },
            Err(e) => Err(AppError::internal("updating a slot", e)),
        }
    }

    /// Adds the seats a slot does not have yet (existing ones are left as
    /// they are, taken or not), marks the slot seated and sets its capacity
    /// to its number of seats.
    async fn set_seat_map(&self, id: &SlotId, seats: &[Seat]) -> Result<SeatMapSummary, AppError> {
        let Some(slot) = self.get_slot(id).await? else {
            return Err(AppError::NotFound {
                code: "SLOT_NOT_FOUND",
                what: format!("the slot {id}"),
            });
        };
        // Refuse before writing anything if the map would hold fewer seats
        // than are already booked (the final update checks it again).
        let mut all: std::collections::BTreeSet<String> = self
            .seats_of(id)
            .await?
            .into_iter()
            .map(|seat| seat.seat_id)
            .collect();
        all.extend(seats.iter().map(|seat| seat.seat_id.clone()));
        if (slot.booked as usize) > all.len() {
            return Err(AppError::conflict(
                "CAPACITY_BELOW_BOOKED",
                format!(
                    "{} places are booked; the map has {} seats",
                    slot.booked,
                    all.len()
                ),
            ));
        }
        let items: Vec<serde_json::Value> = seats
            .iter()
            .map(|seat| {
                let mut item = serde_json::to_value(seat).unwrap_or_default();
                item["PK"] = seats_pk(id).into();
                item["SK"] = format!("SEAT#{}", seat.seat_id).into();
                item["entity"] = "SEAT".into();
                item
            })
            .collect();
        let (created, skipped) = self.put_all_new(items, "writing a seat").await?;
        let mut summary = SeatMapSummary {
            created,
            skipped,
            capacity: 0,
        };
        summary.capacity = u32::try_from(self.seats_of(id).await?.len()).unwrap_or(u32::MAX);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(&id.resource_id)))
            .key(keys::SK, s(id.sort_key()))
            .update_expression("SET seated = :true, #capacity = :cap, remaining = :cap - booked")
            .condition_expression("attribute_exists(PK) AND booked <= :cap")
            .expression_attribute_names("#capacity", "capacity")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":cap", AttributeValue::N(summary.capacity.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(summary),
            Err(e) if is_conditional_failure(&e) => Err(AppError::conflict(
                "CAPACITY_BELOW_BOOKED",
                "the slot has more places booked than the seat map has seats",
            )),
            Err(e) => Err(AppError::internal("marking a slot seated", e)),
        }
    }

    /// Every seat of a slot, by seat id.
    async fn get_seat(&self, id: &SlotId, seat_id: &str) -> Result<Option<Seat>, AppError> {
        self.get(seats_pk(id), format!("SEAT#{seat_id}"), "reading a seat")
            .await
    }

    async fn seats_of(&self, id: &SlotId) -> Result<Vec<Seat>, AppError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk")
                .expression_attribute_values(":pk", s(seats_pk(id)))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| AppError::internal("reading seats", e))?;
            for item in page.items() {
                out.push(
                    serde_dynamo::from_item(item.clone())
                        .map_err(|e| AppError::internal("decoding a seat", e))?,
                );
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(out);
            }
        }
    }

    /// The unit start times of a room already locked on a date.
    async fn taken_units(
        &self,
        resource: &ResourceId,
        date: NaiveDate,
    ) -> Result<std::collections::BTreeSet<chrono::NaiveTime>, AppError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(range_pk(resource, date)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a room's day", e))?;
        Ok(page
            .items()
            .iter()
            .filter_map(|i| super::string_attr(i, "SK"))
            .filter_map(|sk| sk.strip_prefix("UNIT#"))
            .filter_map(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
            .collect())
    }

    async fn get_slot(&self, id: &SlotId) -> Result<Option<Slot>, AppError> {
        let item: Option<SlotItem> = self
            .get(
                resource_pk(&id.resource_id),
                id.sort_key(),
                "reading a slot",
            )
            .await?;
        Ok(item.map(|i| i.slot))
    }
}

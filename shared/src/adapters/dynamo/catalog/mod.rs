//! Catalog items.
//!
//! | item     | PK                   | SK                      | GSI1PK                          | GSI1SK          |
//! |----------|----------------------|-------------------------|---------------------------------|-----------------|
//! | venue    | `VENUE#<id>`         | VENUE                   | VENUES                          | `<name>#<id>`   |
//! | resource | `RESOURCE#<id>`      | RESOURCE                | `VENUE#<venue id>#RESOURCES`    | `<name>#<id>`   |
//! | slot     | `RESOURCE#<id>`      | `SLOT#<date>T<hh:mm>`   |                                 |                 |
//! | seat     | `SEATS#<slot id>`    | `SEAT#<seat id>`        |                                 |                 |
//! | unit lock| `RANGE#<room>#<date>`| `UNIT#<hh:mm>`          |                                 |                 |

mod slots;
mod venues;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::{
    OutboxItem, cancellation_codes, cursor, is_conditional_failure, keys, outbox_write, put_write,
    s, transact_write, transaction_error,
};
use crate::catalog::events::SlotsGenerated;
use crate::catalog::ports::{
    ActivityOf, ResourceChange, ResourceStore, SlotChange, SlotStore, VenueChange, VenueStore,
};
use crate::catalog::{
    BackNine, CatalogStatus, GenerationSummary, RangeRules, Resource, ResourceId, ResourceKind,
    Seat, SeatMapSummary, Slot, SlotId, TimeZone, Venue, VenueId, VenueKind,
};
use crate::identity::CompanyId;
use crate::kernel::{Page, PageRequest};
use crate::{AppError, CorrelationId, EventEnvelope, EventSource};

/// Whether a transaction failed on its first item's condition.
fn first_failed<R>(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    cancellation_codes(e)
        .and_then(|codes| codes.first().cloned())
        .is_some_and(|c| c == "ConditionalCheckFailed")
}

pub(crate) fn venue_pk(id: &VenueId) -> String {
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
    /// Absent on a venue written before companies, until adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_id: Option<CompanyId>,
    name: String,
    kind: VenueKind,
    city: String,
    time_zone: TimeZone,
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
    /// Set by the waiting room in front of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_room: Option<crate::catalog::Gate>,
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
    /// name which), with its `activity`, in one transaction; answers the
    /// item as it is now. `fields` are (attribute, value) pairs already
    /// validated.
    async fn update_entity(
        &self,
        pk: String,
        sk: &str,
        fields: &[(&str, AttributeValue)],
        what: &str,
        activity: &EventEnvelope,
    ) -> Result<std::collections::HashMap<String, AttributeValue>, AppError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(&pk))
            .key(keys::SK, s(sk))
            .condition_expression("attribute_exists(PK)");
        let mut sets = Vec::new();
        for (i, (name, value)) in fields.iter().enumerate() {
            sets.push(format!("#f{i} = :f{i}"));
            update = update
                .expression_attribute_names(format!("#f{i}"), *name)
                .expression_attribute_values(format!(":f{i}"), value.clone());
        }
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .map_err(|e| AppError::internal("building a catalog update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.activity(activity)?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => super::get_consistent(&self.client, &self.table, pk, sk)
                .await?
                .ok_or_else(|| AppError::internal("updating the catalog", "the item vanished")),
            Err(e) if first_failed(&e) => Err(AppError::NotFound {
                code: if sk == "VENUE" {
                    "VENUE_NOT_FOUND"
                } else {
                    "RESOURCE_NOT_FOUND"
                },
                what: what.to_owned(),
            }),
            Err(e) => Err(transaction_error("updating the catalog", e)),
        }
    }

    /// The outbox item of an `AdminActivity`, for its write's transaction.
    fn activity(&self, activity: &EventEnvelope) -> Result<TransactWriteItem, AppError> {
        outbox_write(&self.table, EventSource::Identity, activity)
    }

    /// Creates `item` (a venue or a resource) with its `activity`, in one
    /// transaction. An id is created once: a second create of it changes
    /// nothing and records nothing.
    async fn create(
        &self,
        item: impl Serialize,
        activity: &EventEnvelope,
        what: &'static str,
    ) -> Result<(), AppError> {
        let items = vec![
            put_write(&self.table, item, Some("attribute_not_exists(PK)"))?,
            self.activity(activity)?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(()),
            Err(e) if first_failed(&e) => Ok(()),
            Err(e) => Err(transaction_error(what, e)),
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

    /// One page of the items of one GSI1 partition, in sort-key order,
    /// whose base keys start with `pk_prefix`.
    async fn query_gsi1_page<T: serde::de::DeserializeOwned>(
        &self,
        pk: String,
        pk_prefix: &str,
        page: PageRequest<'_>,
        what: &'static str,
    ) -> Result<Page<T>, AppError> {
        let start = page
            .cursor
            .map(|c| {
                cursor::decode(c, &["PK", "SK", "GSI1PK", "GSI1SK"], |key| {
                    key["GSI1PK"] == pk && key["PK"].starts_with(pk_prefix)
                })
            })
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(&pk))
            .limit(i32::try_from(page.limit).unwrap_or(100))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| AppError::internal(what, e))?;
        let items = out
            .items()
            .iter()
            .map(|item| {
                serde_dynamo::from_item(item.clone()).map_err(|e| AppError::internal(what, e))
            })
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Page {
            items,
            next_cursor: out.last_evaluated_key().map(cursor::encode),
        })
    }
}

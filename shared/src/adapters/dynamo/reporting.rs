//! The reporting context's items (docs/table-design.md):
//!
//! - `STATS_DAY` `STATS#RESOURCE#<id>` or `STATS#VENUE#<id>` / `DAY#<date>`:
//!   one counter attribute per [`Counter`], `gross_cents_<currency>` and
//!   `refunds_cents_<currency>`; only ever `ADD`ed to.
//! - `STATS_SLOT` `STATS#RESOURCE#<id>` / `SLOT#<date>T<hh:mm>`: `places`.
//! - `STATS_COUNTED` `STATS_COUNTED#<event id>` / `COUNTED`: the marker of an
//!   event counted, put on `attribute_not_exists(PK)` in the tally's
//!   transaction; TTL 30 days (past the queues' 14-day retention, so no
//!   redelivery outlives it).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{Duration, NaiveDate, Utc};

use super::{cancellation_codes, keys, n, s, transact_write, transaction_error};
use crate::AppError;
use crate::catalog::{ResourceId, SlotId};
use crate::reporting::ports::{Counted, FiguresStore};
use crate::reporting::{Counter, DateRange, Figures, Subject, Tally};

const MARKER_RETENTION_DAYS: i64 = 30;

/// The kept figures in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoFigures {
    client: Client,
    table: String,
}

fn subject_pk(subject: &Subject) -> String {
    match subject {
        Subject::Resource(id) => format!("STATS#RESOURCE#{id}"),
        Subject::Venue(id) => format!("STATS#VENUE#{id}"),
    }
}

fn day_sk(date: NaiveDate) -> String {
    format!("DAY#{date}")
}

fn slot_sk(slot: &SlotId) -> String {
    format!("SLOT#{}T{}", slot.date, slot.start.format("%H:%M"))
}

/// The `ADD` of `figures` to the item `pk`/`sk` of `entity`.
fn add(
    table: &str,
    pk: String,
    sk: String,
    entity: &str,
    figures: &Figures,
) -> Result<TransactWriteItem, AppError> {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    let mut adds = Vec::new();
    let mut push = |name: String, by: i64| {
        let i = adds.len();
        names.insert(format!("#a{i}"), name);
        values.insert(format!(":a{i}"), n(by));
        adds.push(format!("#a{i} :a{i}"));
    };
    for (counter, by) in &figures.counts {
        push(counter.as_str().to_owned(), *by);
    }
    for (currency, money) in &figures.money {
        push(format!("gross_cents_{currency}"), money.gross_cents);
        push(format!("refunds_cents_{currency}"), money.refunds_cents);
    }
    names.insert("#e".to_owned(), keys::ENTITY.to_owned());
    values.insert(":e".to_owned(), s(entity));
    let update = Update::builder()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression(format!("SET #e = :e ADD {}", adds.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| AppError::internal("building a figures update", e))?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// The figures an item holds.
fn figures_of(item: &HashMap<String, AttributeValue>) -> Figures {
    let mut figures = Figures::default();
    for (name, value) in item {
        let Some(v) = value.as_n().ok().and_then(|v| v.parse::<i64>().ok()) else {
            continue;
        };
        if let Some(counter) = Counter::parse(name) {
            figures.count(counter, v);
        } else if let Some(currency) = name.strip_prefix("gross_cents_") {
            figures.earn(currency, v, 0);
        } else if let Some(currency) = name.strip_prefix("refunds_cents_") {
            figures.earn(currency, 0, v);
        }
    }
    figures.trimmed()
}

impl DynamoFigures {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Every item of `pk` with a sort key from `from` to `to`.
    async fn between(
        &self,
        pk: String,
        from: String,
        to: String,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, AppError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(to.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| AppError::internal("reading figures", e))?;
            items.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => return Ok(items),
            }
        }
    }
}

impl FiguresStore for DynamoFigures {
    #[tracing::instrument(skip(self, tally), fields(event_id = %tally.event_id))]
    async fn apply(&self, tally: &Tally) -> Result<Counted, AppError> {
        let expires = (Utc::now() + Duration::days(MARKER_RETENTION_DAYS)).timestamp();
        let marker = aws_sdk_dynamodb::types::Put::builder()
            .table_name(&self.table)
            .item(keys::PK, s(format!("STATS_COUNTED#{}", tally.event_id)))
            .item(keys::SK, s("COUNTED"))
            .item(keys::ENTITY, s("STATS_COUNTED"))
            .item(keys::EXPIRES_AT, n(expires))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| AppError::internal("building the counted marker", e))?;
        let mut items = vec![TransactWriteItem::builder().put(marker).build()];
        // One write per item: a change to two resources on one day is one
        // change to the venue's day.
        let mut days: BTreeMap<(String, String), Figures> = BTreeMap::new();
        for day in &tally.days {
            for subject in [
                Subject::Resource(day.resource_id.clone()),
                Subject::Venue(tally.venue_id.clone()),
            ] {
                days.entry((subject_pk(&subject), day_sk(day.date)))
                    .or_default()
                    .add(&day.figures);
            }
        }
        for ((pk, sk), figures) in days {
            let figures = figures.trimmed();
            if figures != Figures::default() {
                items.push(add(&self.table, pk, sk, "STATS_DAY", &figures)?);
            }
        }
        let mut slots: BTreeMap<&SlotId, i64> = BTreeMap::new();
        for (slot, places) in &tally.slots {
            *slots.entry(slot).or_default() += places;
        }
        for (slot, places) in slots.into_iter().filter(|(_, p)| *p != 0) {
            let mut figures = Figures::default();
            figures.count(Counter::Places, places);
            let pk = subject_pk(&Subject::Resource(slot.resource_id.clone()));
            items.push(add(&self.table, pk, slot_sk(slot), "STATS_SLOT", &figures)?);
        }
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(Counted::New),
            Err(e) => match cancellation_codes(&e) {
                Some(codes)
                    if codes.first().map(String::as_str) == Some("ConditionalCheckFailed") =>
                {
                    Ok(Counted::Duplicate)
                }
                _ => Err(transaction_error("counting an event", e)),
            },
        }
    }

    async fn days(
        &self,
        subject: &Subject,
        range: DateRange,
    ) -> Result<BTreeMap<NaiveDate, Figures>, AppError> {
        let items = self
            .between(subject_pk(subject), day_sk(range.from), day_sk(range.to))
            .await?;
        let mut out = BTreeMap::new();
        for item in items {
            let Some(date) = item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.strip_prefix("DAY#"))
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            else {
                continue;
            };
            let figures = figures_of(&item);
            if figures != Figures::default() {
                out.insert(date, figures);
            }
        }
        Ok(out)
    }

    async fn slot_places(
        &self,
        resource: &ResourceId,
        range: DateRange,
    ) -> Result<BTreeMap<SlotId, i64>, AppError> {
        let items = self
            .between(
                subject_pk(&Subject::Resource(resource.clone())),
                format!("SLOT#{}", range.from),
                format!("SLOT#{}T~", range.to),
            )
            .await?;
        let mut out = BTreeMap::new();
        for item in items {
            let Some(at) = item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .and_then(|sk| sk.strip_prefix("SLOT#"))
            else {
                continue;
            };
            let Ok(slot) = SlotId::parse(&format!("{resource}@{at}")) else {
                continue;
            };
            let places = figures_of(&item).get(Counter::Places);
            if places != 0 {
                out.insert(slot, places);
            }
        }
        Ok(out)
    }
}

/// The reporting use cases over the platform table and the system clock.
pub type LiveReporting = crate::reporting::service::Reporting<
    DynamoFigures,
    super::booking::DynamoBookings,
    super::catalog::DynamoCatalog,
    crate::clock::SystemClock,
>;

/// [`LiveReporting`] over `table`.
pub fn live_reporting(client: Client, table: &str) -> LiveReporting {
    crate::reporting::service::Reporting {
        figures: DynamoFigures::new(client.clone(), table),
        bookings: super::booking::DynamoBookings::new(client.clone(), table),
        catalog: super::catalog::DynamoCatalog::new(client, table),
        clock: crate::clock::SystemClock,
    }
}

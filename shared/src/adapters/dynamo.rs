//! The platform's single DynamoDB table: key layout, the outbox item, the
//! event log, and the table probe.
//!
//! Keys are generic (`PK`, `SK`, `GSI1PK`, `GSI1SK`) and every item names its
//! `entity`; docs/table-design.md lists the access patterns they serve.

pub mod account;
mod activity;
pub mod booking;
pub mod catalog;
pub mod company;
mod cursor;
mod event_log;
pub mod identity;
pub mod notification;
pub mod payment;
pub mod reporting;
pub mod waiting_room;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::events::EventEnvelope;
use crate::ports::{HeartbeatStore, Probe};

use crate::{AppError, EventSource};
pub use event_log::{ACTIVITY_PARTITION, DynamoEventLog, DynamoOutbox, EventLogItem};

/// Attribute and index names of the table.
pub mod keys {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const GSI1: &str = "GSI1";
    pub const GSI1PK: &str = "GSI1PK";
    pub const GSI1SK: &str = "GSI1SK";
    /// Bookings by resource and booked date.
    pub const GSI3: &str = "GSI3";
    /// Sparse: live holds, reminders to send, the admin activity log.
    pub const GSI2: &str = "GSI2";
    pub const ENTITY: &str = "entity";
    /// Epoch seconds after which DynamoDB's TTL may delete the item.
    pub const EXPIRES_AT: &str = "expires_at";
}

/// Entity names stored in the `entity` attribute.
pub mod entity {
    pub const OUTBOX: &str = "OUTBOX";
    pub const EVENT: &str = "EVENT";
}

/// How long a published outbox item is kept for inspection before TTL
/// removes it. The stream delivers it long before.
pub const OUTBOX_RETENTION_DAYS: i64 = 7;

/// An event waiting in the table for the outbox relay.
///
/// A state change writes its `OutboxItem` in the same `TransactWriteItems`,
/// so the event exists if and only if the change does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    pub event_id: String,
    pub event_type: String,
    pub source: String,
    /// The envelope as JSON text, published verbatim as the event's detail.
    pub envelope: String,
    pub expires_at: i64,
}

impl OutboxItem {
    pub fn new(source: EventSource, envelope: &EventEnvelope) -> Result<Self, serde_json::Error> {
        let id = envelope.id.to_string();
        Ok(Self {
            pk: format!("OUTBOX#{id}"),
            sk: "OUTBOX".to_owned(),
            entity: entity::OUTBOX.to_owned(),
            event_id: id,
            event_type: envelope.event_type.to_string(),
            source: source.as_str().to_owned(),
            envelope: serde_json::to_string(envelope)?,
            expires_at: (envelope.occurred_at + Duration::days(OUTBOX_RETENTION_DAYS)).timestamp(),
        })
    }

    /// The `Put` to include in the state change's transaction. It refuses to
    /// overwrite: an event id is written once.
    pub fn to_put(&self, table: &str) -> Result<Put, AppError> {
        let item = serde_dynamo::to_item(self)
            .map_err(|e| AppError::internal("encoding the outbox item", e))?;
        Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", keys::PK)
            .build()
            .map_err(|e| AppError::internal("building the outbox put", e))
    }

    pub fn envelope(&self) -> Result<EventEnvelope, serde_json::Error> {
        serde_json::from_str(&self.envelope)
    }
}

/// The platform's heartbeat item and its outbox event.
#[derive(Debug, Clone)]
pub struct DynamoHeartbeats {
    client: Client,
    table: String,
}

impl DynamoHeartbeats {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl HeartbeatStore for DynamoHeartbeats {
    #[tracing::instrument(skip(self, envelope), fields(event_id = %envelope.id))]
    async fn beat(&self, source: EventSource, envelope: &EventEnvelope) -> Result<(), AppError> {
        let beat = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S("PLATFORM".to_owned()))
            .key(keys::SK, AttributeValue::S("HEARTBEAT".to_owned()))
            .update_expression(
                "SET #entity = :entity, last_beat_at = :at, last_event_id = :id, \
                 beats = if_not_exists(beats, :zero) + :one",
            )
            .expression_attribute_names("#entity", keys::ENTITY)
            .expression_attribute_values(":entity", AttributeValue::S("HEARTBEAT".to_owned()))
            .expression_attribute_values(
                ":at",
                AttributeValue::S(envelope.occurred_at.to_rfc3339()),
            )
            .expression_attribute_values(":id", AttributeValue::S(envelope.id.to_string()))
            .expression_attribute_values(":zero", AttributeValue::N("0".to_owned()))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .build()
            .map_err(|e| AppError::internal("building the heartbeat update", e))?;
        let outbox = OutboxItem::new(source, envelope)
            .map_err(|e| AppError::internal("encoding the outbox item", e))?
            .to_put(&self.table)?;
        transact_write(
            &self.client,
            vec![
                TransactWriteItem::builder().update(beat).build(),
                TransactWriteItem::builder().put(outbox).build(),
            ],
        )
        .await
        .map_err(|e| AppError::internal("writing the heartbeat", e))?;
        Ok(())
    }
}

/// Whether the platform table answers.
#[derive(Debug, Clone)]
pub struct TableProbe {
    client: Client,
    table: String,
}

impl TableProbe {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl Probe for TableProbe {
    fn name(&self) -> &'static str {
        "table"
    }

    async fn check(&self) -> Result<(), String> {
        let out = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| describe_sdk_error(&e))?;
        match out.table().and_then(|t| t.table_status()) {
            Some(status) if status.as_str() == "ACTIVE" || status.as_str() == "UPDATING" => Ok(()),
            Some(status) => Err(format!("table status {}", status.as_str())),
            None => Err("table status unknown".to_owned()),
        }
    }
}

/// A short, secret-free description of an SDK failure for health reports.
pub fn describe_sdk_error<E, R>(err: &SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(e) => e
            .err()
            .code()
            .map_or_else(|| "service error".to_owned(), str::to_owned),
        SdkError::TimeoutError(_) => "timeout".to_owned(),
        SdkError::DispatchFailure(_) => "unreachable".to_owned(),
        _ => "request failed".to_owned(),
    }
}

/// Sortable UTC timestamps: fixed width, so strings order as times do.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A `Put` of `item` for a transaction, on `condition` if any.
pub(crate) fn put_write(
    table: &str,
    item: impl Serialize,
    condition: Option<&str>,
) -> Result<TransactWriteItem, AppError> {
    let item =
        serde_dynamo::to_item(item).map_err(|e| AppError::internal("encoding an item", e))?;
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(|e| AppError::internal("building a put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// Writes `item` unless an item with its key exists: `true` when written,
/// `false` for a duplicate (the key was there), which changes nothing.
/// `what` names the write in an error.
pub(crate) async fn put_new(
    client: &Client,
    table: &str,
    item: impl Serialize,
    what: &'static str,
) -> Result<bool, AppError> {
    let item = serde_dynamo::to_item(item).map_err(|e| AppError::internal(what, e))?;
    let result = client
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", keys::PK)
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_conditional_failure(&e) => Ok(false),
        Err(e) => Err(AppError::internal(what, e)),
    }
}

/// The outbox item of `event`, for the transaction of the change it tells of.
pub(crate) fn outbox_write(
    table: &str,
    source: EventSource,
    event: &EventEnvelope,
) -> Result<TransactWriteItem, AppError> {
    let put = OutboxItem::new(source, event)
        .map_err(|e| AppError::internal("encoding the outbox item", e))?
        .to_put(table)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A strongly consistent read of one item.
pub(crate) async fn get_consistent(
    client: &Client,
    table: &str,
    pk: String,
    sk: &str,
) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, AppError> {
    Ok(client
        .get_item()
        .table_name(table)
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| AppError::internal("reading an item", e))?
        .item)
}

/// The first answer kept by an idempotency record (`PK` = `pk`, `SK` =
/// `IDEMPOTENCY`), if the same request made it; another request under the
/// same key is a 422.
pub(crate) async fn stored_answer(
    client: &Client,
    table: &str,
    pk: &str,
    fingerprint: &str,
) -> Result<Option<String>, AppError> {
    #[derive(Deserialize)]
    struct Record {
        fingerprint: String,
        response: String,
    }
    let Some(item) = get_consistent(client, table, pk.to_owned(), "IDEMPOTENCY").await? else {
        return Ok(None);
    };
    let record: Record = serde_dynamo::from_item(item)
        .map_err(|e| AppError::internal("decoding an idempotency record", e))?;
    if record.fingerprint != fingerprint {
        return Err(AppError::Unprocessable {
            code: "IDEMPOTENCY_KEY_REUSED",
            message: "this Idempotency-Key was used for a different request".into(),
        });
    }
    Ok(Some(record.response))
}

/// How many times a transaction cancelled by a `TransactionConflict` is sent.
const TRANSACTION_ATTEMPTS: u32 = 4;

/// Sends a `TransactWriteItems`, sending it again when DynamoDB cancels it
/// because another transaction was writing one of its items at that moment
/// (`TransactionConflict`) or the table throttled it. The retry then sees the
/// other transaction's outcome, and the conditions decide: a lost race
/// becomes an ordinary condition failure the caller already handles.
/// DynamoDB Local serializes transactions and never answers this way; the
/// tests below inject it.
pub async fn transact_write(
    client: &Client,
    items: Vec<TransactWriteItem>,
) -> Result<(), SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>> {
    let mut attempt = 0;
    loop {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        match result {
            Err(e) if attempt + 1 < TRANSACTION_ATTEMPTS && is_transient_cancellation(&e) => {
                tracing::info!(attempt, "transaction conflict or throttling; retrying");
                tokio::time::sleep(crate::retry::backoff_with_jitter(
                    attempt,
                    std::time::Duration::from_millis(20),
                    std::time::Duration::from_millis(400),
                ))
                .await;
                attempt += 1;
            }
            other => return other.map(|_| ()),
        }
    }
}

/// The error for a transaction that failed for a reason other than a
/// condition: still contended after every retry is a 503 the client may
/// retry; anything else is internal.
pub fn transaction_error<R>(
    context: &'static str,
    err: SdkError<TransactWriteItemsError, R>,
) -> AppError
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if is_transient_cancellation(&err) {
        tracing::warn!(context, "transaction still contended after retries");
        AppError::Unavailable {
            code: "CONTENTION",
            message: "this item is busy right now; try again".to_owned(),
        }
    } else {
        AppError::internal(context, err)
    }
}

/// A cancellation only by conflicts or throttling, with no condition failure.
fn is_transient_cancellation<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    if let SdkError::ServiceError(e) = err
        && matches!(
            e.err(),
            TransactWriteItemsError::ProvisionedThroughputExceededException(_)
                | TransactWriteItemsError::ThrottlingException(_)
                | TransactWriteItemsError::RequestLimitExceeded(_)
        )
    {
        return true;
    }
    cancellation_codes(err).is_some_and(|codes| {
        let transient = [
            "TransactionConflict",
            "ThrottlingError",
            "ProvisionedThroughputExceeded",
        ];
        codes.iter().any(|c| transient.contains(&c.as_str()))
            && !codes.iter().any(|c| c == "ConditionalCheckFailed")
    })
}

/// The cancellation reason code of each item of a cancelled
/// `TransactWriteItems` ("None" for items that were fine), or `None` when the
/// failure was not a cancellation.
pub fn cancellation_codes<R>(err: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(e) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(c) => Some(
                c.cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None").to_owned())
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// Whether a single-item write failed only because its condition was false.
pub fn is_conditional_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    matches!(err, SdkError::ServiceError(e) if e.err().code() == Some("ConditionalCheckFailedException"))
}

/// Reads a string attribute of an item, for adapters that skip serde.
pub fn string_attr<'a>(
    item: &'a std::collections::HashMap<String, AttributeValue>,
    name: &str,
) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorrelationId;

    fn envelope() -> EventEnvelope {
        EventEnvelope::of(
            &crate::events::Ping::Diagnostic { note: "one".into() },
            CorrelationId::generate(),
        )
        .unwrap()
    }

    #[test]
    fn an_outbox_item_round_trips_through_a_dynamodb_item() {
        let env = envelope();
        let item = OutboxItem::new(EventSource::Platform, &env).unwrap();
        let attrs: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(&item).unwrap();
        assert_eq!(string_attr(&attrs, keys::ENTITY), Some(entity::OUTBOX));
        let back: OutboxItem = serde_dynamo::from_item(attrs).unwrap();
        assert_eq!(back.envelope().unwrap(), env);
    }

    #[test]
    fn an_outbox_put_refuses_to_overwrite() {
        let item = OutboxItem::new(EventSource::Platform, &envelope()).unwrap();
        let put = item.to_put("t").unwrap();
        assert_eq!(
            put.condition_expression(),
            Some("attribute_not_exists(#pk)")
        );
    }

    #[test]
    fn the_event_log_is_keyed_by_event_id_and_indexed_by_day() {
        let env = envelope();
        let item = EventLogItem::new("s", &env).unwrap();
        assert_eq!(item.pk, format!("EVENT#{}", env.id));
        assert!(item.gsi1pk.starts_with("EVENTLOG#20"));
        assert!(item.gsi1sk.ends_with(&env.id.to_string()));
    }
}

/// Helpers for the adapter tests that inject DynamoDB failures.
#[cfg(test)]
pub(crate) mod test_support {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;

    /// A cancelled transaction with one reason code per item.
    pub fn cancelled(codes: &[&str]) -> TransactWriteItemsError {
        let mut e = TransactionCanceledException::builder().message("Transaction cancelled");
        for code in codes {
            e = e.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        TransactWriteItemsError::TransactionCanceledException(e.build())
    }
}

//! The notification context's items: the send ledger, every customer's
//! inbox and their preferences (docs/table-design.md).
//!
//! - `SEND` `NOTICE#<notice key>` / `CHANNEL#<channel>`: `status` SENDING
//!   (with `lease_until_ms`), SENT (`provider_id`) or FAILED (`reason`); TTL
//!   90 days.
//! - `INBOX` `USER#<user id>#INBOX` / `<inbox id>`: the entry; TTL 180 days.
//! - `NOTIFY_PREFS` `USER#<user id>` / `NOTIFY_PREFS`.
//! - `REMINDER` `REMINDER#<booking id>#<start epoch s>#<minutes>` /
//!   `REMINDER`, in the sparse GSI2 as `REMIND#<0..3>` /
//!   `<due at>#<booking id>#<minutes>` (the hold sweeper's index, other
//!   partitions); deleted when swept; TTL two days past the start.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{cursor, get_consistent, keys, n, put_new, s, stamp};
use crate::AppError;
use crate::identity::UserId;
use crate::kernel::{BookingId, Page, PageRequest};
use crate::notification::ports::{
    Claim, Inbox, PreferenceStore, ReminderSchedule, SendLedger, Settled,
};
use crate::notification::reminder::Reminder;
use crate::notification::{Channel, InboxEntry, InboxId, NoticeKey, Preferences};

const LEDGER_RETENTION_DAYS: i64 = 90;
const INBOX_RETENTION_DAYS: i64 = 180;

/// The ledger, inboxes and preferences in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoNotifications {
    client: Client,
    table: String,
}

impl DynamoNotifications {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Deletes one item, there or not.
    async fn delete(&self, pk: String, sk: &str, what: &'static str) -> Result<(), AppError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .send()
            .await
            .map_err(|e| AppError::internal(what, e))?;
        Ok(())
    }
}

fn ledger_key(key: &NoticeKey, channel: Channel) -> (String, String) {
    (
        format!("NOTICE#{}", key.as_str()),
        format!("CHANNEL#{}", channel.as_str()),
    )
}

fn inbox_pk(user: &UserId) -> String {
    format!("USER#{user}#INBOX")
}

fn expires(now: DateTime<Utc>, days: i64) -> i64 {
    (now + Duration::days(days)).timestamp()
}

#[derive(Debug, Deserialize)]
struct LedgerItem {
    status: String,
}

impl SendLedger for DynamoNotifications {
    #[tracing::instrument(skip(self, now, lease_until), fields(notice = key.as_str()))]
    async fn claim(
        &self,
        key: &NoticeKey,
        channel: Channel,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, AppError> {
        let (pk, sk) = ledger_key(key, channel);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(keys::PK, s(&pk))
            .item(keys::SK, s(&sk))
            .item(keys::ENTITY, s("SEND"))
            .item("status", s("SENDING"))
            .item("channel", s(channel.as_str()))
            .item("claimed_at", s(now.to_rfc3339()))
            .item("lease_until_ms", n(lease_until.timestamp_millis()))
            .item(keys::EXPIRES_AT, n(expires(now, LEDGER_RETENTION_DAYS)))
            .condition_expression(
                "attribute_not_exists(#pk) OR (#status = :sending AND lease_until_ms < :now)",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("SENDING"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Go),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                let item = get_consistent(&self.client, &self.table, pk, &sk).await?;
                let Some(item) = item else {
                    // Released between the write and the read: claim again
                    // on the next delivery.
                    return Ok(Claim::Busy);
                };
                let record: LedgerItem = serde_dynamo::from_item(item)
                    .map_err(|e| AppError::internal("decoding a send record", e))?;
                // SENDING: another delivery holds a live lease.
                Ok(if record.status == "SENDING" {
                    Claim::Busy
                } else {
                    Claim::Done
                })
            }
            Err(e) => Err(AppError::internal("claiming a send", e)),
        }
    }

    async fn settle(
        &self,
        key: &NoticeKey,
        channel: Channel,
        settled: &Settled,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let (pk, sk) = ledger_key(key, channel);
        let (status, field, value) = match settled {
            Settled::Sent { provider_id } => ("SENT", "provider_id", provider_id),
            Settled::Failed { reason } => ("FAILED", "reason", reason),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(
                "SET #status = :status, #field = :value, settled_at = :now REMOVE lease_until_ms",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#field", field)
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":value", s(value.as_str()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await
            .map_err(|e| AppError::internal("recording a send", e))?;
        Ok(())
    }

    async fn release(&self, key: &NoticeKey, channel: Channel) -> Result<(), AppError> {
        let (pk, sk) = ledger_key(key, channel);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .condition_expression("#status = :sending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("SENDING"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(AppError::internal("releasing a send", e)),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct InboxItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: InboxEntry,
    expires_at: i64,
}

impl Inbox for DynamoNotifications {
    async fn deliver(&self, user: &UserId, entry: &InboxEntry) -> Result<bool, AppError> {
        let item = InboxItem {
            pk: inbox_pk(user),
            sk: entry.id.to_string(),
            entity: "INBOX".into(),
            entry: entry.clone(),
            expires_at: expires(entry.created_at, INBOX_RETENTION_DAYS),
        };
        put_new(&self.client, &self.table, item, "writing an inbox entry").await
    }

    async fn list(
        &self,
        user: &UserId,
        page: PageRequest<'_>,
    ) -> Result<Page<InboxEntry>, AppError> {
        let pk = inbox_pk(user);
        let start = page
            .cursor
            .map(|c| {
                cursor::decode(c, &["PK", "SK"], |key| {
                    key["PK"] == pk && InboxId::parse(&key["SK"]).is_ok()
                })
            })
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":pk", s(&pk))
            .scan_index_forward(false)
            .limit(i32::try_from(page.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| AppError::internal("reading an inbox", e))?;
        let items = out
            .items()
            .iter()
            .map(|item| {
                serde_dynamo::from_item::<_, InboxItem>(item.clone())
                    .map(|i| i.entry)
                    .map_err(|e| AppError::internal("decoding an inbox entry", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: out.last_evaluated_key().map(cursor::encode),
        })
    }

    async fn clear(&self, user: &UserId) -> Result<u32, AppError> {
        let mut removed = 0;
        loop {
            // Keys only, a page at a time; each page deleted before the next
            // is read, so the query always starts at the top.
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(inbox_pk(user)))
                .projection_expression("#pk, #sk")
                .limit(100)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| AppError::internal("listing an inbox to delete", e))?;
            if page.items().is_empty() {
                return Ok(removed);
            }
            for item in page.items() {
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(item.clone()))
                    .send()
                    .await
                    .map_err(|e| AppError::internal("deleting an inbox entry", e))?;
                removed += 1;
            }
        }
    }

    async fn mark_read(
        &self,
        user: &UserId,
        id: &InboxId,
        now: DateTime<Utc>,
    ) -> Result<Option<InboxEntry>, AppError> {
        // An unread entry holds `read_at` as NULL (the entry's `null`), so
        // the first read is a conditional SET; a later one reads the entry.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(inbox_pk(user)))
            .key(keys::SK, s(id.as_str()))
            .update_expression("SET read_at = :now")
            .condition_expression(
                "attribute_exists(#pk) AND (attribute_not_exists(read_at) OR attribute_type(read_at, :null))",
            )
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_values(":now", s(stamp(now)))
            .expression_attribute_values(":null", s("NULL"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let decode = |item| {
            serde_dynamo::from_item::<_, InboxItem>(item)
                .map(|i| i.entry)
                .map_err(|e| AppError::internal("decoding an inbox entry", e))
        };
        match result {
            Ok(out) => decode(out.attributes.unwrap_or_default()).map(Some),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                // Read already, or not this user's.
                get_consistent(&self.client, &self.table, inbox_pk(user), id.as_str())
                    .await?
                    .map(decode)
                    .transpose()
            }
            Err(e) => Err(AppError::internal("marking an inbox entry read", e)),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PreferencesItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    preferences: Preferences,
    updated_at: DateTime<Utc>,
}

fn preferences_key(user: &UserId) -> String {
    format!("USER#{user}")
}

impl PreferenceStore for DynamoNotifications {
    async fn preferences(&self, user: &UserId) -> Result<Preferences, AppError> {
        let item = get_consistent(
            &self.client,
            &self.table,
            preferences_key(user),
            "NOTIFY_PREFS",
        )
        .await?;
        match item {
            None => Ok(Preferences::default()),
            Some(item) => serde_dynamo::from_item::<_, PreferencesItem>(item)
                .map(|i| i.preferences)
                .map_err(|e| AppError::internal("decoding notification preferences", e)),
        }
    }

    async fn set_preferences(
        &self,
        user: &UserId,
        preferences: &Preferences,
        now: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let item = PreferencesItem {
            pk: preferences_key(user),
            sk: "NOTIFY_PREFS".into(),
            entity: "NOTIFY_PREFS".into(),
            preferences: *preferences,
            updated_at: now,
        };
        let item = serde_dynamo::to_item(item)
            .map_err(|e| AppError::internal("encoding notification preferences", e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| AppError::internal("writing notification preferences", e))?;
        Ok(())
    }

    async fn forget(&self, user: &UserId) -> Result<(), AppError> {
        self.delete(
            preferences_key(user),
            "NOTIFY_PREFS",
            "deleting notification preferences",
        )
        .await
    }
}

/// Partitions of the reminder index, so a day's reminders are not one hot
/// key.
const REMINDER_SHARDS: u32 = 4;

#[derive(Debug, Serialize, Deserialize)]
struct ReminderItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(rename = "GSI2PK")]
    gsi2pk: String,
    #[serde(rename = "GSI2SK")]
    gsi2sk: String,
    booking_id: BookingId,
    starts_at: DateTime<Utc>,
    minutes_before: u32,
    expires_at: i64,
}

fn reminder_key(r: &Reminder) -> String {
    format!(
        "REMINDER#{}#{}#{}",
        r.booking_id,
        r.starts_at.timestamp(),
        r.minutes_before
    )
}

impl ReminderItem {
    fn of(r: &Reminder) -> Self {
        let sum: u32 = r.booking_id.as_str().bytes().map(u32::from).sum();
        Self {
            pk: reminder_key(r),
            sk: "REMINDER".into(),
            entity: "REMINDER".into(),
            gsi2pk: format!("REMIND#{}", sum % REMINDER_SHARDS),
            gsi2sk: format!(
                "{}#{}#{}",
                stamp(r.due_at()),
                r.booking_id,
                r.minutes_before
            ),
            booking_id: r.booking_id.clone(),
            starts_at: r.starts_at,
            minutes_before: r.minutes_before,
            expires_at: expires(r.starts_at, 2),
        }
    }
}

impl ReminderSchedule for DynamoNotifications {
    async fn schedule(&self, reminders: &[Reminder]) -> Result<(), AppError> {
        for r in reminders {
            // The same booking, start and offset is the same item: writing
            // it again changes nothing.
            let item = serde_dynamo::to_item(ReminderItem::of(r))
                .map_err(|e| AppError::internal("encoding a reminder", e))?;
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| AppError::internal("scheduling a reminder", e))?;
        }
        Ok(())
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Reminder>, AppError> {
        // Every `<due at>#...` at or before `now` sorts below this.
        let upper = format!("{}#~", stamp(now));
        let mut out = Vec::new();
        for shard in 0..REMINDER_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("GSI2")
                .key_condition_expression("GSI2PK = :pk AND GSI2SK <= :upper")
                .expression_attribute_values(":pk", s(format!("REMIND#{shard}")))
                .expression_attribute_values(":upper", s(upper.as_str()))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| AppError::internal("listing due reminders", e))?;
            for item in page.items() {
                let r: ReminderItem = serde_dynamo::from_item(item.clone())
                    .map_err(|e| AppError::internal("decoding a reminder", e))?;
                out.push(Reminder {
                    booking_id: r.booking_id,
                    starts_at: r.starts_at,
                    minutes_before: r.minutes_before,
                });
            }
        }
        out.sort_by_key(Reminder::due_at);
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn finish(&self, reminder: &Reminder) -> Result<(), AppError> {
        self.delete(
            reminder_key(reminder),
            "REMINDER",
            "taking a reminder off the schedule",
        )
        .await
    }
}

//! The admin activity log, read from the event log: each `AdminActivity`
//! event item carries `GSI2PK = ACTIVITY` and `GSI2SK = <occurred_at>#<id>`
//! (fixed-width instants, so the index orders them by time), with its
//! `actor` and `action` beside for the filters.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{ACTIVITY_PARTITION, DynamoEventLog, EventLogItem, cursor, keys, s, stamp};
use crate::AppError;
use crate::identity::events::AdminActivity;
use crate::kernel::{Page, PageRequest};
use crate::reporting::activity::{ActivityEntry, ActivityFilter, ActivityLog};

/// How many queries one page may take when the filters leave most items
/// out; a page may then be short and still have a next one.
const MAX_QUERIES_PER_PAGE: usize = 10;

const CURSOR_KEYS: [&str; 4] = [keys::PK, keys::SK, "GSI2PK", "GSI2SK"];

fn entry(item: EventLogItem) -> Result<ActivityEntry, AppError> {
    let envelope = item
        .envelope()
        .map_err(|e| AppError::internal("decoding a logged event", e))?;
    let activity: AdminActivity = envelope
        .decode()
        .map_err(|e| AppError::internal("decoding a logged activity", e))?;
    Ok(ActivityEntry {
        event_id: envelope.id,
        occurred_at: envelope.occurred_at,
        correlation_id: envelope.correlation_id.to_string(),
        actor: item.actor.unwrap_or_default(),
        activity,
    })
}

impl EventLogItem {
    pub fn envelope(&self) -> Result<crate::EventEnvelope, serde_json::Error> {
        serde_json::from_str(&self.envelope)
    }
}

impl ActivityLog for DynamoEventLog {
    async fn activity(
        &self,
        filter: &ActivityFilter,
        page: PageRequest<'_>,
    ) -> Result<Page<ActivityEntry>, AppError> {
        let mut start = page
            .cursor
            .map(|c| {
                cursor::decode(c, &CURSOR_KEYS, |k| {
                    k.get("GSI2PK").map(String::as_str) == Some(ACTIVITY_PARTITION)
                })
            })
            .transpose()?;
        let from = filter.from.map_or_else(|| "0".to_owned(), stamp);
        let to = filter
            .to
            .map_or_else(|| "~".to_owned(), |t| format!("{}#~", stamp(t)));
        let mut conditions = Vec::new();
        if filter.actor.is_some() {
            conditions.push("actor = :actor");
        }
        if filter.action.is_some() {
            conditions.push("#action = :action");
        }
        let mut items = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let want = page.limit as usize - items.len();
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI2)
                .key_condition_expression("GSI2PK = :p AND GSI2SK BETWEEN :from AND :to")
                .expression_attribute_values(":p", s(ACTIVITY_PARTITION))
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(to.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(want).unwrap_or(100))
                .set_exclusive_start_key(start.take());
            if let Some(actor) = &filter.actor {
                query = query.expression_attribute_values(":actor", s(actor.clone()));
            }
            if let Some(action) = &filter.action {
                query = query
                    .expression_attribute_names("#action", "action")
                    .expression_attribute_values(":action", s(action.clone()));
            }
            if !conditions.is_empty() {
                query = query.filter_expression(conditions.join(" AND "));
            }
            let answer = query
                .send()
                .await
                .map_err(|e| AppError::internal("reading the activity log", e))?;
            for item in answer.items() {
                let item: EventLogItem = serde_dynamo::from_item(item.clone())
                    .map_err(|e| AppError::internal("decoding an activity item", e))?;
                items.push(entry(item)?);
            }
            start = answer
                .last_evaluated_key()
                .filter(|k| !k.is_empty())
                .cloned();
            if start.is_none() || items.len() >= page.limit as usize {
                break;
            }
        }
        Ok(Page {
            items,
            next_cursor: start
                .as_ref()
                .map(|k: &std::collections::HashMap<String, AttributeValue>| cursor::encode(k)),
        })
    }
}

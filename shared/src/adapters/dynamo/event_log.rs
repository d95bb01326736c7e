//! The event log's items (every event, once) and the outbox written alone
//! (an activity with no other write).

use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{OutboxItem, entity, put_new, stamp};
use crate::events::EventEnvelope;
use crate::ports::{EventLog, Recorded};
use crate::{AppError, EventSource};

/// The GSI2 partition of the admin activity log.
pub const ACTIVITY_PARTITION: &str = "ACTIVITY";

/// One recorded event in the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventLogItem {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    /// `EVENTLOG#<yyyy-mm-dd>` of `occurred_at`: the day's events in one partition.
    #[serde(rename = "GSI1PK")]
    pub gsi1pk: String,
    /// `<occurred_at>#<event id>`: ordered by time within the day.
    #[serde(rename = "GSI1SK")]
    pub gsi1sk: String,
    pub entity: String,
    pub event_id: String,
    pub event_type: String,
    pub source: String,
    pub correlation_id: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub envelope: String,
    /// `ACTIVITY` on an `AdminActivity`: the activity log's partition of
    /// the sparse GSI2.
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    /// `<occurred_at, fixed width>#<event id>`: newest first when read
    /// backwards.
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    /// An activity's actor and action, for the log's filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

impl EventLogItem {
    pub fn key(event_id: &str) -> (String, String) {
        (format!("EVENT#{event_id}"), "EVENT".to_owned())
    }

    pub fn new(source: &str, envelope: &EventEnvelope) -> Result<Self, serde_json::Error> {
        let id = envelope.id.to_string();
        let (pk, sk) = Self::key(&id);
        let activity = match envelope.event_type {
            crate::EventType::AdminActivity => envelope
                .decode::<crate::identity::events::AdminActivity>()
                .ok(),
            _ => None,
        };
        Ok(Self {
            gsi2pk: activity.as_ref().map(|_| ACTIVITY_PARTITION.to_owned()),
            gsi2sk: activity
                .as_ref()
                .map(|_| format!("{}#{id}", stamp(envelope.occurred_at))),
            actor: activity.as_ref().map(crate::reporting::activity::actor_of),
            action: activity.as_ref().map(|a| a.action().to_owned()),
            pk,
            sk,
            gsi1pk: format!("EVENTLOG#{}", envelope.occurred_at.format("%Y-%m-%d")),
            gsi1sk: format!("{}#{id}", envelope.occurred_at.to_rfc3339()),
            entity: entity::EVENT.to_owned(),
            event_id: id,
            event_type: envelope.event_type.to_string(),
            source: source.to_owned(),
            correlation_id: envelope.correlation_id.to_string(),
            occurred_at: envelope.occurred_at,
            recorded_at: Utc::now(),
            envelope: serde_json::to_string(envelope)?,
        })
    }
}

/// The event log in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoEventLog {
    pub(super) client: Client,
    pub(super) table: String,
}

impl DynamoEventLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl EventLog for DynamoEventLog {
    #[tracing::instrument(skip(self, envelope), fields(event_id = %envelope.id))]
    async fn record(&self, source: &str, envelope: &EventEnvelope) -> Result<Recorded, AppError> {
        let item = EventLogItem::new(source, envelope)
            .map_err(|e| AppError::internal("encoding the event log item", e))?;
        let written = put_new(&self.client, &self.table, item, "recording the event").await?;
        Ok(if written {
            Recorded::New
        } else {
            Recorded::Duplicate
        })
    }
}

/// The outbox alone, for an activity with no other write (the relay
/// publishes it as every other event).
#[derive(Debug, Clone)]
pub struct DynamoOutbox {
    client: Client,
    table: String,
}

impl DynamoOutbox {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl crate::ports::ActivityRecorder for DynamoOutbox {
    async fn record(&self, activity: &EventEnvelope) -> Result<(), AppError> {
        let item = OutboxItem::new(EventSource::Identity, activity)
            .map_err(|e| AppError::internal("encoding the outbox item", e))?;
        // The envelope's id is new: an item already there is a fault.
        if put_new(&self.client, &self.table, item, "recording an activity").await? {
            Ok(())
        } else {
            Err(AppError::internal(
                "recording an activity",
                format!("the outbox already holds the event {}", activity.id),
            ))
        }
    }
}

//! The waiting room's items and keys, and the pass use a booking's
//! transaction carries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::super::{keys, n, s};
use crate::AppError;
use crate::booking::ports::PassUse;
use crate::identity::UserId;
use crate::waiting_room::{Progress, Room, RoomId, Ticket, TicketState};

/// The arrival index's shards: entering at 10,000 a second writes each
/// shard's index partition at about 625 a second, under a partition's
/// 1,000 writes a second.
pub const ARRIVAL_SHARDS: u32 = 16;
/// Where the live rooms are listed (GSI1).
pub(super) const LIVE_ROOMS: &str = "WAITING_ROOMS#LIVE";
/// Tickets leave the table this long after entry.
pub(super) const TICKET_DAYS: i64 = 30;

pub fn room_pk(id: &RoomId) -> String {
    format!("ROOM#{id}")
}

pub fn ticket_pk(room: &RoomId, user: &UserId) -> String {
    format!("TICKET#{room}#{user}")
}

pub(super) fn arrival_pk(room: &RoomId, user: &UserId) -> String {
    let sum: u32 = user.as_str().bytes().map(u32::from).sum();
    arrival_shard_pk(room, sum % ARRIVAL_SHARDS)
}

pub(super) fn arrival_shard_pk(room: &RoomId, shard: u32) -> String {
    format!("ROOM#{room}#NEW#{shard}")
}

/// The queue index's lanes: position `p` waits in lane `p % QUEUE_LANES`,
/// so positions are written to four index partitions, not one (a
/// partition takes 1,000 writes a second; a room is positioned at up to
/// about 4,000 a second, see docs/waiting-room.md).
pub const QUEUE_LANES: u64 = 4;

pub(super) fn queue_pk(room: &RoomId, position: u64) -> String {
    queue_lane_pk(room, position % QUEUE_LANES)
}

pub(super) fn queue_lane_pk(room: &RoomId, lane: u64) -> String {
    format!("ROOM#{room}#QUEUE#{lane}")
}

pub(super) fn active_pk(room: &RoomId) -> String {
    format!("ROOM#{room}#ACTIVE")
}

/// A time in a sort key: fixed width, so keys sort by time.
pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A time as an attribute: as serde writes the ticket's own fields, so a
/// condition on one matches what is stored.
pub(super) fn attr_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(super) fn position_key(position: u64) -> String {
    format!("{position:012}")
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct RoomItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi1sk: Option<String>,
    pub(super) entity: String,
    #[serde(flatten)]
    pub(super) room: Room,
    #[serde(flatten)]
    pub(super) progress: Progress,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct TicketItem {
    #[serde(rename = "PK")]
    pub(super) pk: String,
    #[serde(rename = "SK")]
    pub(super) sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub(super) gsi1sk: Option<String>,
    pub(super) entity: String,
    pub(super) expires_at: i64,
    #[serde(flatten)]
    pub(super) ticket: Ticket,
}

pub(super) fn decode<T: serde::de::DeserializeOwned>(
    item: HashMap<String, AttributeValue>,
    what: &'static str,
) -> Result<T, AppError> {
    serde_dynamo::from_item(item).map_err(|e| AppError::internal(what, e))
}

/// A ticket's update, by key.
pub(super) fn ticket_update(
    table: &str,
    room: &RoomId,
    user: &UserId,
) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
    Update::builder()
        .table_name(table)
        .key(keys::PK, s(ticket_pk(room, user)))
        .key(keys::SK, s("TICKET"))
}

/// The booking's use of a pass, for its transaction: the ticket admitted
/// with this pass becomes USED (so the pass books once), and the room
/// counts one more done (a place under its cap is free).
pub fn use_pass(table: &str, pass: &PassUse) -> Result<[TransactWriteItem; 2], AppError> {
    let ticket = ticket_update(table, &pass.room_id, &pass.user_id)
        .update_expression("SET #state = :used REMOVE GSI1PK, GSI1SK")
        .condition_expression("#state = :admitted AND pass_id = :pass")
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":used", s(TicketState::Used.as_str()))
        .expression_attribute_values(":admitted", s(TicketState::Admitted.as_str()))
        .expression_attribute_values(":pass", s(&pass.pass_id))
        .build()
        .map_err(|e| AppError::internal("building the pass use", e))?;
    let done = Update::builder()
        .table_name(table)
        .key(keys::PK, s(room_pk(&pass.room_id)))
        .key(keys::SK, s("DONE"))
        .update_expression("ADD done :one")
        .expression_attribute_values(":one", n(1))
        .build()
        .map_err(|e| AppError::internal("building the done count", e))?;
    Ok([
        TransactWriteItem::builder().update(ticket).build(),
        TransactWriteItem::builder().update(done).build(),
    ])
}

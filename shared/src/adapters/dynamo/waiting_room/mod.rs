//! The waiting room in the table. A room's item carries its settings and
//! its progress (moved only on `version`); each ticket is its own item
//! (`TICKET#<room>#<user>`, so entering writes no shared item) and sits in
//! GSI1 under the one partition its phase needs: arrivals sharded by
//! account (`ROOM#<id>#NEW#<n>`, by entry time), the queue by position
//! (`ROOM#<id>#QUEUE#<position % 4>`), passes by expiry (`ROOM#<id>#ACTIVE`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, NaiveDate, Utc};

mod items;
mod store;

pub use items::{ARRIVAL_SHARDS, room_pk, ticket_pk, use_pass};
use items::{
    LIVE_ROOMS, QUEUE_LANES, RoomItem, TICKET_DAYS, TicketItem, active_pk, arrival_pk,
    arrival_shard_pk, attr_time, decode, position_key, queue_lane_pk, queue_pk, stamp,
    ticket_update,
};

use super::{get_consistent, is_conditional_failure, keys, n, outbox_write, put_write, s};
use crate::identity::UserId;
use crate::waiting_room::admission::{Arrival, Candidate};
use crate::waiting_room::ports::{Advance, Lapsed, WaitingRooms};
use crate::waiting_room::{Gate, Progress, Room, RoomId, RoomStatus, Ticket, TicketState};
use crate::{AppError, EventEnvelope, EventSource};

#[derive(Clone)]
pub struct DynamoWaitingRooms {
    client: Client,
    table: String,
}

impl DynamoWaitingRooms {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl WaitingRooms for DynamoWaitingRooms {
    async fn create(&self, room: &Room, activity: &EventEnvelope) -> Result<(), AppError> {
        let item = RoomItem {
            pk: room_pk(&room.id),
            sk: "ROOM".into(),
            gsi1pk: Some(LIVE_ROOMS.into()),
            gsi1sk: Some(room.id.to_string()),
            entity: "WAITING_ROOM".into(),
            room: room.clone(),
            progress: Progress {
                prequeue_done: room.sale_opens_at.is_none(),
                ..Progress::default()
            },
        };
        let mut items = vec![
            put_write(&self.table, item, Some("attribute_not_exists(PK)"))?,
            put_write(
                &self.table,
                serde_json::json!({
                    "PK": room_pk(&room.id), "SK": "DONE", "entity": "WAITING_ROOM_DONE", "done": 0
                }),
                Some("attribute_not_exists(PK)"),
            )?,
        ];
        let gate: AttributeValue = serde_dynamo::to_attribute_value(Gate {
            room_id: room.id.clone(),
            sale_opens_at: room.sale_opens_at,
        })
        .map_err(|e| AppError::internal("encoding a gate", e))?;
        for resource in &room.resource_ids {
            let update = self
                .update(super::catalog::resource_pk(resource), "RESOURCE")
                .update_expression("SET waiting_room = :gate")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(waiting_room)")
                .expression_attribute_values(":gate", gate.clone())
                .build()
                .map_err(|e| AppError::internal("building a gate", e))?;
            items.push(Self::write(update));
        }
        items.push(outbox_write(
            &self.table,
            EventSource::WaitingRoom,
            activity,
        )?);
        if self.send(items, "creating a waiting room").await? {
            Ok(())
        } else {
            Err(AppError::conflict(
                "RESOURCE_PROTECTED",
                "one of the resources is already behind a waiting room",
            ))
        }
    }

    async fn get(&self, id: &RoomId) -> Result<Option<(Room, Progress)>, AppError> {
        let Some(item) = get_consistent(&self.client, &self.table, room_pk(id), "ROOM").await?
        else {
            return Ok(None);
        };
        let item: RoomItem = decode(item, "decoding a waiting room")?;
        Ok(Some((item.room, item.progress)))
    }

    async fn update(
        &self,
        room: &Room,
        version: u64,
        activity: &EventEnvelope,
    ) -> Result<bool, AppError> {
        let st = &room.settings;
        let mut expression = String::from(
            "SET version = :next, #name = :name, rate_per_minute = :rate, max_active = :cap, \
             pass_ttl_seconds = :ttl, abandon_after_seconds = :abandon, #status = :status, \
             updated_at = :at",
        );
        let closing = room.status == RoomStatus::Closed;
        if closing {
            expression.push_str(" REMOVE GSI1PK, GSI1SK");
        }
        let update = self
            .update(room_pk(&room.id), "ROOM")
            .update_expression(expression)
            .condition_expression("attribute_exists(PK) AND version = :version")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":next", n(version + 1))
            .expression_attribute_values(":name", s(&room.name))
            .expression_attribute_values(":rate", n(st.rate_per_minute))
            .expression_attribute_values(":cap", n(st.max_active))
            .expression_attribute_values(":ttl", n(st.pass_ttl_seconds))
            .expression_attribute_values(":abandon", n(st.abandon_after_seconds))
            .expression_attribute_values(":status", s(room.status.as_str()))
            .expression_attribute_values(":at", s(attr_time(room.updated_at)))
            .build()
            .map_err(|e| AppError::internal("building a room update", e))?;
        let mut items = vec![Self::write(update)];
        if closing {
            for resource in &room.resource_ids {
                let lift = self
                    .update(super::catalog::resource_pk(resource), "RESOURCE")
                    .update_expression("REMOVE waiting_room")
                    .condition_expression("waiting_room.room_id = :room")
                    .expression_attribute_values(":room", s(room.id.as_str()))
                    .build()
                    .map_err(|e| AppError::internal("building a gate's removal", e))?;
                items.push(Self::write(lift));
            }
        }
        items.push(outbox_write(
            &self.table,
            EventSource::WaitingRoom,
            activity,
        )?);
        self.send(items, "changing a waiting room").await
    }

    async fn live(&self) -> Result<Vec<(Room, Progress)>, AppError> {
        let listed = self
            .query_index(LIVE_ROOMS.into(), None, None, "listing live waiting rooms")
            .await?;
        let mut rooms = Vec::new();
        for item in listed {
            let item: RoomItem = decode(item, "decoding a waiting room")?;
            // The index may be behind: the room itself, as it is now.
            if let Some(current) = self.get(&item.room.id).await?
                && current.0.status != RoomStatus::Closed
            {
                rooms.push(current);
            }
        }
        Ok(rooms)
    }

    async fn done(&self, id: &RoomId) -> Result<u64, AppError> {
        let item = get_consistent(&self.client, &self.table, room_pk(id), "DONE").await?;
        Ok(item
            .as_ref()
            .and_then(|i| i.get("done"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    async fn remaining(&self, room: &Room, from: NaiveDate) -> Result<Option<u64>, AppError> {
        let mut total = 0u64;
        let mut counted = false;
        for resource in &room.resource_ids {
            let mut start = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", s(super::catalog::resource_pk(resource)))
                    .expression_attribute_values(":from", s(format!("SLOT#{from}")))
                    .expression_attribute_values(":to", s("SLOT#~"))
                    .projection_expression("remaining, #status")
                    .expression_attribute_names("#status", "status")
                    .consistent_read(true)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| AppError::internal("counting a room's places", e))?;
                for slot in page.items() {
                    counted = true;
                    let available = slot.get("status").and_then(|v| v.as_s().ok())
                        == Some(&"AVAILABLE".to_owned());
                    let left: u64 = slot
                        .get("remaining")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if available {
                        total += left;
                    }
                }
                start = page.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(counted.then_some(total))
    }

    async fn enter(&self, ticket: &Ticket) -> Result<Option<Ticket>, AppError> {
        let item = TicketItem {
            pk: ticket_pk(&ticket.room_id, &ticket.user_id),
            sk: "TICKET".into(),
            gsi1pk: Some(arrival_pk(&ticket.room_id, &ticket.user_id)),
            gsi1sk: Some(format!("{}#{}", stamp(ticket.entered_at), ticket.user_id)),
            entity: "WAITING_TICKET".into(),
            expires_at: (ticket.entered_at + chrono::Duration::days(TICKET_DAYS)).timestamp(),
            ticket: ticket.clone(),
        };
        let item =
            serde_dynamo::to_item(item).map_err(|e| AppError::internal("encoding a ticket", e))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(e) if is_conditional_failure(&e) => {
                let held = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c.item.clone(),
                        _ => None,
                    });
                let held = match held {
                    Some(item) => item,
                    None => get_consistent(
                        &self.client,
                        &self.table,
                        ticket_pk(&ticket.room_id, &ticket.user_id),
                        "TICKET",
                    )
                    .await?
                    .ok_or_else(|| AppError::internal("entering a room", "the ticket vanished"))?,
                };
                let held: TicketItem = decode(held, "decoding a ticket")?;
                Ok(Some(held.ticket))
            }
            Err(e) => Err(AppError::internal("entering a waiting room", e)),
        }
    }

    async fn ticket(&self, room: &RoomId, user: &UserId) -> Result<Option<Ticket>, AppError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(ticket_pk(room, user)))
            .key(keys::SK, s("TICKET"))
            .send()
            .await
            .map_err(|e| AppError::internal("reading a ticket", e))?
            .item;
        item.map(|i| decode::<TicketItem>(i, "decoding a ticket").map(|t| t.ticket))
            .transpose()
    }

    async fn touch(&self, ticket: &Ticket, now: DateTime<Utc>) -> Result<(), AppError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(ticket_pk(&ticket.room_id, &ticket.user_id)))
            .key(keys::SK, s("TICKET"))
            .update_expression("SET seen_at = :now")
            .condition_expression("#state = :waiting")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", s(attr_time(now)))
            .expression_attribute_values(":waiting", s(TicketState::Waiting.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(AppError::internal("recording a poll", e)),
        }
    }

    async fn abandon(&self, ticket: &Ticket) -> Result<(), AppError> {
        // The ticket keeps its index entry: the admitter finds it in its
        // place and skips it (a gap would stop it).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(ticket_pk(&ticket.room_id, &ticket.user_id)))
            .key(keys::SK, s("TICKET"))
            .update_expression("SET #state = :abandoned")
            .condition_expression("#state = :waiting AND seen_at = :seen")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":abandoned", s(TicketState::Abandoned.as_str()))
            .expression_attribute_values(":waiting", s(TicketState::Waiting.as_str()))
            .expression_attribute_values(":seen", s(attr_time(ticket.seen_at)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(AppError::internal("abandoning a ticket", e)),
        }
    }

    async fn arrivals(
        &self,
        room: &RoomId,
        before: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Result<Vec<Arrival>, AppError> {
        let cap = (limit != usize::MAX).then_some(limit);
        let shards = futures::future::try_join_all((0..ARRIVAL_SHARDS).map(|shard| {
            let range = before.map(|at| ("<", stamp(at)));
            self.tickets(
                arrival_shard_pk(room, shard),
                range,
                cap,
                "reading arrivals",
            )
        }))
        .await?;
        // A shard cut off at `limit` may hold arrivals older than another
        // shard's newest: keep what every cut shard was read up to, so what
        // is returned is every arrival up to a time, and positions follow
        // arrival across shards.
        // Compared as the index sorts: by the millisecond stamp, then the
        // account.
        let key = |t: &Ticket| (stamp(t.entered_at), t.user_id.clone());
        let horizon = shards
            .iter()
            .filter(|tickets| cap.is_some_and(|c| tickets.len() >= c))
            .filter_map(|tickets| tickets.last().map(key))
            .min();
        Ok(shards
            .into_iter()
            .flatten()
            .filter(|t| t.position.is_none() && horizon.as_ref().is_none_or(|h| key(t) <= *h))
            .map(|t| Arrival {
                user_id: t.user_id,
                entered_at: t.entered_at,
                lottery: t.lottery,
                prequeue: t.prequeue,
            })
            .collect())
    }

    async fn queue(
        &self,
        room: &RoomId,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<Candidate>, AppError> {
        // Each lane's first `limit` positions after the cursor: merged,
        // the first `limit` of them are every position after the cursor
        // up to the last one returned (the index shows them).
        let lanes = futures::future::try_join_all((0..QUEUE_LANES).map(|lane| {
            self.tickets(
                queue_lane_pk(room, lane),
                Some((">", position_key(cursor))),
                Some(limit),
                "reading the queue",
            )
        }))
        .await?;
        let mut queue: Vec<Candidate> = lanes
            .into_iter()
            .flatten()
            .map(|t| Candidate {
                user_id: t.user_id,
                position: t.position.unwrap_or(0),
                seen_at: t.seen_at,
            })
            .collect();
        queue.sort_unstable_by_key(|c| c.position);
        queue.truncate(limit);
        Ok(queue)
    }

    async fn lapsed(
        &self,
        room: &RoomId,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Lapsed>, AppError> {
        let tickets = self
            .tickets(
                active_pk(room),
                Some(("<", stamp(before))),
                Some(limit),
                "reading lapsed passes",
            )
            .await?;
        Ok(tickets
            .into_iter()
            .filter_map(|t| {
                t.pass_id.map(|pass_id| Lapsed {
                    user_id: t.user_id,
                    pass_id,
                })
            })
            .collect())
    }

    async fn expire(&self, room: &RoomId, lapsed: &[Lapsed]) -> Result<bool, AppError> {
        if lapsed.is_empty() {
            return Ok(true);
        }
        let mut items = Vec::new();
        for l in lapsed {
            let update = ticket_update(&self.table, room, &l.user_id)
                .update_expression("SET #state = :expired REMOVE GSI1PK, GSI1SK")
                .condition_expression("#state = :admitted AND pass_id = :pass")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":expired", s(TicketState::Expired.as_str()))
                .expression_attribute_values(":admitted", s(TicketState::Admitted.as_str()))
                .expression_attribute_values(":pass", s(&l.pass_id))
                .build()
                .map_err(|e| AppError::internal("building a pass's expiry", e))?;
            items.push(Self::write(update));
        }
        items.push(self.done_add(room, lapsed.len())?);
        self.send(items, "expiring passes").await
    }

    async fn advance(
        &self,
        room: &RoomId,
        version: u64,
        progress: &Progress,
        advance: Advance<'_>,
    ) -> Result<bool, AppError> {
        let mut items = vec![self.progress_update(room, version, progress)?];
        match advance {
            Advance::Position(batch) => {
                for (user, position) in batch {
                    let update = ticket_update(&self.table, room, user)
                        .update_expression("SET #position = :p, GSI1PK = :queue, GSI1SK = :key")
                        .condition_expression(
                            "attribute_exists(PK) AND attribute_not_exists(#position)",
                        )
                        .expression_attribute_names("#position", "position")
                        .expression_attribute_values(":p", n(*position))
                        .expression_attribute_values(":queue", s(queue_pk(room, *position)))
                        .expression_attribute_values(":key", s(position_key(*position)))
                        .build()
                        .map_err(|e| AppError::internal("building a position", e))?;
                    items.push(Self::write(update));
                }
            }
            Advance::Admit { admitted, skipped } => {
                for a in admitted {
                    let update = ticket_update(&self.table, room, &a.user_id)
                        .update_expression(
                            "SET #state = :admitted, admission_no = :no, pass_id = :pass, \
                             pass_expires_at = :exp, GSI1PK = :active, GSI1SK = :key",
                        )
                        .condition_expression("#state = :waiting AND #position = :p")
                        .expression_attribute_names("#state", "state")
                        .expression_attribute_names("#position", "position")
                        .expression_attribute_values(":admitted", s(TicketState::Admitted.as_str()))
                        .expression_attribute_values(":waiting", s(TicketState::Waiting.as_str()))
                        .expression_attribute_values(":p", n(a.position))
                        .expression_attribute_values(":no", n(a.admission_no))
                        .expression_attribute_values(":pass", s(&a.pass_id))
                        .expression_attribute_values(":exp", s(attr_time(a.pass_expires_at)))
                        .expression_attribute_values(":active", s(active_pk(room)))
                        .expression_attribute_values(
                            ":key",
                            s(format!("{}#{}", stamp(a.pass_expires_at), a.user_id)),
                        )
                        .build()
                        .map_err(|e| AppError::internal("building an admission", e))?;
                    items.push(Self::write(update));
                    items.push(outbox_write(
                        &self.table,
                        EventSource::WaitingRoom,
                        &a.event,
                    )?);
                }
                for (user, seen_at) in skipped {
                    // Only as silent as planned: a poll since keeps the place.
                    let update = ticket_update(&self.table, room, user)
                        .update_expression("SET #state = :abandoned REMOVE GSI1PK, GSI1SK")
                        .condition_expression(
                            "#state IN (:waiting, :abandoned) AND seen_at = :seen",
                        )
                        .expression_attribute_values(":seen", s(attr_time(*seen_at)))
                        .expression_attribute_names("#state", "state")
                        .expression_attribute_values(
                            ":abandoned",
                            s(TicketState::Abandoned.as_str()),
                        )
                        .expression_attribute_values(":waiting", s(TicketState::Waiting.as_str()))
                        .build()
                        .map_err(|e| AppError::internal("building a skip", e))?;
                    items.push(Self::write(update));
                }
            }
            Advance::Figures(event) => {
                items.push(outbox_write(&self.table, EventSource::WaitingRoom, event)?);
            }
            Advance::Nothing => {}
        }
        self.send(items, "moving a waiting room on").await
    }
}

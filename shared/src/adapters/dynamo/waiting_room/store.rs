//! The store's own helpers: transactions that answer `false` on a
//! refused condition, the progress write every admitter step carries, the
//! done count, and the paged index queries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::super::{cancellation_codes, keys, n, s, transact_write, transaction_error};
use super::DynamoWaitingRooms;
use super::items::{TicketItem, decode, room_pk};
use crate::AppError;
use crate::waiting_room::{Progress, RoomId, Ticket};

impl DynamoWaitingRooms {
    pub(super) fn update(
        &self,
        pk: String,
        sk: &str,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
    }

    pub(super) fn write(update: Update) -> TransactWriteItem {
        TransactWriteItem::builder().update(update).build()
    }

    /// Sends a transaction: `Ok(false)` when a condition refused it.
    pub(super) async fn send(
        &self,
        items: Vec<TransactWriteItem>,
        context: &'static str,
    ) -> Result<bool, AppError> {
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(e) => {
                let refused = cancellation_codes(&e)
                    .is_some_and(|codes| codes.iter().any(|c| c == "ConditionalCheckFailed"));
                if refused {
                    Ok(false)
                } else {
                    Err(transaction_error(context, e))
                }
            }
        }
    }

    /// The room's progress moved from `version` to `progress`.
    pub(super) fn progress_update(
        &self,
        room: &RoomId,
        version: u64,
        p: &Progress,
    ) -> Result<TransactWriteItem, AppError> {
        let update = self
            .update(room_pk(room), "ROOM")
            .update_expression(
                "SET version = :next, sequenced = :sequenced, prequeue_done = :pre, \
                 #cursor = :cursor, admitted = :admitted, next_admit_at_us = :clock, \
                 sold_out = :sold_out, figures_minute = :minute",
            )
            .condition_expression("attribute_exists(PK) AND version = :version")
            .expression_attribute_names("#cursor", "cursor")
            .expression_attribute_values(":version", n(version))
            .expression_attribute_values(":next", n(p.version))
            .expression_attribute_values(":sequenced", n(p.sequenced))
            .expression_attribute_values(":pre", AttributeValue::Bool(p.prequeue_done))
            .expression_attribute_values(":cursor", n(p.cursor))
            .expression_attribute_values(":admitted", n(p.admitted))
            .expression_attribute_values(":clock", n(p.next_admit_at_us))
            .expression_attribute_values(":sold_out", AttributeValue::Bool(p.sold_out))
            .expression_attribute_values(":minute", n(p.figures_minute))
            .build()
            .map_err(|e| AppError::internal("building the progress update", e))?;
        Ok(Self::write(update))
    }

    pub(super) fn done_add(
        &self,
        room: &RoomId,
        count: usize,
    ) -> Result<TransactWriteItem, AppError> {
        let update = self
            .update(room_pk(room), "DONE")
            .update_expression("ADD done :n SET entity = :entity")
            .expression_attribute_values(":n", n(count))
            .expression_attribute_values(":entity", s("WAITING_ROOM_DONE"))
            .build()
            .map_err(|e| AppError::internal("building the done count", e))?;
        Ok(Self::write(update))
    }

    pub(super) async fn query_index(
        &self,
        pk: String,
        range: Option<(&str, String)>,
        limit: Option<usize>,
        context: &'static str,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, AppError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("GSI1")
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start.take());
            query = match &range {
                Some((op, bound)) => query
                    .key_condition_expression(format!("GSI1PK = :pk AND GSI1SK {op} :bound"))
                    .expression_attribute_values(":bound", s(bound)),
                None => query.key_condition_expression("GSI1PK = :pk"),
            };
            if let Some(limit) = limit {
                query = query.limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX));
            }
            let page = query
                .send()
                .await
                .map_err(|e| AppError::internal(context, e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() || limit.is_some_and(|l| items.len() >= l) {
                return Ok(items);
            }
        }
    }

    /// The tickets of one index partition, decoded.
    pub(super) async fn tickets(
        &self,
        pk: String,
        range: Option<(&str, String)>,
        limit: Option<usize>,
        context: &'static str,
    ) -> Result<Vec<Ticket>, AppError> {
        self.query_index(pk, range, limit, context)
            .await?
            .into_iter()
            .map(|item| decode::<TicketItem>(item, "decoding a ticket").map(|t| t.ticket))
            .collect()
    }
}

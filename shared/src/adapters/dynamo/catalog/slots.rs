//! Slots, their seats and the units of rooms.

use super::*;

/// How often a seat map's capacity is recounted when another map of the
/// same slot wrote a larger count first.
const SEAT_COUNT_ATTEMPTS: usize = 5;

/// Slots written in one transaction with their event and, in the last
/// part, the generation's `AdminActivity` (DynamoDB takes 100 items per
/// transaction).
const SLOTS_PER_TRANSACTION: usize = 98;

/// Which part of a generation a transaction writes.
#[derive(Debug, Clone, Copy)]
struct PartOf {
    part: usize,
    parts: usize,
}

impl DynamoCatalog {
    /// Writes the slots of `chunk` that do not exist yet and the part's
    /// `SlotsGenerated` in one transaction; the last part also records the
    /// generation's `activity`, given the totals of the parts before
    /// (`before`) and its own. A slot that exists already fails its
    /// condition and cancels the transaction: it is counted as skipped and
    /// the rest are written again, until a transaction commits.
    async fn generate_part(
        &self,
        chunk: &[Slot],
        announce: &SlotsGenerated,
        part: PartOf,
        last: Option<(&ActivityOf<'_, GenerationSummary>, GenerationSummary)>,
        correlation_id: &CorrelationId,
    ) -> Result<(usize, usize), AppError> {
        let mut new: Vec<&Slot> = chunk.iter().collect();
        loop {
            let event = SlotsGenerated {
                created: new.len(),
                skipped: chunk.len() - new.len(),
                part: part.part,
                parts: part.parts,
                ..announce.clone()
            };
            let envelope = EventEnvelope::of(&event, correlation_id.clone())
                .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?;
            let outbox = OutboxItem::new(EventSource::Catalog, &envelope)
                .map_err(|e| AppError::internal("encoding SlotsGenerated", e))?
                .to_put(&self.table)?;
            let mut items = Vec::with_capacity(new.len() + 1);
            for slot in &new {
                items.push(super::super::put_write(
                    &self.table,
                    SlotItem::new(slot),
                    Some("attribute_not_exists(PK)"),
                )?);
            }
            items.push(
                aws_sdk_dynamodb::types::TransactWriteItem::builder()
                    .put(outbox)
                    .build(),
            );
            if let Some((activity, before)) = &last {
                let total = GenerationSummary {
                    created: before.created + event.created,
                    skipped: before.skipped + event.skipped,
                };
                items.push(self.activity(&activity(&total)?)?);
            }
            let err = match super::super::transact_write(&self.client, items).await {
                Ok(()) => return Ok((event.created, event.skipped)),
                Err(e) => e,
            };
            let existing: Vec<usize> = super::super::cancellation_codes(&err)
                .unwrap_or_default()
                .iter()
                .take(new.len())
                .enumerate()
                .filter(|(_, code)| *code == "ConditionalCheckFailed")
                .map(|(i, _)| i)
                .collect();
            if existing.is_empty() {
                return Err(super::super::transaction_error("generating slots", err));
            }
            let mut index = 0;
            new.retain(|_| {
                let keep = !existing.contains(&index);
                index += 1;
                keep
            });
        }
    }
}

impl SlotStore for DynamoCatalog {
    /// Writes the slots that do not exist yet (16 at a time), leaving every
    /// existing one untouched, then records `event` (SlotsGenerated).
    async fn generate(
        &self,
        slots: &[Slot],
        announce: &SlotsGenerated,
        activity: &ActivityOf<'_, GenerationSummary>,
        correlation_id: &CorrelationId,
    ) -> Result<GenerationSummary, AppError> {
        // One transaction per part: its new slots and the `SlotsGenerated`
        // that reports them, so the event exists if and only if they do.
        let chunks: Vec<&[Slot]> = slots.chunks(SLOTS_PER_TRANSACTION).collect();
        let mut summary = GenerationSummary::default();
        for (index, chunk) in chunks.iter().enumerate() {
            let part = PartOf {
                part: index + 1,
                parts: chunks.len(),
            };
            let last = (part.part == part.parts).then_some((activity, summary));
            let (created, skipped) = self
                .generate_part(chunk, announce, part, last, correlation_id)
                .await?;
            summary.created += created;
            summary.skipped += skipped;
        }
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

    /// Changes a slot's status and/or capacity, with its `activity`. A
    /// capacity below what is already booked is refused by the write's
    /// condition, not by a read.
    async fn update_slot(
        &self,
        id: &SlotId,
        change: &SlotChange,
        activity: &EventEnvelope,
    ) -> Result<Slot, AppError> {
        let SlotChange { status, capacity } = *change;
        let mut sets = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(&id.resource_id)))
            .key(keys::SK, s(id.sort_key()));
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
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .build()
            .map_err(|e| AppError::internal("building a slot update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.activity(activity)?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => self
                .get_slot(id)
                .await?
                .ok_or_else(|| AppError::internal("updating a slot", "the slot vanished")),
            Err(e) if first_failed(&e) => match self.get_slot(id).await? {
                None => Err(AppError::NotFound {
                    code: "SLOT_NOT_FOUND",
                    what: format!("the slot {id}"),
                }),
                Some(slot) => Err(AppError::conflict(
                    "CAPACITY_BELOW_BOOKED",
                    format!("{} places are already booked", slot.booked),
                )),
            },
            Err(e) => Err(transaction_error("updating a slot", e)),
        }
    }

    /// Adds the seats a slot does not have yet (existing ones are left as
    /// they are, taken or not), marks the slot seated and sets its capacity
    /// to its number of seats.
    async fn set_seat_map(
        &self,
        id: &SlotId,
        seats: &[Seat],
        activity: &ActivityOf<'_, SeatMapSummary>,
    ) -> Result<SeatMapSummary, AppError> {
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
        // Seats are only ever added, so the true count only grows. Another
        // map of the same slot may be written at the same time: a count
        // read before its seats landed must not overwrite a later, larger
        // one. The capacity is set on the condition that it does not shrink
        // a seated slot's, and recounted until it holds.
        for _ in 0..SEAT_COUNT_ATTEMPTS {
            let count = u32::try_from(self.seats_of(id).await?.len()).unwrap_or(u32::MAX);
            let summary = SeatMapSummary {
                created,
                skipped,
                capacity: count,
            };
            let update = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(resource_pk(&id.resource_id)))
                .key(keys::SK, s(id.sort_key()))
                .update_expression(
                    "SET seated = :true, #capacity = :cap, remaining = :cap - booked",
                )
                .condition_expression(
                    "attribute_exists(PK) AND booked <= :cap \
                     AND (attribute_not_exists(seated) OR seated = :false OR #capacity <= :cap)",
                )
                .expression_attribute_names("#capacity", "capacity")
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":cap", AttributeValue::N(count.to_string()))
                .build()
                .map_err(|e| AppError::internal("building the seat count", e))?;
            let items = vec![
                TransactWriteItem::builder().update(update).build(),
                self.activity(&activity(&summary)?)?,
            ];
            match transact_write(&self.client, items).await {
                Ok(()) => return Ok(summary),
                Err(e) if first_failed(&e) => {
                    let now = self.get_slot(id).await?;
                    if now.as_ref().is_some_and(|slot| slot.booked > count) {
                        return Err(AppError::conflict(
                            "CAPACITY_BELOW_BOOKED",
                            "the slot has more places booked than the seat map has seats",
                        ));
                    }
                    // A later count was written first: count again.
                }
                Err(e) => return Err(transaction_error("marking a slot seated", e)),
            }
        }
        Err(AppError::Unavailable {
            code: "CONTENTION",
            message: "the seat map kept changing; send it again".into(),
        })
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
            .filter_map(|i| super::super::string_attr(i, "SK"))
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

//! The items of the booking transactions, each with its condition, and the
//! transaction that reads back which of them refused. Capacity is taken in
//! one place ([`Tx::take`]) and given back in one ([`Tx::give_back`]).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use chrono::{NaiveDate, NaiveTime};
use serde::Serialize;

use super::super::catalog::{range_pk, resource_pk, seats_pk, venue_pk};
use super::super::{cancellation_codes, keys, n, s, transact_write, transaction_error};
use crate::booking::BookingId;
use crate::catalog::{ResourceId, SlotId, VenueId};
use crate::company::CompanyStatus;
use crate::identity::{CompanyId, UserId};

use super::super::company::company_pk;
use crate::{AppError, EventEnvelope, EventSource};

/// What an item of a booking transaction stands for, to tell which
/// condition refused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Part {
    /// Places of this slot taken.
    Slot(SlotId),
    Seat(String),
    Unit(NaiveTime),
    Booking,
    Key,
    Number,
    VenueOpen,
    /// The venue's company is active.
    CompanyOpen,
    ResourceOpen,
    /// The customer's count of live places of a slot.
    UserPlaces,
    /// The customer's count of unpaid holds.
    UserHolds,
    /// The waiting room's pass, still unused.
    Pass,
    /// An item whose condition cannot fail but by a fault.
    Other,
}

/// The partition of a customer's counters: live places per slot
/// (`SLOT#<slot id>`) and unpaid holds (`HOLDS`).
pub(crate) fn usage_pk(user: &UserId) -> String {
    format!("USAGE#{user}")
}

/// A transaction being built: its items and what each stands for.
pub(super) struct Tx<'a> {
    table: &'a str,
    items: Vec<TransactWriteItem>,
    parts: Vec<Part>,
}

/// A transaction that did not commit: the parts whose condition failed
/// (empty when it failed otherwise), and the error to give if none of
/// them explains it.
#[derive(Debug)]
pub(super) struct Refused {
    pub failed: Vec<Part>,
    pub error: AppError,
}

impl Refused {
    pub fn has(&self, part: &Part) -> bool {
        self.failed.contains(part)
    }
}

impl<'a> Tx<'a> {
    pub fn new(table: &'a str) -> Self {
        Self {
            table,
            items: Vec::new(),
            parts: Vec::new(),
        }
    }

    fn push(&mut self, part: Part, item: TransactWriteItem) {
        self.items.push(item);
        self.parts.push(part);
    }

    fn update(&self, pk: String, sk: String) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
    }

    /// Takes `quantity` places of an available slot, on the condition that
    /// it has them and is seated (or not) as the booking expects.
    pub fn take(&mut self, slot: &SlotId, quantity: u32, seated: bool) -> Result<(), AppError> {
        let condition = if seated {
            "attribute_exists(PK) AND #status = :available AND remaining >= :q AND seated = :seated"
        } else {
            "attribute_exists(PK) AND #status = :available AND remaining >= :q \
             AND (attribute_not_exists(seated) OR seated = :seated)"
        };
        let update = self
            .update(resource_pk(&slot.resource_id), slot.sort_key())
            .update_expression("SET remaining = remaining - :q, booked = booked + :q")
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":available", s("AVAILABLE"))
            .expression_attribute_values(":q", n(quantity))
            .expression_attribute_values(":seated", AttributeValue::Bool(seated))
            .build()
            .map_err(|e| AppError::internal("building the capacity update", e))?;
        self.push(
            Part::Slot(slot.clone()),
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Counts `delta` more of `user`'s live places of `slot`. An increase
    /// under a `limit` is conditional on the user then holding at most
    /// that many (`delta` is at most `limit`: the caller refuses more).
    pub fn count_places(
        &mut self,
        user: &UserId,
        slot: &SlotId,
        delta: i64,
        limit: Option<u32>,
    ) -> Result<(), AppError> {
        let mut update = self
            .update(usage_pk(user), format!("SLOT#{slot}"))
            .update_expression("SET places = if_not_exists(places, :zero) + :d, entity = :entity")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .expression_attribute_values(":entity", s("USAGE"));
        if let Some(limit) = limit.filter(|_| delta > 0) {
            update = update
                .condition_expression("attribute_not_exists(places) OR places <= :most")
                .expression_attribute_values(
                    ":most",
                    AttributeValue::N((i64::from(limit) - delta).to_string()),
                );
        }
        let update = update
            .build()
            .map_err(|e| AppError::internal("building the places count", e))?;
        self.push(
            Part::UserPlaces,
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Counts `delta` (+1 or -1) more of `user`'s unpaid holds; a new hold
    /// under a `limit` is conditional on there being fewer than that.
    pub fn count_holds(
        &mut self,
        user: &UserId,
        delta: i64,
        limit: Option<u32>,
    ) -> Result<(), AppError> {
        let mut update = self
            .update(usage_pk(user), "HOLDS".into())
            .update_expression("SET pending = if_not_exists(pending, :zero) + :d, entity = :entity")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .expression_attribute_values(":entity", s("USAGE"));
        if let Some(limit) = limit.filter(|_| delta > 0) {
            update = update
                .condition_expression("attribute_not_exists(pending) OR pending < :most")
                .expression_attribute_values(":most", n(limit));
        }
        let update = update
            .build()
            .map_err(|e| AppError::internal("building the holds count", e))?;
        self.push(
            Part::UserHolds,
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Gives `quantity` places back to a slot.
    pub fn give_back(&mut self, slot: &SlotId, quantity: u32) -> Result<(), AppError> {
        let update = self
            .update(resource_pk(&slot.resource_id), slot.sort_key())
            .update_expression("SET remaining = remaining + :q, booked = booked - :q")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":q", n(quantity))
            .build()
            .map_err(|e| AppError::internal("building the capacity update", e))?;
        self.push(
            Part::Other,
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Takes a seat, on the condition that it exists and is available.
    pub fn lock_seat(
        &mut self,
        slot: &SlotId,
        seat: &str,
        booking: &BookingId,
    ) -> Result<(), AppError> {
        let update = self
            .update(seats_pk(slot), format!("SEAT#{seat}"))
            .update_expression("SET #status = :taken, booking_id = :booking")
            .condition_expression("attribute_exists(PK) AND #status = :available")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":taken", s("TAKEN"))
            .expression_attribute_values(":available", s("AVAILABLE"))
            .expression_attribute_values(":booking", s(booking.as_str()))
            .build()
            .map_err(|e| AppError::internal("building a seat lock", e))?;
        self.push(
            Part::Seat(seat.to_owned()),
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Frees a seat the booking holds.
    pub fn free_seat(
        &mut self,
        slot: &SlotId,
        seat: &str,
        booking: &BookingId,
    ) -> Result<(), AppError> {
        let update = self
            .update(seats_pk(slot), format!("SEAT#{seat}"))
            .update_expression("SET #status = :available REMOVE booking_id")
            .condition_expression("booking_id = :booking")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":available", s("AVAILABLE"))
            .expression_attribute_values(":booking", s(booking.as_str()))
            .build()
            .map_err(|e| AppError::internal("building a seat release", e))?;
        self.push(
            Part::Other,
            TransactWriteItem::builder().update(update).build(),
        );
        Ok(())
    }

    /// Locks a unit of a room on a date, on the condition that no booking
    /// has it.
    pub fn lock_unit(
        &mut self,
        room: &ResourceId,
        date: NaiveDate,
        unit: NaiveTime,
        booking: &BookingId,
    ) -> Result<(), AppError> {
        let lock = serde_json::json!({
            "PK": range_pk(room, date), "SK": format!("UNIT#{}", unit.format("%H:%M")),
            "entity": "RANGE_LOCK", "booking_id": booking,
        });
        self.put(Part::Unit(unit), lock, Some("attribute_not_exists(PK)"))
    }

    /// Frees a unit the booking holds.
    pub fn free_unit(
        &mut self,
        room: &ResourceId,
        date: NaiveDate,
        unit: NaiveTime,
        booking: &BookingId,
    ) -> Result<(), AppError> {
        let free = Delete::builder()
            .table_name(self.table)
            .key(keys::PK, s(range_pk(room, date)))
            .key(keys::SK, s(format!("UNIT#{}", unit.format("%H:%M"))))
            .condition_expression("booking_id = :booking")
            .expression_attribute_values(":booking", s(booking.as_str()))
            .build()
            .map_err(|e| AppError::internal("building a unit release", e))?;
        self.push(
            Part::Other,
            TransactWriteItem::builder().delete(free).build(),
        );
        Ok(())
    }

    /// The condition that the booked resource is open.
    pub fn resource_open(&mut self, resource: &ResourceId) -> Result<(), AppError> {
        let check = ConditionCheck::builder()
            .table_name(self.table)
            .key(keys::PK, s(resource_pk(resource)))
            .key(keys::SK, s("RESOURCE"))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s("OPEN"))
            .build()
            .map_err(|e| AppError::internal("building the resource check", e))?;
        self.push(
            Part::ResourceOpen,
            TransactWriteItem::builder().condition_check(check).build(),
        );
        Ok(())
    }

    /// The condition that the booked resource's venue is open.
    pub fn venue_open(&mut self, venue: &VenueId) -> Result<(), AppError> {
        let check = ConditionCheck::builder()
            .table_name(self.table)
            .key(keys::PK, s(venue_pk(venue)))
            .key(keys::SK, s("VENUE"))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s("OPEN"))
            .build()
            .map_err(|e| AppError::internal("building the venue check", e))?;
        self.push(
            Part::VenueOpen,
            TransactWriteItem::builder().condition_check(check).build(),
        );
        Ok(())
    }

    /// The condition that the venue's company is active.
    pub fn company_open(&mut self, company: &CompanyId) -> Result<(), AppError> {
        let check = ConditionCheck::builder()
            .table_name(self.table)
            .key(keys::PK, s(company_pk(company)))
            .key(keys::SK, s("COMPANY"))
            .condition_expression("#status = :active")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s(CompanyStatus::Active.as_str()))
            .build()
            .map_err(|e| AppError::internal("building the company check", e))?;
        self.push(
            Part::CompanyOpen,
            TransactWriteItem::builder().condition_check(check).build(),
        );
        Ok(())
    }

    /// A put of `item`, on `condition` if any.
    pub fn put(
        &mut self,
        part: Part,
        item: impl Serialize,
        condition: Option<&str>,
    ) -> Result<(), AppError> {
        let item = super::super::put_write(self.table, item, condition)?;
        self.push(part, item);
        Ok(())
    }

    /// An item built by the caller.
    pub fn push_item(&mut self, part: Part, item: TransactWriteItem) {
        self.push(part, item);
    }

    /// An update built by the caller.
    pub fn raw_update(&mut self, part: Part, update: Update) {
        self.push(part, TransactWriteItem::builder().update(update).build());
    }

    /// The outbox item of the event the transaction's change emits.
    pub fn outbox(&mut self, event: &EventEnvelope) -> Result<(), AppError> {
        let item = super::super::outbox_write(self.table, EventSource::Booking, event)?;
        self.push(Part::Other, item);
        Ok(())
    }

    /// Sends the transaction (retrying conflicts and throttling).
    pub async fn send(self, client: &Client, context: &'static str) -> Result<(), Refused> {
        let Self { items, parts, .. } = self;
        let err = match transact_write(client, items).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let failed = cancellation_codes(&err)
            .map(|codes| {
                codes
                    .iter()
                    .zip(&parts)
                    .filter(|(code, _)| *code == "ConditionalCheckFailed")
                    .map(|(_, part)| part.clone())
                    .collect()
            })
            .unwrap_or_default();
        Err(Refused {
            failed,
            error: transaction_error(context, err),
        })
    }
}

//! The booking context's writes: each one transaction of the change, its
//! history entry and its event, conditional on what it assumes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Update};
use chrono::{DateTime, NaiveTime, Utc};

use super::DynamoBookings;
use super::items::{
    BookingItem, IdempotencyItem, booking_pk, due, history_item, idempotency_pk, number_pk, stamp,
};
use super::writes::{Part, Refused, Tx};
use crate::booking::ports::{
    BookingChange, BookingStore, ChangeRefused, Confirmation, HoldRefused, KeyRecord, NewHold,
    Release, confirmation, note,
};
use crate::booking::{Booking, BookingStatus};
use crate::catalog::SlotId;
use crate::{AppError, CorrelationId, EventEnvelope};

use super::super::payment::IntentItem;
use super::super::{keys, n, s};

impl DynamoBookings {
    pub(super) fn key_update(
        &self,
        booking: &Booking,
    ) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(booking_pk(&booking.id)))
            .key(keys::SK, s("BOOKING"))
    }
}

/// The most telling refusal of a hold's transaction: the key, the closed
/// resource, the back nine, taken seats or units, the slot, the number.
fn hold_refusal(refused: Refused, booking: &Booking) -> HoldRefused {
    let slot_failed = |slot: &SlotId| refused.has(&Part::Slot(slot.clone()));
    if refused.has(&Part::Key) {
        return HoldRefused::KeyUsed;
    }
    if refused.has(&Part::VenueOpen) || refused.has(&Part::CompanyOpen) {
        return HoldRefused::VenueClosed;
    }
    if refused.has(&Part::ResourceOpen) {
        return HoldRefused::ResourceClosed;
    }
    if refused.has(&Part::UserPlaces) {
        return HoldRefused::PlacesLimit;
    }
    if refused.has(&Part::UserHolds) {
        return HoldRefused::TooManyHolds;
    }
    if refused.has(&Part::Pass) {
        return HoldRefused::PassUsed;
    }
    if let Some(back) = booking
        .back_nine_slot_id
        .as_ref()
        .filter(|b| slot_failed(b))
    {
        return HoldRefused::Slot(back.clone());
    }
    let seats: Vec<String> = refused
        .failed
        .iter()
        .filter_map(|p| match p {
            Part::Seat(seat) => Some(seat.clone()),
            _ => None,
        })
        .collect();
    if !seats.is_empty() {
        return HoldRefused::Seats(seats);
    }
    let units: Vec<NaiveTime> = refused
        .failed
        .iter()
        .filter_map(|p| match p {
            Part::Unit(unit) => Some(*unit),
            _ => None,
        })
        .collect();
    if !units.is_empty() {
        return HoldRefused::Units(units);
    }
    if slot_failed(&booking.slot_id) {
        return HoldRefused::Slot(booking.slot_id.clone());
    }
    if refused.has(&Part::Number) {
        return HoldRefused::NumberTaken;
    }
    HoldRefused::Failed(refused.error)
}

impl BookingStore for DynamoBookings {
    async fn answer(&self, key: &KeyRecord<'_>) -> Result<Option<String>, AppError> {
        super::super::stored_answer(
            &self.client,
            &self.table,
            &idempotency_pk(key),
            key.fingerprint,
        )
        .await
    }

    async fn hold(&self, hold: &NewHold<'_>) -> Result<(), HoldRefused> {
        let booking = hold.booking;
        let slot = &booking.slot_id;
        let mut tx = Tx::new(&self.table);
        if booking.units.is_empty() {
            tx.take(slot, booking.quantity, !booking.seats.is_empty())?;
        }
        // An 18-hole round takes its back-nine tee time too.
        if let Some(back) = &booking.back_nine_slot_id {
            tx.take(back, booking.quantity, false)?;
        }
        for seat in &booking.seats {
            tx.lock_seat(slot, &seat.seat_id, &booking.id)?;
        }
        for unit in &booking.units {
            tx.lock_unit(&slot.resource_id, slot.date, *unit, &booking.id)?;
        }
        let response = serde_json::to_string(booking)
            .map_err(|e| AppError::internal("encoding a booking", e))?;
        let key = IdempotencyItem {
            pk: idempotency_pk(&hold.key),
            sk: "IDEMPOTENCY".into(),
            entity: "IDEMPOTENCY".into(),
            fingerprint: hold.key.fingerprint.to_owned(),
            booking_id: booking.id.clone(),
            response,
            expires_at: hold.key.expires_at.timestamp(),
        };
        let number = serde_json::json!({
            "PK": number_pk(booking),
            "SK": "BOOKINGNO",
            "entity": "BOOKING_NUMBER",
            "booking_id": booking.id,
        });
        let new = Some("attribute_not_exists(PK)");
        tx.put(Part::Booking, BookingItem::new(booking), new)?;
        tx.put(Part::Key, key, new)?;
        tx.put(Part::Number, number, new)?;
        tx.put(
            Part::Other,
            history_item(&booking.id, hold.entry, "000"),
            None,
        )?;
        tx.outbox(hold.event)?;
        if let Some(card) = hold.card {
            let intent = IntentItem::new(&booking.id, card, booking.hold_expires_at);
            tx.put(Part::Other, intent, new)?;
        }
        tx.resource_open(&slot.resource_id)?;
        // A round's back nine is a course of its own: it must be open too.
        if let Some(back) = booking
            .back_nine_slot_id
            .as_ref()
            .filter(|b| b.resource_id != slot.resource_id)
        {
            tx.resource_open(&back.resource_id)?;
        }
        tx.venue_open(&hold.booking.venue_id)?;
        if let Some(company) = &hold.booking.company_id {
            tx.company_open(company)?;
        }
        let user = &booking.user_id;
        if booking.units.is_empty() {
            tx.count_places(
                user,
                slot,
                i64::from(booking.quantity),
                hold.limits.map(|l| l.places_per_slot),
            )?;
        }
        tx.count_holds(user, 1, hold.limits.map(|l| l.unpaid_holds))?;
        if let Some(pass) = &hold.pass {
            let [ticket, done] = super::super::waiting_room::use_pass(&self.table, pass)?;
            tx.push_item(Part::Pass, ticket);
            tx.push_item(Part::Other, done);
        }
        tx.send(&self.client, "creating a booking")
            .await
            .map_err(|refused| hold_refusal(refused, booking))
    }

    async fn change(&self, change: &BookingChange<'_>) -> Result<(), ChangeRefused> {
        let (before, after) = (change.before, change.after);
        let mut update: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(BookingItem::new(after))
                .map_err(|e| AppError::internal("encoding a booking", e))?;
        // Status, hold and hold index are not this change's to write: a
        // payment or the sweeper may be moving them, and the condition below
        // only lets this change through if the status is still as read.
        for untouched in ["PK", "SK", "GSI2PK", "GSI2SK", "status", "hold_expires_at"] {
            update.remove(untouched);
        }
        let mut builder = self
            .key_update(before)
            .condition_expression(
                "#status = :old_status AND quantity = :old_q AND slot_id = :old_slot",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":old_status", s(before.status.as_str()))
            .expression_attribute_values(":old_q", n(before.quantity))
            .expression_attribute_values(":old_slot", s(before.slot_id.to_string()));
        let mut sets = Vec::new();
        for (i, (name, value)) in update.into_iter().enumerate() {
            let (alias, placeholder) = (format!("#a{i}"), format!(":v{i}"));
            sets.push(format!("{alias} = {placeholder}"));
            builder = builder
                .expression_attribute_names(alias, name)
                .expression_attribute_values(placeholder, value);
        }
        let booking_update = builder
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .map_err(|e| AppError::internal("building the booking update", e))?;
        let mut tx = Tx::new(&self.table);
        if before.slot_id != after.slot_id {
            tx.take(&after.slot_id, after.quantity, false)?;
            tx.give_back(&before.slot_id, before.quantity)?;
        } else if after.quantity > before.quantity {
            tx.take(&after.slot_id, after.quantity - before.quantity, false)?;
        } else {
            tx.give_back(&before.slot_id, before.quantity - after.quantity)?;
        }
        tx.raw_update(Part::Booking, booking_update);
        tx.put(
            Part::Other,
            history_item(&before.id, change.entry, "002"),
            None,
        )?;
        tx.outbox(change.event)?;
        tx.resource_open(&after.slot_id.resource_id)?;
        tx.venue_open(&after.venue_id)?;
        if let Some(company) = &after.company_id {
            tx.company_open(company)?;
        }
        let (user, limit) = (&after.user_id, change.limits.map(|l| l.places_per_slot));
        let (q_before, q_after) = (i64::from(before.quantity), i64::from(after.quantity));
        if before.slot_id == after.slot_id {
            tx.count_places(user, &after.slot_id, q_after - q_before, limit)?;
        } else {
            tx.count_places(user, &after.slot_id, q_after, limit)?;
            tx.count_places(user, &before.slot_id, -q_before, None)?;
        }
        tx.send(&self.client, "changing a booking")
            .await
            .map_err(|refused| {
                if refused.has(&Part::UserPlaces) {
                    ChangeRefused::PlacesLimit
                } else if refused.has(&Part::VenueOpen) || refused.has(&Part::CompanyOpen) {
                    ChangeRefused::VenueClosed
                } else if refused.has(&Part::ResourceOpen) {
                    ChangeRefused::ResourceClosed
                } else if refused.has(&Part::Booking) {
                    ChangeRefused::BookingMoved
                } else if refused.has(&Part::Slot(after.slot_id.clone())) {
                    ChangeRefused::Slot(after.slot_id.clone())
                } else {
                    ChangeRefused::Failed(refused.error)
                }
            })
    }

    async fn release(&self, booking: &Booking, release: &Release<'_>) -> Result<Booking, AppError> {
        self.release_one(booking, release).await
    }

    async fn release_together(
        &self,
        holds: &[Booking],
        release: &Release<'_>,
    ) -> Vec<Result<Booking, AppError>> {
        self.release_batch(holds, release).await
    }

    async fn confirm(
        &self,
        booking: &Booking,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, AppError> {
        let update = self
            .key_update(booking)
            .update_expression(
                "SET #status = :to, updated_at = :now, confirmed_at = :now REMOVE GSI2PK, GSI2SK",
            )
            .condition_expression("#status = :pending AND GSI2SK > :due")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(BookingStatus::Confirmed.as_str()))
            .expression_attribute_values(":pending", s(BookingStatus::Pending.as_str()))
            .expression_attribute_values(":now", s(stamp(now)))
            .expression_attribute_values(":due", s(due(now)))
            .build()
            .map_err(|e| AppError::internal("building the confirmation", e))?;
        let (entry, event) = confirmation(booking, reason, correlation_id, now)?;
        let mut tx = Tx::new(&self.table);
        tx.raw_update(Part::Booking, update);
        tx.put(Part::Other, history_item(&booking.id, &entry, "002"), None)?;
        tx.outbox(&event)?;
        // Paid: no longer an unpaid hold (its places stay counted).
        tx.count_holds(&booking.user_id, -1, None)?;
        match tx.send(&self.client, "confirming a booking").await {
            Ok(()) => Ok(Confirmation::Confirmed),
            Err(refused) if refused.has(&Part::Booking) => {
                let current = self.get(&booking.id).await?.ok_or_else(|| {
                    AppError::internal("confirming a booking", "the booking vanished")
                })?;
                Ok(Confirmation::of_current(current))
            }
            Err(refused) => Err(refused.error),
        }
    }

    async fn note(
        &self,
        booking: &Booking,
        cause: &EventEnvelope,
        reason: &str,
    ) -> Result<(), AppError> {
        let entry = note(booking, cause, reason);
        let item = history_item(&booking.id, &entry, &cause.id.to_string());
        let item =
            serde_dynamo::to_item(item).map_err(|e| AppError::internal("encoding a note", e))?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if super::super::is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(AppError::internal("writing a history note", e)),
        }
    }

    async fn expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Booking>, AppError> {
        self.lapsed_holds(now, limit).await
    }
}

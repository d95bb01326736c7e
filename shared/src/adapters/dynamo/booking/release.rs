//! Releases: one booking's, and a batch of lapsed holds of one slot in one
//! transaction. A batch writes the slot's places and each customer's
//! counters once, however many of its holds touch them, so a sale's worth
//! of holds expiring together costs a few dozen writes of the hot slot item
//! rather than one per hold (and as many transaction conflicts on it).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::Update;

use super::DynamoBookings;
use super::items::{due, history_item, stamp};
use super::writes::{Part, Tx};
use crate::AppError;
use crate::booking::ports::Release;
use crate::booking::{Booking, BookingStatus};
use crate::catalog::SlotId;
use crate::identity::UserId;

use super::super::{n, s};

/// DynamoDB's most items in one transaction.
const MOST_ITEMS: usize = 100;

impl DynamoBookings {
    /// Releases one booking, all or nothing.
    pub(super) async fn release_one(
        &self,
        booking: &Booking,
        release: &Release<'_>,
    ) -> Result<Booking, AppError> {
        let mut tx = Tx::new(&self.table);
        self.release_own(&mut tx, booking, release)?;
        let mut counters = Counters::default();
        counters.add(booking);
        counters.write(&mut tx)?;
        match tx.send(&self.client, "releasing a booking").await {
            Ok(()) => Ok(release.released(booking)),
            Err(refused) if refused.has(&Part::Booking) => Err(release.refused()),
            Err(refused) => Err(refused.error),
        }
    }

    /// Releases `holds` in as few transactions as DynamoDB's item limit
    /// allows, one after another (they share the slot's item). A batch
    /// that does not commit, because one of its holds moved meanwhile or it
    /// met too much contention, is released hold by hold, so each hold's
    /// own conditions decide it. One answer per hold, in order.
    pub(super) async fn release_batch(
        &self,
        holds: &[Booking],
        release: &Release<'_>,
    ) -> Vec<Result<Booking, AppError>> {
        let mut answers = Vec::with_capacity(holds.len());
        for batch in batches(holds) {
            if let [one] = batch {
                answers.push(self.release_one(one, release).await);
                continue;
            }
            match self.send_batch(batch, release).await {
                Ok(()) => answers.extend(batch.iter().map(|b| Ok(release.released(b)))),
                Err(error) => {
                    tracing::info!(holds = batch.len(), %error, "a batch of releases did not commit; releasing one by one");
                    for booking in batch {
                        answers.push(self.release_one(booking, release).await);
                    }
                }
            }
        }
        answers
    }

    async fn send_batch(&self, batch: &[Booking], release: &Release<'_>) -> Result<(), AppError> {
        let mut tx = Tx::new(&self.table);
        let mut counters = Counters::default();
        for booking in batch {
            self.release_own(&mut tx, booking, release)?;
            counters.add(booking);
        }
        counters.write(&mut tx)?;
        tx.send(&self.client, "releasing lapsed holds")
            .await
            .map_err(|refused| {
                if refused.has(&Part::Booking) {
                    release.refused()
                } else {
                    refused.error
                }
            })
    }

    /// The items of a release that are the booking's own: its status, its
    /// history entry, its event, and the seats or units it frees.
    fn release_own(
        &self,
        tx: &mut Tx<'_>,
        booking: &Booking,
        release: &Release<'_>,
    ) -> Result<(), AppError> {
        tx.raw_update(Part::Booking, self.status_update(booking, release)?);
        tx.put(
            Part::Other,
            history_item(&booking.id, &release.entry(booking), "001"),
            None,
        )?;
        tx.outbox(&release.event(booking)?)?;
        for unit in &booking.units {
            tx.free_unit(
                &booking.slot_id.resource_id,
                booking.slot_id.date,
                *unit,
                &booking.id,
            )?;
        }
        for seat in &booking.seats {
            tx.free_seat(&booking.slot_id, &seat.seat_id, &booking.id)?;
        }
        Ok(())
    }

    /// The booking's move from one of `release.from` to `release.to`, on
    /// the condition that it still has the places the release gives back
    /// (and, for an expiry, that its hold has run out).
    fn status_update(&self, booking: &Booking, release: &Release<'_>) -> Result<Update, AppError> {
        let mut builder = self
            .key_update(booking)
            .update_expression("SET #status = :to, updated_at = :now REMOVE GSI2PK, GSI2SK")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(release.to.as_str()))
            .expression_attribute_values(":now", s(stamp(release.now)))
            .expression_attribute_values(":q", n(booking.quantity))
            .expression_attribute_values(":slot", s(booking.slot_id.to_string()));
        let mut names = Vec::new();
        for (i, status) in release.from.iter().enumerate() {
            let name = format!(":from{i}");
            builder = builder.expression_attribute_values(&name, s(status.as_str()));
            names.push(name);
        }
        let mut condition = format!(
            "#status IN ({}) AND quantity = :q AND slot_id = :slot",
            names.join(", ")
        );
        if release.to == BookingStatus::Expired {
            // GSI2SK is the hold's expiry as a fixed-width stamp, present only
            // while the hold is: a string comparison that orders like time.
            condition.push_str(" AND GSI2SK <= :due");
            builder = builder.expression_attribute_values(":due", s(due(release.now)));
        }
        builder
            .condition_expression(condition)
            .build()
            .map_err(|e| AppError::internal("building the booking update", e))
    }
}

/// The items of a release shared between bookings: places given back per
/// slot, live places per customer and slot, unpaid holds per customer.
#[derive(Debug, Default, Clone)]
struct Counters {
    slots: HashMap<SlotId, u32>,
    places: HashMap<(UserId, SlotId), u32>,
    holds: HashMap<UserId, u32>,
}

impl Counters {
    fn add(&mut self, booking: &Booking) {
        let q = booking.quantity;
        if booking.units.is_empty() {
            *self.slots.entry(booking.slot_id.clone()).or_default() += q;
            *self
                .places
                .entry((booking.user_id.clone(), booking.slot_id.clone()))
                .or_default() += q;
        }
        if let Some(back) = &booking.back_nine_slot_id {
            *self.slots.entry(back.clone()).or_default() += q;
        }
        if booking.status == BookingStatus::Pending {
            *self.holds.entry(booking.user_id.clone()).or_default() += 1;
        }
    }

    fn len(&self) -> usize {
        self.slots.len() + self.places.len() + self.holds.len()
    }

    fn write(self, tx: &mut Tx<'_>) -> Result<(), AppError> {
        for (slot, q) in self.slots {
            tx.give_back(&slot, q)?;
        }
        for ((user, slot), q) in self.places {
            tx.count_places(&user, &slot, -i64::from(q), None)?;
        }
        for (user, k) in self.holds {
            tx.count_holds(&user, -i64::from(k), None)?;
        }
        Ok(())
    }
}

/// The items of a booking's release that are its own.
fn own_items(booking: &Booking) -> usize {
    3 + booking.units.len() + booking.seats.len()
}

/// `holds` cut, in order, into runs that each fit one transaction.
fn batches(holds: &[Booking]) -> Vec<&[Booking]> {
    let mut runs = Vec::new();
    let (mut start, mut own, mut counters) = (0, 0, Counters::default());
    for (i, booking) in holds.iter().enumerate() {
        let mut with = counters.clone();
        with.add(booking);
        if i > start && own + own_items(booking) + with.len() > MOST_ITEMS {
            runs.push(&holds[start..i]);
            (start, own, with) = (i, 0, Counters::default());
            with.add(booking);
        }
        own += own_items(booking);
        counters = with;
    }
    if start < holds.len() {
        runs.push(&holds[start..]);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{BookedSeat, BookingId};
    use crate::testing::booking::booking_of;

    fn holds(customers: usize, each: usize, seats: usize) -> Vec<Booking> {
        let users: Vec<UserId> = (0..customers).map(|_| UserId::generate()).collect();
        (0..customers * each)
            .map(|i| {
                let mut hold = booking_of(BookingId::generate(), &users[i / each], 0);
                hold.seats = (0..seats)
                    .map(|k| BookedSeat {
                        seat_id: format!("A{i}-{k}"),
                        tier: "stalls".into(),
                        price_cents: 100,
                    })
                    .collect();
                hold
            })
            .collect()
    }

    fn items(batch: &[Booking]) -> usize {
        let mut counters = Counters::default();
        batch.iter().for_each(|b| counters.add(b));
        batch.iter().map(own_items).sum::<usize>() + counters.len()
    }

    #[test]
    fn batches_keep_every_hold_in_order_and_fit_one_transaction() {
        for (customers, each, seats) in [(40, 5, 0), (200, 1, 0), (10, 3, 8), (1, 1, 99)] {
            let holds = holds(customers, each, seats);
            let batches = batches(&holds);
            let flat: Vec<&BookingId> = batches
                .iter()
                .flat_map(|b| b.iter().map(|h| &h.id))
                .collect();
            let ids: Vec<&BookingId> = holds.iter().map(|h| &h.id).collect();
            assert_eq!(flat, ids, "every hold once, in order");
            for batch in &batches {
                assert!(!batch.is_empty());
                assert!(
                    batch.len() == 1 || items(batch) <= MOST_ITEMS,
                    "{} items",
                    items(batch)
                );
            }
        }
    }

    #[test]
    fn a_customers_counters_are_written_once_for_all_their_holds() {
        // Five holds each: 3 own items per hold, 2 counters per customer
        // and the slot once, so a batch fills all 100 items with 29 holds
        // of 6 customers (one of them per hold would fit 16).
        let holds = holds(40, 5, 0);
        let batches = batches(&holds);
        assert_eq!(batches[0].len(), 29);
        assert_eq!(items(batches[0]), MOST_ITEMS);
        assert!(batches.len() <= 8, "{} batches", batches.len());
    }
}

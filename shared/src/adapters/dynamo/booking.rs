//! Booking items, and the transactions that take and give back capacity.
//!
//! | item               | PK                               | SK                    | GSI1PK / GSI1SK                          | GSI2PK / GSI2SK (holds only)       |
//! |--------------------|----------------------------------|-----------------------|------------------------------------------|------------------------------------|
//! | booking            | `BOOKING#<id>`                   | BOOKING               | `USER#<uid>#BOOKINGS` / `<created>#<id>` | `HOLD#<0..3>` / `<expires>#<id>`   |
//! | history entry      | `BOOKING#<id>`                   | `HISTORY#<at>#<n>`    |                                          |                                    |
//! | idempotency record | `IDEMPOTENCY#<uid>#<key>`        | IDEMPOTENCY           |                                          |                                    |
//! | booking number     | `BOOKINGNO#<number>`             | BOOKINGNO             |                                          |                                    |

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::{SlotItem, range_pk, resource_pk, seats_pk};
use super::{cancellation_codes, keys, n, s, transact_write, transaction_error};
use crate::booking::events::{
    BookingConfirmed, BookingCreated, BookingEnded, BookingModified, EndedAs, Placement,
};
use crate::booking::ports::{BookingFilter, BookingPage, BookingReader};
use crate::booking::{
    BookedSeat, Booking, BookingId, BookingNumber, BookingStatus, HistoryEntry, IdempotencyKey,
    Order, RangeOrder,
};
use crate::catalog::{Availability, CatalogStatus, Resource, Seat, SlotId};
use crate::identity::UserId;
use crate::payment::PaymentChoice;
use crate::{AppError, CorrelationId, EventEnvelope, EventSource};

/// Partitions of the hold index, so one hot day of holds spreads out.
pub const HOLD_SHARDS: u32 = 4;
/// How long an idempotency record answers replays.
const IDEMPOTENCY_HOURS: i64 = 24;
const GSI2: &str = "GSI2";

/// Sortable UTC timestamps: fixed width, so strings order as times do.
fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn booking_pk(id: &BookingId) -> String {
    format!("BOOKING#{id}")
}

fn hold_shard(id: &BookingId) -> String {
    let sum: u32 = id.as_str().bytes().map(u32::from).sum();
    format!("HOLD#{}", sum % HOLD_SHARDS)
}

#[derive(Debug, Serialize, Deserialize)]
struct BookingItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    #[serde(rename = "GSI1PK")]
    gsi1pk: String,
    #[serde(rename = "GSI1SK")]
    gsi1sk: String,
    #[serde(rename = "GSI2PK", skip_serializing_if = "Option::is_none", default)]
    gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", skip_serializing_if = "Option::is_none", default)]
    gsi2sk: Option<String>,
    entity: String,
    #[serde(flatten)]
    booking: Booking,
}

impl BookingItem {
    fn new(booking: &Booking) -> Self {
        Self {
            pk: booking_pk(&booking.id),
            sk: "BOOKING".into(),
            gsi1pk: format!("USER#{}#BOOKINGS", booking.user_id),
            gsi1sk: format!("{}#{}", stamp(booking.created_at), booking.id),
            gsi2pk: Some(hold_shard(&booking.id)),
            gsi2sk: Some(format!("{}#{}", stamp(booking.hold_expires_at), booking.id)),
            entity: "BOOKING".into(),
            booking: booking.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct IdempotencyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    fingerprint: String,
    booking_id: BookingId,
    /// The first answer, replayed verbatim.
    response: String,
    expires_at: i64,
}

fn history_item(id: &BookingId, entry: &HistoryEntry, seq: u32) -> serde_json::Value {
    serde_json::json!({
        "PK": booking_pk(id),
        "SK": format!("HISTORY#{}#{seq:03}", stamp(entry.at)),
        "entity": "BOOKING_HISTORY",
        "at": entry.at,
        "from": entry.from,
        "to": entry.to,
        "by": entry.by,
        "reason": entry.reason,
    })
}

/// What creating a booking led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(Box<Booking>),
    /// The same key and body were sent before: the first answer, verbatim.
    Replayed(String),
}

/// Who the booking saga's steps are recorded as, in a booking's history.
pub const SAGA: &str = "payment-saga";

/// What confirming a paid hold led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirmation {
    Confirmed,
    /// A redelivered payment: the booking was confirmed before.
    AlreadyConfirmed,
    /// Still PENDING, but its hold ran out before the payment arrived.
    HoldLapsed(Box<Booking>),
    /// Cancelled, expired or failed before the payment arrived.
    Ended(BookingStatus),
}

/// One attempt at a counted booking, as `POST /bookings` received it.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    /// [`crate::booking::fingerprint`] of the request body.
    pub fingerprint: &'a str,
    /// How long the hold lasts.
    pub hold: Duration,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
    /// How the customer pays, carried to the payment context by
    /// `BookingCreated`; `None` leaves a hold waiting for payment.
    pub payment: Option<&'a PaymentChoice>,
}

/// A release of a booking's places: from which statuses, to which, by whom,
/// why, and the event it emits.
#[derive(Debug, Clone)]
pub struct Release<'a> {
    pub from: &'a [BookingStatus],
    pub to: BookingStatus,
    pub by: &'a str,
    pub reason: &'a str,
    pub ended_as: EndedAs,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
    /// The share of the price the payment context gives back (the refund
    /// policy's answer for a cancellation; 100 for an unconfirmed hold).
    pub refund_percent: u32,
}

/// Bookings in the platform table.
#[derive(Debug, Clone)]
pub struct DynamoBookings {
    client: Client,
    table: String,
}

impl DynamoBookings {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn put(
        &self,
        item: impl Serialize,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, AppError> {
        super::put_write(&self.table, item, condition)
    }

    fn outbox(&self, event: &EventEnvelope) -> Result<TransactWriteItem, AppError> {
        super::outbox_write(&self.table, EventSource::Booking, event)
    }

    async fn get_item(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, AppError> {
        super::get_consistent(&self.client, &self.table, pk, sk).await
    }

    async fn slot(&self, id: &SlotId) -> Result<Option<SlotItem>, AppError> {
        self.get_item(resource_pk(&id.resource_id), &id.sort_key())
            .await?
            .map(|i| {
                serde_dynamo::from_item(i).map_err(|e| AppError::internal("decoding a slot", e))
            })
            .transpose()
    }

    pub async fn get(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        self.get_item(booking_pk(id), "BOOKING")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, BookingItem>(i)
                    .map(|b| b.booking)
                    .map_err(|e| AppError::internal("decoding a booking", e))
            })
            .transpose()
    }

    /// Takes `request.quantity` places of the slot and writes the booking
    /// (PENDING until `hold`), its idempotency record, its number, its first
    /// history entry and `BookingCreated`, all in one transaction.
    pub async fn create(
        &self,
        attempt: &Attempt<'_>,
        request: &Order,
    ) -> Result<Created, AppError> {
        let Attempt {
            user,
            key,
            fingerprint,
            hold,
            now,
            ..
        } = attempt.clone();
        let idempotency_pk = format!("IDEMPOTENCY#{user}#{}", key.as_str());
        // The read gives the price and a clear early refusal; the
        // transaction's condition, not this read, decides the capacity.
        let Some(slot) = self.slot(&request.slot_id).await? else {
            if let Some(replay) = self.replay(&idempotency_pk, fingerprint).await? {
                return Ok(replay);
            }
            return Err(slot_not_found(&request.slot_id));
        };
        let quantity = request.quantity.get();
        let seated = !request.seat_ids.is_empty();
        let seats = if slot.slot.seated != seated {
            Err(if seated {
                AppError::conflict("NOT_SEATED", "this slot has no seat map; book a quantity")
            } else {
                AppError::conflict("SEATS_REQUIRED", "this slot is seated; choose seats")
            })
        } else {
            self.seats_for(&request.slot_id, &request.seat_ids).await
        };
        let back_nine = if request.holes == 18 {
            self.back_nine_of(&request.slot_id).await
        } else {
            Ok(None)
        };
        let back_nine = match back_nine {
            Ok(back) => back,
            Err(refusal) => {
                return self
                    .refuse_unless_replay(&idempotency_pk, fingerprint, refusal)
                    .await;
            }
        };
        let seats = match seats {
            Ok(seats) => seats,
            Err(refusal) => {
                return self
                    .refuse_unless_replay(&idempotency_pk, fingerprint, refusal)
                    .await;
            }
        };
        let (unit_price, price) = if seated {
            (None, seats.iter().map(|s| s.price_cents).sum())
        } else {
            let unit = slot.slot.unit_price();
            (Some(unit), unit * u64::from(quantity))
        };
        for _ in 0..3 {
            let booking = Booking {
                id: BookingId::generate(),
                number: BookingNumber::generate(),
                user_id: user.clone(),
                kind: if seated { "seated" } else { "counted" }.into(),
                slot_id: request.slot_id.clone(),
                quantity,
                unit_price_cents: unit_price,
                seats: seats.clone(),
                back_nine_slot_id: back_nine.clone(),
                ends_at: None,
                units: Vec::new(),
                price_cents: price,
                currency: crate::booking::CURRENCY.into(),
                payment: attempt.payment.map(PaymentChoice::method),
                status: BookingStatus::Pending,
                confirmed_at: None,
                hold_expires_at: now + hold,
                created_at: now,
                updated_at: now,
            };
            let take = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(resource_pk(&request.slot_id.resource_id)))
                .key(keys::SK, s(request.slot_id.sort_key()))
                .update_expression("SET remaining = remaining - :q, booked = booked + :q")
                .condition_expression(if seated {
                    "attribute_exists(PK) AND #status = :available AND remaining >= :q AND seated = :true"
                } else {
                    "attribute_exists(PK) AND #status = :available AND remaining >= :q \
                     AND (attribute_not_exists(seated) OR seated = :false)"
                })
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":available", s("AVAILABLE"))
                .expression_attribute_values(":q", n(quantity))
                .expression_attribute_values(if seated { ":true" } else { ":false" }, AttributeValue::Bool(seated))
                .build()
                .map_err(|e| AppError::internal("building the capacity update", e))?;
            let seat_locks = seats
                .iter()
                .map(|seat| {
                    Update::builder()
                        .table_name(&self.table)
                        .key(keys::PK, s(seats_pk(&request.slot_id)))
                        .key(keys::SK, s(format!("SEAT#{}", seat.seat_id)))
                        .update_expression("SET #status = :taken, booking_id = :booking")
                        .condition_expression("attribute_exists(PK) AND #status = :available")
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":taken", s("TAKEN"))
                        .expression_attribute_values(":available", s("AVAILABLE"))
                        .expression_attribute_values(":booking", s(booking.id.as_str()))
                        .build()
                        .map(|u| TransactWriteItem::builder().update(u).build())
                        .map_err(|e| AppError::internal("building a seat lock", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Item order decides what a cancellation reason points at:
            // 0 the slot, 1..=n the seats, then booking, key, number.
            let mut items = vec![TransactWriteItem::builder().update(take).build()];
            // An 18-hole round takes its back-nine tee time at index 1.
            if let Some(back) = &back_nine {
                items.push(self.take_counted(back, quantity)?);
            }
            let extra = items.len() - 1;
            let n = seat_locks.len() + extra;
            items.extend(seat_locks);
            items.extend(self.record_items(
                &booking,
                &idempotency_pk,
                attempt,
                format!("held {quantity} of {}", request.slot_id),
            )?);
            items.push(self.resource_open(&request.slot_id.resource_id)?);
            let last = items.len() - 1;
            let err = match transact_write(&self.client, items).await {
                Ok(()) => return Ok(Created::New(Box::new(booking))),
                Err(e) => e,
            };
            let Some(codes) = cancellation_codes(&err) else {
                return Err(transaction_error("creating a booking", err));
            };
            let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
            if failed(n + 2) {
                return self
                    .replay(&idempotency_pk, fingerprint)
                    .await?
                    .ok_or_else(|| {
                        AppError::internal("replaying a booking", "idempotency record vanished")
                    });
            }
            if failed(last) {
                return Err(resource_closed());
            }
            if let Some(back) = back_nine.as_ref().filter(|_| failed(1)) {
                return Err(self.refusal(back, quantity).await);
            }
            let taken: Vec<&str> = (1 + extra..=n)
                .filter(|i| failed(*i))
                .map(|i| seats[i - 1 - extra].seat_id.as_str())
                .collect();
            if !taken.is_empty() {
                return Err(AppError::conflict(
                    "SEAT_TAKEN",
                    format!("already taken: {}", taken.join(", ")),
                ));
            }
            if failed(0) {
                return Err(self.refusal(&request.slot_id, quantity).await);
            }
            if failed(n + 3) {
                continue; // a booking number collision: draw another
            }
            return Err(transaction_error("creating a booking", err));
        }
        Err(AppError::internal(
            "creating a booking",
            "no free booking number after 3 draws",
        ))
    }

    /// Books a room from `order.start` to `order.end`: one lock item per
    /// unit of the room's grid, each `attribute_not_exists`, in the same
    /// transaction as the booking, so two overlapping ranges can never both
    /// succeed.
    pub async fn create_range(
        &self,
        attempt: &Attempt<'_>,
        order: &RangeOrder,
    ) -> Result<Created, AppError> {
        let idempotency_pk = format!("IDEMPOTENCY#{}#{}", attempt.user, attempt.key.as_str());
        let resource = self
            .get_item(resource_pk(&order.resource_id), "RESOURCE")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, Resource>(i)
                    .map_err(|e| AppError::internal("decoding a resource", e))
            })
            .transpose()?;
        let Some(resource) = resource else {
            if let Some(replay) = self.replay(&idempotency_pk, attempt.fingerprint).await? {
                return Ok(replay);
            }
            return Err(AppError::NotFound {
                code: "RESOURCE_NOT_FOUND",
                what: format!("the resource {}", order.resource_id),
            });
        };
        let checked = match resource.range {
            None => Err(AppError::conflict(
                "NOT_A_ROOM",
                "this resource is not booked by time range",
            )),
            Some(_) if resource.status == CatalogStatus::Closed => Err(resource_closed()),
            Some(rules) => rules
                .units(order.start, order.end)
                .map(|units| (rules, units)),
        };
        let (rules, units) = match checked {
            Ok(checked) => checked,
            Err(refusal) => {
                return self
                    .refuse_unless_replay(&idempotency_pk, attempt.fingerprint, refusal)
                    .await;
            }
        };
        let day = range_pk(&order.resource_id, order.date);
        for _ in 0..3 {
            let booking = Booking {
                id: BookingId::generate(),
                number: BookingNumber::generate(),
                user_id: attempt.user.clone(),
                kind: "range".into(),
                slot_id: SlotId {
                    resource_id: order.resource_id.clone(),
                    date: order.date,
                    start: order.start,
                },
                quantity: 1,
                unit_price_cents: Some(rules.unit_price_cents),
                seats: Vec::new(),
                back_nine_slot_id: None,
                ends_at: Some(order.end),
                units: units.clone(),
                price_cents: rules.unit_price_cents * units.len() as u64,
                currency: crate::booking::CURRENCY.into(),
                payment: attempt.payment.map(PaymentChoice::method),
                status: BookingStatus::Pending,
                confirmed_at: None,
                hold_expires_at: attempt.now + attempt.hold,
                created_at: attempt.now,
                updated_at: attempt.now,
            };
            let mut items = units
                .iter()
                .map(|unit| {
                    let lock = serde_json::json!({
                        "PK": day, "SK": format!("UNIT#{}", unit.format("%H:%M")),
                        "entity": "RANGE_LOCK", "booking_id": booking.id,
                    });
                    self.put(lock, Some("attribute_not_exists(PK)"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let u = items.len();
            let reason = format!(
                "held {} from {} to {} on {}",
                order.resource_id,
                order.start.format("%H:%M"),
                order.end.format("%H:%M"),
                order.date
            );
            items.extend(self.record_items(&booking, &idempotency_pk, attempt, reason)?);
            items.push(self.resource_open(&order.resource_id)?);
            let last = items.len() - 1;
            let err = match transact_write(&self.client, items).await {
                Ok(()) => return Ok(Created::New(Box::new(booking))),
                Err(e) => e,
            };
            let Some(codes) = cancellation_codes(&err) else {
                return Err(transaction_error("creating a booking", err));
            };
            let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
            // Items: 0..u the units, then booking, key, number.
            if failed(u + 1) {
                return self
                    .replay(&idempotency_pk, attempt.fingerprint)
                    .await?
                    .ok_or_else(|| {
                        AppError::internal("replaying a booking", "idempotency record vanished")
                    });
            }
            if failed(last) {
                return Err(resource_closed());
            }
            let taken: Vec<String> = (0..u)
                .filter(|i| failed(*i))
                .map(|i| units[i].format("%H:%M").to_string())
                .collect();
            if !taken.is_empty() {
                return Err(AppError::conflict(
                    "RANGE_TAKEN",
                    format!("the room is already booked at {}", taken.join(", ")),
                ));
            }
            if failed(u + 2) {
                continue;
            }
            return Err(transaction_error("creating a booking", err));
        }
        Err(AppError::internal(
            "creating a booking",
            "no free booking number after 3 draws",
        ))
    }

    /// The back-nine tee time of an 18-hole round starting at `front`.
    async fn back_nine_of(&self, front: &SlotId) -> Result<Option<SlotId>, AppError> {
        let resource = self
            .get_item(resource_pk(&front.resource_id), "RESOURCE")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, Resource>(i)
                    .map_err(|e| AppError::internal("decoding a resource", e))
            })
            .transpose()?;
        let back = resource.and_then(|r| r.back_nine).ok_or_else(|| {
            AppError::conflict("NO_BACK_NINE", "this course has no back nine; book 9 holes")
        })?;
        let slot = back.slot_after(front)?;
        match self.slot(&slot).await? {
            Some(item) if !item.slot.seated => Ok(Some(slot)),
            _ => Err(AppError::NotFound {
                code: "SLOT_NOT_FOUND",
                what: format!("the back-nine tee time {slot}"),
            }),
        }
    }

    /// Takes `quantity` places of an unseated slot, on its condition.
    fn take_counted(&self, slot: &SlotId, quantity: u32) -> Result<TransactWriteItem, AppError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(&slot.resource_id)))
            .key(keys::SK, s(slot.sort_key()))
            .update_expression("SET remaining = remaining - :q, booked = booked + :q")
            .condition_expression(
                "attribute_exists(PK) AND #status = :available AND remaining >= :q \
                 AND (attribute_not_exists(seated) OR seated = :false)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":available", s("AVAILABLE"))
            .expression_attribute_values(":q", n(quantity))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()
            .map_err(|e| AppError::internal("building the capacity update", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The condition that the booked resource is open, checked inside the
    /// booking's transaction (always its last item).
    fn resource_open(
        &self,
        resource: &crate::catalog::ResourceId,
    ) -> Result<TransactWriteItem, AppError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(resource)))
            .key(keys::SK, s("RESOURCE"))
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s("OPEN"))
            .build()
            .map_err(|e| AppError::internal("building the resource check", e))?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The items every new booking writes after its capacity items: the
    /// booking, its idempotency record (holding the first answer), its
    /// number, its first history entry and `BookingCreated`.
    fn record_items(
        &self,
        booking: &Booking,
        idempotency_pk: &str,
        attempt: &Attempt<'_>,
        reason: String,
    ) -> Result<Vec<TransactWriteItem>, AppError> {
        let response = serde_json::to_string(booking)
            .map_err(|e| AppError::internal("encoding a booking", e))?;
        let idempotency = IdempotencyItem {
            pk: idempotency_pk.to_owned(),
            sk: "IDEMPOTENCY".into(),
            entity: "IDEMPOTENCY".into(),
            fingerprint: attempt.fingerprint.to_owned(),
            booking_id: booking.id.clone(),
            response,
            expires_at: (attempt.now + Duration::hours(IDEMPOTENCY_HOURS)).timestamp(),
        };
        let number = serde_json::json!({
            "PK": format!("BOOKINGNO#{}", booking.number.as_str()),
            "SK": "BOOKINGNO",
            "entity": "BOOKING_NUMBER",
            "booking_id": booking.id,
        });
        let entry = HistoryEntry {
            at: attempt.now,
            from: None,
            to: BookingStatus::Pending,
            by: attempt.user.to_string(),
            reason,
        };
        let created = BookingCreated {
            booking_id: booking.id.clone(),
            number: booking.number.clone(),
            user_id: booking.user_id.clone(),
            kind: booking.kind.clone(),
            slot_id: booking.slot_id.clone(),
            quantity: booking.quantity,
            price_cents: booking.price_cents,
            currency: booking.currency.clone(),
            hold_expires_at: booking.hold_expires_at,
            starts_at: booking.slot_id.starts_at(),
            payment: attempt.payment.cloned(),
        };
        let event = EventEnvelope::of(&created, attempt.correlation_id.clone())
            .map_err(|e| AppError::internal("encoding BookingCreated", e))?;
        Ok(vec![
            self.put(BookingItem::new(booking), Some("attribute_not_exists(PK)"))?,
            self.put(idempotency, Some("attribute_not_exists(PK)"))?,
            self.put(number, Some("attribute_not_exists(PK)"))?,
            self.put(history_item(&booking.id, &entry, 0), None)?,
            self.outbox(&event)?,
        ])
    }

    /// The chosen seats with their prices; an unknown seat is a 404. (Their
    /// availability is decided by the transaction, not by this read.)
    async fn seats_for(&self, slot: &SlotId, ids: &[String]) -> Result<Vec<BookedSeat>, AppError> {
        let mut seats = Vec::new();
        for id in ids {
            let item = self
                .get_item(seats_pk(slot), &format!("SEAT#{id}"))
                .await?
                .ok_or_else(|| AppError::NotFound {
                    code: "SEAT_NOT_FOUND",
                    what: format!("the seat {id}"),
                })?;
            let seat: Seat = serde_dynamo::from_item(item)
                .map_err(|e| AppError::internal("decoding a seat", e))?;
            seats.push(BookedSeat {
                seat_id: seat.seat_id,
                tier: seat.tier,
                price_cents: seat.price_cents,
            });
        }
        Ok(seats)
    }

    /// A refusal, unless this key already made a booking: a client retrying
    /// after the catalog changed gets its first answer, not the refusal.
    async fn refuse_unless_replay(
        &self,
        idempotency_pk: &str,
        fingerprint: &str,
        refusal: AppError,
    ) -> Result<Created, AppError> {
        match self.replay(idempotency_pk, fingerprint).await? {
            Some(replay) => Ok(replay),
            None => Err(refusal),
        }
    }

    async fn replay(&self, pk: &str, fingerprint: &str) -> Result<Option<Created>, AppError> {
        Ok(
            super::stored_answer(&self.client, &self.table, pk, fingerprint)
                .await?
                .map(Created::Replayed),
        )
    }

    /// Why the slot refused: read after the failed write, to explain it.
    async fn refusal(&self, id: &SlotId, quantity: u32) -> AppError {
        match self.slot(id).await {
            Ok(None) => slot_not_found(id),
            Ok(Some(item)) => match item.slot.availability() {
                Availability::Closed => {
                    AppError::conflict("SLOT_CLOSED", "this slot is closed to bookings")
                }
                _ => AppError::conflict(
                    "SOLD_OUT",
                    format!("only {} of {quantity} places are left", item.remaining),
                ),
            },
            Err(e) => e,
        }
    }

    /// Moves a booking from one of `from` to `to`, giving its places back to
    /// the slot, with a history entry and `event_type`, in one transaction.
    /// The condition on the current status makes it happen at most once.
    pub async fn release(
        &self,
        booking: &Booking,
        release: &Release<'_>,
    ) -> Result<Booking, AppError> {
        let Release {
            from,
            to,
            by,
            reason,
            ended_as,
            correlation_id,
            now,
            refund_percent,
        } = release.clone();
        let mut names = Vec::new();
        let mut builder = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(booking_pk(&booking.id)))
            .key(keys::SK, s("BOOKING"))
            .update_expression("SET #status = :to, updated_at = :now REMOVE GSI2PK, GSI2SK")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(stamp(now)))
            .expression_attribute_values(":q", n(booking.quantity));
        for (i, status) in from.iter().enumerate() {
            let name = format!(":from{i}");
            builder = builder.expression_attribute_values(&name, s(status.as_str()));
            names.push(name);
        }
        let mut condition = format!(
            "#status IN ({}) AND quantity = :q AND slot_id = :slot",
            names.join(", ")
        );
        builder = builder.expression_attribute_values(":slot", s(booking.slot_id.to_string()));
        if to == BookingStatus::Expired {
            // GSI2SK is the hold's expiry as a fixed-width stamp, present only
            // while the hold is: a string comparison that orders like time.
            condition.push_str(" AND GSI2SK <= :due");
            builder = builder.expression_attribute_values(":due", s(format!("{}#~", stamp(now))));
        }
        let update = builder
            .condition_expression(condition)
            .build()
            .map_err(|e| AppError::internal("building the booking update", e))?;
        let give_back = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(resource_pk(&booking.slot_id.resource_id)))
            .key(keys::SK, s(booking.slot_id.sort_key()))
            .update_expression("SET remaining = remaining + :q, booked = booked - :q")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":q", n(booking.quantity))
            .build()
            .map_err(|e| AppError::internal("building the capacity update", e))?;
        let entry = HistoryEntry {
            at: now,
            from: Some(booking.status),
            to,
            by: by.to_owned(),
            reason: reason.to_owned(),
        };
        let ended = BookingEnded {
            booking_id: booking.id.clone(),
            user_id: booking.user_id.clone(),
            slot_id: booking.slot_id.clone(),
            quantity: booking.quantity,
            from: booking.status,
            to,
            reason: reason.to_owned(),
            refund_percent,
            price_cents: booking.price_cents,
            payment: booking.payment,
        };
        let event = ended_as
            .envelope(ended, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding a booking event", e))?;
        let mut items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put(history_item(&booking.id, &entry, 1), None)?,
            self.outbox(&event)?,
        ];
        if booking.units.is_empty() {
            items.push(TransactWriteItem::builder().update(give_back).build());
        }
        if let Some(back) = &booking.back_nine_slot_id {
            let give_back = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(resource_pk(&back.resource_id)))
                .key(keys::SK, s(back.sort_key()))
                .update_expression("SET remaining = remaining + :q, booked = booked - :q")
                .condition_expression("attribute_exists(PK)")
                .expression_attribute_values(":q", n(booking.quantity))
                .build()
                .map_err(|e| AppError::internal("building the capacity update", e))?;
            items.push(TransactWriteItem::builder().update(give_back).build());
        }
        for unit in &booking.units {
            let free = Delete::builder()
                .table_name(&self.table)
                .key(
                    keys::PK,
                    s(range_pk(&booking.slot_id.resource_id, booking.slot_id.date)),
                )
                .key(keys::SK, s(format!("UNIT#{}", unit.format("%H:%M"))))
                .condition_expression("booking_id = :booking")
                .expression_attribute_values(":booking", s(booking.id.as_str()))
                .build()
                .map_err(|e| AppError::internal("building a unit release", e))?;
            items.push(TransactWriteItem::builder().delete(free).build());
        }
        for seat in &booking.seats {
            let free = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(seats_pk(&booking.slot_id)))
                .key(keys::SK, s(format!("SEAT#{}", seat.seat_id)))
                .update_expression("SET #status = :available REMOVE booking_id")
                .condition_expression("booking_id = :booking")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":available", s("AVAILABLE"))
                .expression_attribute_values(":booking", s(booking.id.as_str()))
                .build()
                .map_err(|e| AppError::internal("building a seat release", e))?;
            items.push(TransactWriteItem::builder().update(free).build());
        }
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(Booking {
                status: to,
                updated_at: now,
                ..booking.clone()
            }),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                    Err(AppError::conflict(
                        "INVALID_TRANSITION",
                        format!("the booking can no longer become {}", to.as_str()),
                    ))
                }
                _ => Err(transaction_error("releasing a booking", e)),
            },
        }
    }

    /// Confirms a paid hold: PENDING becomes CONFIRMED, with a history entry
    /// and `BookingConfirmed`, in one transaction conditional on the booking
    /// still being a live hold at `now`.
    pub async fn confirm(
        &self,
        booking: &Booking,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Confirmation, AppError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(booking_pk(&booking.id)))
            .key(keys::SK, s("BOOKING"))
            .update_expression(
                "SET #status = :to, updated_at = :now, confirmed_at = :now REMOVE GSI2PK, GSI2SK",
            )
            .condition_expression("#status = :pending AND GSI2SK > :due")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(BookingStatus::Confirmed.as_str()))
            .expression_attribute_values(":pending", s(BookingStatus::Pending.as_str()))
            .expression_attribute_values(":now", s(stamp(now)))
            .expression_attribute_values(":due", s(format!("{}#~", stamp(now))))
            .build()
            .map_err(|e| AppError::internal("building the confirmation", e))?;
        let entry = HistoryEntry {
            at: now,
            from: Some(BookingStatus::Pending),
            to: BookingStatus::Confirmed,
            by: SAGA.into(),
            reason: reason.to_owned(),
        };
        let confirmed = BookingConfirmed {
            booking_id: booking.id.clone(),
            number: booking.number.clone(),
            user_id: booking.user_id.clone(),
            slot_id: booking.slot_id.clone(),
            quantity: booking.quantity,
            price_cents: booking.price_cents,
            currency: booking.currency.clone(),
        };
        let event = EventEnvelope::of(&confirmed, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding BookingConfirmed", e))?;
        let items = vec![
            TransactWriteItem::builder().update(update).build(),
            self.put(history_item(&booking.id, &entry, 2), None)?,
            self.outbox(&event)?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(Confirmation::Confirmed),
            Err(e) => match cancellation_codes(&e) {
                Some(codes) if codes.first().is_some_and(|c| c == "ConditionalCheckFailed") => {
                    let current = self.get(&booking.id).await?.ok_or_else(|| {
                        AppError::internal("confirming a booking", "the booking vanished")
                    })?;
                    Ok(match current.status {
                        BookingStatus::Confirmed => Confirmation::AlreadyConfirmed,
                        BookingStatus::Pending => Confirmation::HoldLapsed(Box::new(current)),
                        ended => Confirmation::Ended(ended),
                    })
                }
                _ => Err(transaction_error("confirming a booking", e)),
            },
        }
    }

    /// Adds a note to a booking's history without changing its status: a saga
    /// step of another context (a payment taken, a refund made). Keyed by the
    /// event that caused it, so a redelivered event adds nothing.
    pub async fn note(
        &self,
        booking: &Booking,
        cause: &EventEnvelope,
        reason: &str,
    ) -> Result<(), AppError> {
        let entry = HistoryEntry {
            at: cause.occurred_at,
            from: Some(booking.status),
            to: booking.status,
            by: SAGA.into(),
            reason: reason.to_owned(),
        };
        let mut item = history_item(&booking.id, &entry, 0);
        item["SK"] = serde_json::json!(format!("HISTORY#{}#{}", stamp(entry.at), cause.id));
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
            Err(e) if super::is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(AppError::internal("writing a history note", e)),
        }
    }

    /// Changes a counted booking's quantity, or moves it to another slot,
    /// in one transaction: the booking (conditional on its status, slot and
    /// quantity being what was read), the places given back and the places
    /// taken (conditional on room), a history entry and `BookingModified`.
    pub async fn modify(
        &self,
        booking: &Booking,
        to_slot: &SlotId,
        to_quantity: u32,
        by: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Booking, AppError> {
        if booking.kind != "counted" || booking.back_nine_slot_id.is_some() {
            return Err(AppError::conflict(
                "NOT_MODIFIABLE",
                "only counted bookings can be changed; cancel and book again",
            ));
        }
        if booking.payment.is_some() {
            // The payment is for the price at booking time; a change would
            // need a charge or refund of the difference.
            return Err(AppError::conflict(
                "NOT_MODIFIABLE",
                "a paid booking cannot be changed; cancel it (refund by policy) and book again",
            ));
        }
        if !booking.status.holds_capacity() {
            return Err(AppError::conflict(
                "INVALID_TRANSITION",
                format!("a {} booking cannot be changed", booking.status.as_str()),
            ));
        }
        let slot = self
            .slot(to_slot)
            .await?
            .ok_or_else(|| slot_not_found(to_slot))?;
        if slot.slot.seated {
            return Err(AppError::conflict(
                "SEATS_REQUIRED",
                "the new slot is seated; choose seats",
            ));
        }
        let unit = slot.slot.unit_price();
        let moved = &booking.slot_id != to_slot;
        let mut changed = booking.clone();
        changed.slot_id = to_slot.clone();
        changed.quantity = to_quantity;
        changed.unit_price_cents = Some(unit);
        changed.price_cents = unit * u64::from(to_quantity);
        changed.updated_at = now;
        let mut update: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(BookingItem::new(&changed))
                .map_err(|e| AppError::internal("encoding a booking", e))?;
        // Status, hold and hold index are not this change's to write: a
        // payment or the sweeper may be moving them, and the condition below
        // only lets this change through if the status is still as read.
        for untouched in ["GSI2PK", "GSI2SK", "status", "hold_expires_at"] {
            update.remove(untouched);
        }
        let names: Vec<String> = update
            .keys()
            .filter(|k| *k != "PK" && *k != "SK")
            .cloned()
            .collect();
        let mut builder = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(booking_pk(&booking.id)))
            .key(keys::SK, s("BOOKING"))
            .condition_expression(
                "#status = :old_status AND quantity = :old_q AND slot_id = :old_slot",
            )
            .expression_attribute_values(":old_status", s(booking.status.as_str()))
            .expression_attribute_values(":old_q", n(booking.quantity))
            .expression_attribute_values(":old_slot", s(booking.slot_id.to_string()));
        let mut sets = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let (alias, value) = (format!("#a{i}"), format!(":v{i}"));
            sets.push(format!("{alias} = {value}"));
            builder = builder
                .expression_attribute_names(&alias, name)
                .expression_attribute_values(&value, update[name].clone());
        }
        builder = builder.expression_attribute_names("#status", "status");
        let booking_update = builder
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .map_err(|e| AppError::internal("building the booking update", e))?;
        let capacity = |slot: &SlotId, delta: i64| {
            let mut u = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(resource_pk(&slot.resource_id)))
                .key(keys::SK, s(slot.sort_key()))
                .update_expression("SET remaining = remaining - :d, booked = booked + :d")
                .expression_attribute_values(":d", n(delta));
            u = if delta > 0 {
                u.condition_expression(
                    "attribute_exists(PK) AND #status = :available AND remaining >= :d",
                )
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":available", s("AVAILABLE"))
            } else {
                u.condition_expression("attribute_exists(PK)")
            };
            u.build()
                .map(|u| TransactWriteItem::builder().update(u).build())
                .map_err(|e| AppError::internal("building a capacity update", e))
        };
        let old_q = i64::from(booking.quantity);
        let new_q = i64::from(to_quantity);
        // Item 0 takes places (it is the one that can say "sold out").
        let mut items = Vec::new();
        if moved {
            items.push(capacity(to_slot, new_q)?);
            items.push(capacity(&booking.slot_id, -old_q)?);
        } else if new_q != old_q {
            items.push(capacity(to_slot, new_q - old_q)?);
        } else {
            return Err(AppError::validation(
                "NOTHING_TO_CHANGE",
                "the booking already is that",
            ));
        }
        let taking = moved || new_q > old_q;
        let entry = HistoryEntry {
            at: now,
            from: Some(booking.status),
            to: booking.status,
            by: by.to_owned(),
            reason: format!(
                "changed from {} of {} to {to_quantity} of {to_slot}",
                booking.quantity, booking.slot_id
            ),
        };
        let modified = BookingModified {
            booking_id: booking.id.clone(),
            user_id: booking.user_id.clone(),
            from: Placement {
                slot_id: booking.slot_id.clone(),
                quantity: booking.quantity,
                price_cents: booking.price_cents,
            },
            to: Placement {
                slot_id: to_slot.clone(),
                quantity: to_quantity,
                price_cents: changed.price_cents,
            },
        };
        let event = EventEnvelope::of(&modified, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding BookingModified", e))?;
        let booking_index = items.len();
        items.push(TransactWriteItem::builder().update(booking_update).build());
        items.push(self.put(history_item(&booking.id, &entry, 2), None)?);
        items.push(self.outbox(&event)?);
        items.push(self.resource_open(&to_slot.resource_id)?);
        let last = items.len() - 1;
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(changed),
            Err(e) => match cancellation_codes(&e) {
                Some(codes)
                    if codes
                        .get(last)
                        .is_some_and(|c| c == "ConditionalCheckFailed") =>
                {
                    Err(resource_closed())
                }
                Some(codes)
                    if codes
                        .get(booking_index)
                        .is_some_and(|c| c == "ConditionalCheckFailed") =>
                {
                    Err(AppError::conflict(
                        "INVALID_TRANSITION",
                        "the booking changed meanwhile; read it again",
                    ))
                }
                Some(codes)
                    if taking && codes.first().is_some_and(|c| c == "ConditionalCheckFailed") =>
                {
                    let wanted = if moved {
                        to_quantity
                    } else {
                        to_quantity - booking.quantity
                    };
                    Err(self.refusal(to_slot, wanted).await)
                }
                _ => Err(transaction_error("changing a booking", e)),
            },
        }
    }

    /// Holds whose time ran out, oldest first, at most `limit`.
    pub async fn expired_holds(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Booking>, AppError> {
        let mut out = Vec::new();
        for shard in 0..HOLD_SHARDS {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI2)
                .key_condition_expression("GSI2PK = :pk AND GSI2SK <= :now")
                .expression_attribute_values(":pk", s(format!("HOLD#{shard}")))
                .expression_attribute_values(":now", s(format!("{}#~", stamp(now))))
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| AppError::internal("listing expired holds", e))?;
            for item in page.items() {
                let b: BookingItem = serde_dynamo::from_item(item.clone())
                    .map_err(|e| AppError::internal("decoding a booking", e))?;
                out.push(b.booking);
            }
        }
        out.sort_by_key(|b| b.hold_expires_at);
        out.truncate(limit);
        Ok(out)
    }

    /// A user's bookings, newest first, one page of at most `limit`, from
    /// the opaque `cursor` a previous page returned; optionally only one
    /// status and/or one date of the booked slot or range.
    async fn list_page(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        let BookingFilter { status, date } = *filter;
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let bad_cursor =
            || AppError::validation("INVALID_CURSOR", "cursor is not one this API returned");
        let start = cursor
            .map(|c| {
                let raw = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad_cursor())?;
                let key: HashMap<String, String> =
                    serde_json::from_slice(&raw).map_err(|_| bad_cursor())?;
                // Exactly the keys of one of this user's booking items, or
                // DynamoDB would refuse the start key (a 500, not a 400).
                let expected = format!("USER#{user}#BOOKINGS");
                let well_formed = key.len() == 4
                    && key.get("GSI1PK") == Some(&expected)
                    && key.get("SK").is_some_and(|sk| sk == "BOOKING")
                    && key.get("PK").is_some_and(|pk| pk.starts_with("BOOKING#"))
                    && key.contains_key("GSI1SK");
                if !well_formed {
                    return Err(bad_cursor());
                }
                Ok(key
                    .into_iter()
                    .map(|(k, v)| (k, s(v)))
                    .collect::<HashMap<_, _>>())
            })
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", s(format!("USER#{user}#BOOKINGS")))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start);
        let mut filters = Vec::new();
        if let Some(status) = status {
            filters.push("#status = :status");
            query = query
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(status.as_str()));
        }
        if let Some(date) = date {
            // The slot id holds the date: `<resource>@<date>T<time>`.
            filters.push("contains(slot_id, :day)");
            query = query.expression_attribute_values(":day", s(format!("@{date}T")));
        }
        if !filters.is_empty() {
            query = query.filter_expression(filters.join(" AND "));
        }
        let page = query
            .send()
            .await
            .map_err(|e| AppError::internal("listing bookings", e))?;
        let bookings = page
            .items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item::<_, BookingItem>(i.clone())
                    .map(|b| b.booking)
                    .map_err(|e| AppError::internal("decoding a booking", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next = page.last_evaluated_key().map(|key| {
            let plain: HashMap<&str, &str> = key
                .iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
                .collect();
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&plain).unwrap_or_default())
        });
        Ok(BookingPage {
            bookings,
            next_cursor: next,
        })
    }

    /// A booking's history, oldest first.
    async fn history_of(&self, id: &BookingId) -> Result<Vec<HistoryEntry>, AppError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :h)")
            .expression_attribute_values(":pk", s(booking_pk(id)))
            .expression_attribute_values(":h", s("HISTORY#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a booking's history", e))?;
        page.items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item(i.clone())
                    .map_err(|e| AppError::internal("decoding history", e))
            })
            .collect()
    }
}

fn resource_closed() -> AppError {
    AppError::conflict("RESOURCE_CLOSED", "this resource is closed to bookings")
}

fn slot_not_found(id: &SlotId) -> AppError {
    AppError::NotFound {
        code: "SLOT_NOT_FOUND",
        what: format!("the slot {id}"),
    }
}

impl BookingReader for DynamoBookings {
    async fn get(&self, id: &BookingId) -> Result<Option<Booking>, AppError> {
        DynamoBookings::get(self, id).await
    }

    async fn history(&self, id: &BookingId) -> Result<Vec<HistoryEntry>, AppError> {
        self.history_of(id).await
    }

    async fn list_for_user(
        &self,
        user: &UserId,
        filter: &BookingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<BookingPage, AppError> {
        self.list_page(user, filter, limit, cursor).await
    }
}

#[cfg(test)]
mod tests {
    //! DynamoDB Local serializes transactions: it never cancels one for a
    //! `TransactionConflict` and never throttles. These tests inject both,
    //! and the condition failures, with `aws-smithy-mocks`.

    use super::super::test_support::cancelled;
    use super::*;
    use crate::booking::Quantity;
    use crate::catalog::{DayType, Prices, ResourceId, Slot, SlotStatus};
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn slot(booked: u32) -> Slot {
        Slot {
            id: SlotId::parse(&format!("{}@2026-12-04T08:00", ResourceId::generate())).unwrap(),
            end: chrono::NaiveTime::from_hms_opt(8, 10, 0).unwrap(),
            capacity: 4,
            booked,
            status: SlotStatus::Available,
            day_type: DayType::Weekday,
            prices: Prices {
                weekday: 5000,
                weekend: 7000,
                holiday: 9000,
            },
            premium: false,
            premium_surcharge_percent: 25,
            seated: false,
        }
    }

    fn slot_read(slot: &Slot) -> aws_smithy_mocks::Rule {
        let item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(SlotItem::new(slot)).unwrap();
        mock!(Client::get_item)
            .match_requests(|r| {
                r.key()
                    .and_then(|k| k.get("PK"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk.starts_with("RESOURCE#"))
            })
            .then_output(move || {
                GetItemOutput::builder()
                    .set_item(Some(item.clone()))
                    .build()
            })
    }

    async fn attempt(
        store: &DynamoBookings,
        slot: &Slot,
        quantity: i64,
    ) -> Result<Created, AppError> {
        let user = UserId::generate();
        let request = Order {
            slot_id: slot.id.clone(),
            quantity: Quantity::parse(quantity).unwrap(),
            seat_ids: Vec::new(),
            holes: 9,
        };
        let key = IdempotencyKey::parse(Some("test-key-0001")).unwrap();
        store
            .create(
                &Attempt {
                    user: &user,
                    key: &key,
                    fingerprint: "fp",
                    hold: Duration::minutes(15),
                    correlation_id: &CorrelationId::generate(),
                    now: Utc::now(),
                    payment: None,
                },
                &request,
            )
            .await
    }

    #[tokio::test]
    async fn a_booking_that_meets_a_transaction_conflict_is_retried_and_made() {
        let slot = slot(0);
        let read = slot_read(&slot);
        let conflict = mock!(Client::transact_write_items).then_error(|| {
            cancelled(&[
                "TransactionConflict",
                "None",
                "None",
                "None",
                "None",
                "None",
            ])
        });
        let ok = mock!(Client::transact_write_items)
            .then_output(|| TransactWriteItemsOutput::builder().build());
        let client = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::Sequential,
            [&read, &conflict, &ok]
        );
        let created = attempt(&DynamoBookings::new(client, "t"), &slot, 2)
            .await
            .unwrap();
        let Created::New(booking) = created else {
            panic!("expected a new booking")
        };
        assert_eq!((booking.quantity, booking.price_cents), (2, 10_000));
        assert_eq!((conflict.num_calls(), ok.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn throttling_that_does_not_stop_is_a_503_and_takes_nothing() {
        let slot = slot(0);
        let read = slot_read(&slot);
        let throttled = mock!(Client::transact_write_items)
            .then_error(|| cancelled(&["ThrottlingError", "None", "None", "None", "None", "None"]));
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read, &throttled]);
        let err = attempt(&DynamoBookings::new(client, "t"), &slot, 1)
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (503, "CONTENTION"));
        assert_eq!(throttled.num_calls(), 4);
    }

    #[tokio::test]
    async fn a_failed_capacity_condition_is_explained_as_sold_out() {
        let slot = slot(3);
        let read = slot_read(&slot);
        let full = mock!(Client::transact_write_items).then_error(|| {
            cancelled(&[
                "ConditionalCheckFailed",
                "None",
                "None",
                "None",
                "None",
                "None",
            ])
        });
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read, &full]);
        let err = attempt(&DynamoBookings::new(client, "t"), &slot, 2)
            .await
            .unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "SOLD_OUT"));
        assert!(err.to_string().contains("only 1 of 2"), "{err}");
    }

    #[tokio::test]
    async fn a_taken_idempotency_key_answers_the_first_response() {
        let slot = slot(0);
        let read = slot_read(&slot);
        let replay = mock!(Client::transact_write_items).then_error(|| {
            cancelled(&[
                "None",
                "None",
                "ConditionalCheckFailed",
                "None",
                "None",
                "None",
            ])
        });
        let record = IdempotencyItem {
            pk: "IDEMPOTENCY#u#k".into(),
            sk: "IDEMPOTENCY".into(),
            entity: "IDEMPOTENCY".into(),
            fingerprint: "fp".into(),
            booking_id: BookingId::generate(),
            response: r#"{"first":true}"#.into(),
            expires_at: 0,
        };
        let record: HashMap<String, AttributeValue> = serde_dynamo::to_item(record).unwrap();
        let stored = mock!(Client::get_item)
            .match_requests(|r| {
                r.key()
                    .and_then(|k| k.get("PK"))
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk.starts_with("IDEMPOTENCY#"))
            })
            .then_output(move || {
                GetItemOutput::builder()
                    .set_item(Some(record.clone()))
                    .build()
            });
        let client = mock_client!(
            aws_sdk_dynamodb,
            RuleMode::MatchAny,
            [&read, &replay, &stored]
        );
        let created = attempt(&DynamoBookings::new(client, "t"), &slot, 1)
            .await
            .unwrap();
        assert_eq!(created, Created::Replayed(r#"{"first":true}"#.into()));
    }
}

//! The booking context's use cases, generic over the ports in
//! [`super::ports`] and the catalog's: who may see a booking, its history
//! and a customer's list; a new hold of any kind, a change, a cancellation,
//! the expiry of lapsed holds; and the booking side of the payment saga.
//! The rules they apply are the pure functions of [`super::rules`]; the
//! stores decide capacity, by the conditions of one transaction.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::events::{BookingCreated, BookingModified, EndedAs, Placement};
use super::ports::{
    BookingChange, BookingFilter, BookingReader, BookingStore, ChangeRefused, Confirmation,
    HoldRefused, KeyRecord, NewHold, Release, SAGA,
};
use super::rules::{self, Price};
use super::{
    BookedSeat, Booking, BookingId, BookingNumber, BookingStatus, HistoryEntry, IdempotencyKey,
    Modification, Order, Quantity, RangeOrder, ValidRequest,
};
use crate::catalog::ports::{ResourceStore, SlotStore};
use crate::catalog::{Availability, CatalogStatus, SlotId};
use crate::identity::{Caller, Permission, UserId};
use crate::payment::events::{PaymentFacts, PaymentFailed, PaymentRefunded};
use crate::payment::{PaymentChoice, PaymentMethod, RefundPolicy};
use crate::{AppError, CorrelationId, EventEnvelope};

/// A booking's history, as `GET /bookings/{booking_id}/history` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingHistory {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    pub history: Vec<HistoryEntry>,
}

/// A page of the caller's bookings, as `GET /bookings` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingList {
    pub bookings: Vec<Booking>,
    pub next_cursor: Option<String>,
}

/// The booking if `caller` may see it: its owner, or an admin with
/// `bookings:manage`. Anyone else gets the same 404 as for a booking that
/// does not exist, so ids cannot be probed.
pub async fn get_visible(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
) -> Result<Booking, AppError> {
    let not_found = || AppError::NotFound {
        code: "BOOKING_NOT_FOUND",
        what: format!("the booking {id}"),
    };
    let booking = bookings.get(id).await?.ok_or_else(not_found)?;
    caller
        .require_owner_or(&booking.user_id, Permission::BookingsManage)
        .map_err(|_| not_found())?;
    Ok(booking)
}

/// Every transition of a booking the caller may see.
pub async fn history(
    bookings: &impl BookingReader,
    caller: &Caller,
    id: &BookingId,
) -> Result<BookingHistory, AppError> {
    let booking = get_visible(bookings, caller, id).await?;
    let history = bookings.history(&booking.id).await?;
    Ok(BookingHistory {
        booking_id: booking.id,
        status: booking.status,
        history,
    })
}

/// The `status` filter of a list, as a client writes it.
pub fn parse_status(raw: &str) -> Result<BookingStatus, AppError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
        AppError::validation(
            "INVALID_STATUS",
            "status must be PENDING, CONFIRMED, CANCELLED, EXPIRED or FAILED",
        )
    })
}

/// A page of the caller's own bookings: the route has no user id, so no
/// one lists anyone else's.
pub async fn list_mine(
    bookings: &impl BookingReader,
    caller: &Caller,
    filter: &BookingFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<BookingList, AppError> {
    let page = bookings
        .list_for_user(&caller.user_id, filter, limit, cursor)
        .await?;
    Ok(BookingList {
        bookings: page.bookings,
        next_cursor: page.next_cursor,
    })
}

/// How long an idempotency record answers replays.
pub const IDEMPOTENCY_HOURS: i64 = 24;

/// One attempt at a new booking, as `POST /bookings` received it.
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

impl Attempt<'_> {
    fn key_record(&self) -> KeyRecord<'_> {
        KeyRecord {
            user: self.user,
            key: self.key,
            fingerprint: self.fingerprint,
            expires_at: self.now + Duration::hours(IDEMPOTENCY_HOURS),
        }
    }
}

/// What creating a booking led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(Box<Booking>),
    /// The same key and body were sent before: the first answer, verbatim.
    Replayed(String),
}

/// What a new booking will be, from what the catalog says: all but its id,
/// number, status and times.
#[derive(Debug, Clone)]
struct Plan {
    kind: &'static str,
    slot_id: SlotId,
    quantity: u32,
    price: Price,
    seats: Vec<BookedSeat>,
    back_nine: Option<SlotId>,
    ends_at: Option<chrono::NaiveTime>,
    units: Vec<chrono::NaiveTime>,
    /// The reason of the first history entry.
    reason: String,
}

impl Plan {
    fn booking(&self, attempt: &Attempt<'_>) -> Booking {
        Booking {
            id: BookingId::generate(),
            number: BookingNumber::generate(),
            user_id: attempt.user.clone(),
            kind: self.kind.into(),
            slot_id: self.slot_id.clone(),
            quantity: self.quantity,
            unit_price_cents: self.price.unit_cents,
            seats: self.seats.clone(),
            back_nine_slot_id: self.back_nine.clone(),
            ends_at: self.ends_at,
            units: self.units.clone(),
            price_cents: self.price.total_cents,
            currency: super::CURRENCY.into(),
            payment: attempt.payment.map(PaymentChoice::method),
            status: BookingStatus::Pending,
            confirmed_at: None,
            hold_expires_at: attempt.now + attempt.hold,
            created_at: attempt.now,
            updated_at: attempt.now,
        }
    }
}

/// How often a new booking draws another number after a collision.
const NUMBER_DRAWS: usize = 3;

/// Takes the places of `request` as a PENDING hold: the booking, its
/// idempotency record, number, first history entry and `BookingCreated`
/// are one transaction with the places, so a slot is never oversold. A key
/// that made a booking before answers that booking, even when the catalog
/// has changed since.
pub async fn create(
    bookings: &impl BookingStore,
    catalog: &(impl SlotStore + ResourceStore),
    attempt: &Attempt<'_>,
    request: &ValidRequest,
) -> Result<Created, AppError> {
    let key = attempt.key_record();
    let plan = match request {
        ValidRequest::Slot(order) => plan_slot(catalog, order).await,
        ValidRequest::Range(order) => plan_range(catalog, order).await,
    };
    let plan = match plan {
        Ok(plan) => plan,
        // A client retrying after the catalog changed gets its first
        // answer, not the refusal.
        Err(refusal) => {
            return match bookings.answer(&key).await? {
                Some(first) => Ok(Created::Replayed(first)),
                None => Err(refusal),
            };
        }
    };
    for _ in 0..NUMBER_DRAWS {
        let booking = plan.booking(attempt);
        let entry = HistoryEntry {
            at: attempt.now,
            from: None,
            to: BookingStatus::Pending,
            by: attempt.user.to_string(),
            reason: plan.reason.clone(),
        };
        let event = EventEnvelope::of(
            &created_event(&booking, attempt.payment),
            attempt.correlation_id.clone(),
        )
        .map_err(|e| AppError::internal("encoding BookingCreated", e))?;
        let hold = NewHold {
            booking: &booking,
            key: key.clone(),
            entry: &entry,
            event: &event,
        };
        return match bookings.hold(&hold).await {
            Ok(()) => Ok(Created::New(Box::new(booking))),
            Err(HoldRefused::NumberTaken) => continue,
            Err(HoldRefused::KeyUsed) => bookings
                .answer(&key)
                .await?
                .map(Created::Replayed)
                .ok_or_else(|| {
                    AppError::internal("replaying a booking", "idempotency record vanished")
                }),
            Err(HoldRefused::ResourceClosed) => Err(resource_closed()),
            Err(HoldRefused::Slot(slot)) => Err(slot_refusal(catalog, &slot, plan.quantity).await),
            Err(HoldRefused::Seats(taken)) => Err(AppError::conflict(
                "SEAT_TAKEN",
                format!("already taken: {}", taken.join(", ")),
            )),
            Err(HoldRefused::Units(taken)) => Err(AppError::conflict(
                "RANGE_TAKEN",
                format!(
                    "the room is already booked at {}",
                    taken
                        .iter()
                        .map(|u| u.format("%H:%M").to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            Err(HoldRefused::Failed(e)) => Err(e),
        };
    }
    Err(AppError::internal(
        "creating a booking",
        format!("no free booking number after {NUMBER_DRAWS} draws"),
    ))
}

/// The event of a new hold.
fn created_event(booking: &Booking, payment: Option<&PaymentChoice>) -> BookingCreated {
    BookingCreated {
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
        payment: payment.cloned(),
    }
}

/// A counted, seated or 18-hole booking of a slot, as the catalog prices it.
/// (The reads give the price and a clear early refusal; the transaction's
/// conditions, not these reads, decide the places.)
async fn plan_slot(
    catalog: &(impl SlotStore + ResourceStore),
    order: &Order,
) -> Result<Plan, AppError> {
    let slot = catalog
        .get_slot(&order.slot_id)
        .await?
        .ok_or_else(|| slot_not_found(&order.slot_id))?;
    let back_nine = if order.holes == 18 {
        Some(back_nine_of(catalog, &order.slot_id).await?)
    } else {
        None
    };
    let seated = !order.seat_ids.is_empty();
    rules::check_seating(&slot, seated)?;
    let mut seats = Vec::new();
    for id in &order.seat_ids {
        let seat =
            catalog
                .get_seat(&order.slot_id, id)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    code: "SEAT_NOT_FOUND",
                    what: format!("the seat {id}"),
                })?;
        seats.push(BookedSeat {
            seat_id: seat.seat_id,
            tier: seat.tier,
            price_cents: seat.price_cents,
        });
    }
    let quantity = order.quantity.get();
    let price = if seated {
        rules::seated_price(&seats)
    } else {
        rules::counted_price(&slot, quantity)
    };
    Ok(Plan {
        kind: if seated { "seated" } else { "counted" },
        slot_id: order.slot_id.clone(),
        quantity,
        price,
        seats,
        back_nine,
        ends_at: None,
        units: Vec::new(),
        reason: format!("held {quantity} of {}", order.slot_id),
    })
}

/// The back-nine tee time of an 18-hole round starting at `front`.
async fn back_nine_of(
    catalog: &(impl SlotStore + ResourceStore),
    front: &SlotId,
) -> Result<SlotId, AppError> {
    let resource = catalog.get_resource(&front.resource_id).await?;
    let back = resource.and_then(|r| r.back_nine).ok_or_else(|| {
        AppError::conflict("NO_BACK_NINE", "this course has no back nine; book 9 holes")
    })?;
    let slot = back.slot_after(front)?;
    match catalog.get_slot(&slot).await? {
        Some(found) if !found.seated => Ok(slot),
        _ => Err(AppError::NotFound {
            code: "SLOT_NOT_FOUND",
            what: format!("the back-nine tee time {slot}"),
        }),
    }
}

/// A room from `order.start` to `order.end`: one unit of its grid after
/// another, at the room's unit price.
async fn plan_range(catalog: &impl ResourceStore, order: &RangeOrder) -> Result<Plan, AppError> {
    let resource = catalog
        .get_resource(&order.resource_id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            code: "RESOURCE_NOT_FOUND",
            what: format!("the resource {}", order.resource_id),
        })?;
    let rules = match resource.range {
        None => {
            return Err(AppError::conflict(
                "NOT_A_ROOM",
                "this resource is not booked by time range",
            ));
        }
        Some(_) if resource.status == CatalogStatus::Closed => return Err(resource_closed()),
        Some(rules) => rules,
    };
    let units = rules.units(order.start, order.end)?;
    Ok(Plan {
        kind: "range",
        slot_id: SlotId {
            resource_id: order.resource_id.clone(),
            date: order.date,
            start: order.start,
        },
        quantity: 1,
        price: rules::range_price(&rules, &units),
        seats: Vec::new(),
        back_nine: None,
        ends_at: Some(order.end),
        units,
        reason: format!(
            "held {} from {} to {} on {}",
            order.resource_id,
            order.start.format("%H:%M"),
            order.end.format("%H:%M"),
            order.date
        ),
    })
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

/// Why a slot refused `wanted` places: read after the failed write, to
/// explain it.
async fn slot_refusal(catalog: &impl SlotStore, id: &SlotId, wanted: u32) -> AppError {
    match catalog.get_slot(id).await {
        Ok(None) => slot_not_found(id),
        Ok(Some(slot)) => match slot.availability() {
            Availability::Closed => {
                AppError::conflict("SLOT_CLOSED", "this slot is closed to bookings")
            }
            _ => AppError::conflict(
                "SOLD_OUT",
                format!("only {} of {wanted} places are left", slot.remaining()),
            ),
        },
        Err(e) => e,
    }
}

/// Changes the quantity of a counted booking the caller may see and/or
/// moves it to another slot: places given back and taken in one
/// transaction, conditional on the booking being as it was read and on the
/// new slot having room.
pub async fn modify(
    bookings: &impl BookingStore,
    catalog: &impl SlotStore,
    caller: &Caller,
    id: &BookingId,
    modification: &Modification,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Booking, AppError> {
    let booking = &get_visible(bookings, caller, id).await?;
    let to_slot = modification.slot_id.as_ref().unwrap_or(&booking.slot_id);
    let to_quantity = modification
        .quantity
        .map_or(booking.quantity, Quantity::get);
    rules::check_modifiable(booking)?;
    let slot = catalog
        .get_slot(to_slot)
        .await?
        .ok_or_else(|| slot_not_found(to_slot))?;
    let changed = rules::changed(booking, &slot, to_quantity, now)?;
    let entry = HistoryEntry {
        at: now,
        from: Some(booking.status),
        to: booking.status,
        by: caller.user_id.to_string(),
        reason: format!(
            "changed from {} of {} to {to_quantity} of {to_slot}",
            booking.quantity, booking.slot_id
        ),
    };
    let placement = |b: &Booking| Placement {
        slot_id: b.slot_id.clone(),
        quantity: b.quantity,
        price_cents: b.price_cents,
    };
    let modified = BookingModified {
        booking_id: booking.id.clone(),
        user_id: booking.user_id.clone(),
        from: placement(booking),
        to: placement(&changed),
    };
    let event = EventEnvelope::of(&modified, correlation_id.clone())
        .map_err(|e| AppError::internal("encoding BookingModified", e))?;
    let change = BookingChange {
        before: booking,
        after: &changed,
        entry: &entry,
        event: &event,
    };
    match bookings.change(&change).await {
        Ok(()) => Ok(changed),
        Err(ChangeRefused::ResourceClosed) => Err(resource_closed()),
        Err(ChangeRefused::BookingMoved) => Err(AppError::conflict(
            "INVALID_TRANSITION",
            "the booking changed meanwhile; read it again",
        )),
        Err(ChangeRefused::Slot(slot)) => {
            Err(slot_refusal(catalog, &slot, rules::places_taken(booking, &changed)).await)
        }
        Err(ChangeRefused::Failed(e)) => Err(e),
    }
}

/// Cancels a PENDING or CONFIRMED booking the caller may see, giving its
/// places back. `BookingCancelled` carries the share of the price to
/// refund: all of it for a hold never confirmed, else what `policy` gives
/// for the notice before the start. The release is conditional on the
/// status that share was computed for: a hold confirmed meanwhile is
/// refused (409) rather than refunded in full.
pub async fn cancel(
    bookings: &impl BookingStore,
    caller: &Caller,
    id: &BookingId,
    policy: &RefundPolicy,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Booking, AppError> {
    let booking = get_visible(bookings, caller, id).await?;
    rules::check_cancellable(booking.status)?;
    let percent = super::cancellation_refund_percent(
        booking.status,
        booking.slot_id.starts_at(),
        policy,
        now,
    );
    let reason = if booking.payment.is_some() {
        format!("cancelled by the customer; {percent}% refunded by policy ({policy})")
    } else {
        "cancelled by the customer".to_owned()
    };
    let by = caller.user_id.to_string();
    let release = Release {
        from: &[booking.status],
        to: BookingStatus::Cancelled,
        by: &by,
        reason: &reason,
        ended_as: EndedAs::Cancelled,
        correlation_id,
        now,
        refund_percent: percent,
    };
    bookings.release(&booking, &release).await
}

/// What one sweep of lapsed holds did.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Holds another writer (payment, cancel, a parallel sweep) moved first.
    pub skipped: usize,
}

/// Expires up to `limit` holds whose time ran out at `now`, oldest first,
/// giving their places back. Each expiry is conditional on the booking
/// still being PENDING with its hold run out, so a payment or a cancel
/// that wins the race leaves it alone.
pub async fn expire_lapsed(
    bookings: &impl BookingStore,
    now: DateTime<Utc>,
    limit: usize,
    correlation_id: &CorrelationId,
) -> Result<Sweep, AppError> {
    let release = Release {
        from: &[BookingStatus::Pending],
        to: BookingStatus::Expired,
        by: "sweeper",
        reason: "the hold expired unpaid",
        ended_as: EndedAs::Expired,
        correlation_id,
        now,
        refund_percent: 100,
    };
    let mut sweep = Sweep::default();
    for booking in bookings.expired_holds(now, limit).await? {
        match bookings.release(&booking, &release).await {
            Ok(_) => sweep.expired += 1,
            Err(AppError::Conflict { .. }) => sweep.skipped += 1,
            Err(other) => return Err(other),
        }
    }
    Ok(sweep)
}

/// The saga's step on `PaymentCompleted`: the hold becomes CONFIRMED. A
/// payment for a hold whose time ran out expires it instead (refunded in
/// full); one for a booking that already ended only adds a note.
pub async fn payment_completed(
    bookings: &impl BookingStore,
    booking: &Booking,
    payment: &PaymentFacts,
    event: &EventEnvelope,
    now: DateTime<Utc>,
) -> Result<Confirmation, AppError> {
    let paid = format!(
        "paid {} ({})",
        cents(payment.amount_cents),
        method(payment.method)
    );
    let confirmation = if booking.status == BookingStatus::Pending {
        bookings
            .confirm(booking, &paid, &event.correlation_id, now)
            .await?
    } else if booking.confirmed_at.is_some() {
        // Confirmed by this payment before (and maybe cancelled since).
        Confirmation::AlreadyConfirmed
    } else {
        Confirmation::Ended(booking.status)
    };
    match &confirmation {
        Confirmation::Confirmed | Confirmation::AlreadyConfirmed => {}
        Confirmation::HoldLapsed(current) => {
            let release = Release {
                from: &[BookingStatus::Pending],
                to: BookingStatus::Expired,
                by: SAGA,
                reason: "the payment arrived after the hold expired; it is refunded in full",
                ended_as: EndedAs::Expired,
                correlation_id: &event.correlation_id,
                now,
                refund_percent: 100,
            };
            match bookings.release(current, &release).await {
                Ok(_) | Err(AppError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Confirmation::Ended(status) => {
            let reason = format!(
                "{paid} after the booking was {}; the payment is refunded",
                status.as_str()
            );
            bookings.note(booking, event, &reason).await?;
        }
    }
    Ok(confirmation)
}

/// The saga's compensation on `PaymentFailed`: the places go back and the
/// hold becomes FAILED. Whether it did (a booking that already ended, or
/// this event seen before, changes nothing).
pub async fn payment_failed(
    bookings: &impl BookingStore,
    booking: &Booking,
    failure: &PaymentFailed,
    event: &EventEnvelope,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let reason = format!(
        "payment failed: {} ({})",
        failure.message,
        failure.reason.as_str()
    );
    let release = Release {
        from: &[BookingStatus::Pending],
        to: BookingStatus::Failed,
        by: SAGA,
        reason: &reason,
        ended_as: EndedAs::Cancelled,
        correlation_id: &event.correlation_id,
        now,
        refund_percent: 100,
    };
    match bookings.release(booking, &release).await {
        Ok(_) => Ok(true),
        Err(AppError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The saga's note on `PaymentRefunded`.
pub async fn payment_refunded(
    bookings: &impl BookingStore,
    booking: &Booking,
    refund: &PaymentRefunded,
    event: &EventEnvelope,
) -> Result<(), AppError> {
    let reason = format!(
        "refunded {} of {} ({})",
        cents(refund.payment.refunded_cents),
        cents(refund.payment.amount_cents),
        method(refund.payment.method)
    );
    bookings.note(booking, event, &reason).await
}

/// An amount as a history line writes it.
pub fn cents(amount: u64) -> String {
    format!("{}.{:02} {}", amount / 100, amount % 100, super::CURRENCY)
}

fn method(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Wallet => "wallet points",
        PaymentMethod::Card => "card",
    }
}

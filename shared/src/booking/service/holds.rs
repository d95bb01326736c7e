//! New holds of every kind: counted, seated, 18-hole rounds and room
//! ranges, priced by the catalog and written with their places in one
//! transaction.

use chrono::{DateTime, Duration, Utc};

use crate::booking::events::BookingCreated;
use crate::booking::ports::{BookingStore, HoldRefused, KeyRecord, NewHold, PassUse};
use crate::booking::rules::{self, Price};
use crate::booking::{
    BookedSeat, Booking, BookingId, BookingNumber, BookingStatus, HistoryEntry, IdempotencyKey,
    Order, RangeOrder, ValidRequest,
};
use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use crate::catalog::service::venue_of;
use crate::catalog::{Availability, CatalogStatus, Resource, SlotId, TimeZone, VenueId};
use crate::identity::{CompanyId, UserId};
use crate::payment::PaymentChoice;
use crate::telemetry::{self, BookingMetric};
use crate::waiting_room::Gate;
use crate::waiting_room::pass::PassKeys;
use crate::waiting_room::service::check_gate;
use crate::{AppError, CorrelationId, EventEnvelope};

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
    /// How long before a slot's start its bookings close.
    pub cutoff: Duration,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
    /// How the customer pays, carried to the payment context by
    /// `BookingCreated`; `None` leaves a hold waiting for payment.
    pub payment: Option<&'a PaymentChoice>,
    /// What the customer may hold; `None` for staff.
    pub limits: Option<rules::Limits>,
    /// The `X-Pass-Token` header: a waiting room's pass.
    pub pass_token: Option<&'a str>,
    /// What verifies passes; `None` where no resource can be protected
    /// (tools, benchmarks), which refuses a protected one.
    pub passes: Option<&'a PassKeys>,
}

impl Attempt<'_> {
    fn deadline(&self) -> rules::Deadline {
        rules::Deadline {
            now: self.now,
            cutoff: self.cutoff,
        }
    }

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
    venue: VenueId,
    company: Option<CompanyId>,
    zone: TimeZone,
    slot_id: SlotId,
    quantity: u32,
    price: Price,
    seats: Vec<BookedSeat>,
    back_nine: Option<SlotId>,
    ends_at: Option<chrono::NaiveTime>,
    units: Vec<chrono::NaiveTime>,
    /// The reason of the first history entry.
    reason: String,
    /// The booked resource's waiting room, if it has one.
    gate: Option<Gate>,
}

impl Plan {
    fn booking(&self, attempt: &Attempt<'_>) -> Booking {
        Booking {
            id: BookingId::generate(),
            number: BookingNumber::generate(),
            user_id: attempt.user.clone(),
            kind: self.kind.into(),
            venue_id: self.venue.clone(),
            company_id: self.company.clone(),
            time_zone: self.zone,
            slot_id: self.slot_id.clone(),
            starts_at: self.zone.local(self.zone.starts_at(&self.slot_id)),
            quantity: self.quantity,
            unit_price_cents: self.price.unit_cents,
            seats: self.seats.clone(),
            back_nine_slot_id: self.back_nine.clone(),
            ends_at: self.ends_at,
            units: self.units.clone(),
            price_cents: self.price.total_cents,
            currency: crate::booking::CURRENCY.into(),
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
    catalog: &(impl VenueStore + SlotStore + ResourceStore),
    attempt: &Attempt<'_>,
    request: &ValidRequest,
) -> Result<Created, AppError> {
    let outcome = hold_places(bookings, catalog, attempt, request).await;
    match &outcome {
        Ok(Created::New(booking)) => telemetry::booking(BookingMetric::Created, booking),
        Err(refusal) if is_sold_out(refusal.code()) => telemetry::sold_out(refusal.code()),
        Ok(Created::Replayed(_)) | Err(_) => {}
    }
    outcome
}

/// Whether a refusal says the places were gone (not that the request was
/// wrong): the refusals the sold-out counter counts.
fn is_sold_out(code: &str) -> bool {
    matches!(code, "SOLD_OUT" | "SEAT_TAKEN" | "RANGE_TAKEN")
}

async fn hold_places(
    bookings: &impl BookingStore,
    catalog: &(impl VenueStore + SlotStore + ResourceStore),
    attempt: &Attempt<'_>,
    request: &ValidRequest,
) -> Result<Created, AppError> {
    let key = attempt.key_record();
    let plan = match request {
        ValidRequest::Slot(order) => plan_slot(catalog, order, &attempt.deadline()).await,
        ValidRequest::Range(order) => plan_range(catalog, order, &attempt.deadline()).await,
    };
    let plan = plan.and_then(|plan| match attempt.limits {
        Some(limits) if plan.units.is_empty() && plan.quantity > limits.places_per_slot => {
            Err(limits.places_refusal())
        }
        _ => Ok(plan),
    });
    // A protected resource: the sale must be open and the pass valid,
    // checked without a read; its transaction uses the pass up.
    let pass = plan
        .as_ref()
        .ok()
        .and_then(|p| p.gate.as_ref())
        .map(|gate| {
            check_gate(
                gate,
                attempt.passes,
                attempt.pass_token,
                attempt.user,
                attempt.now,
            )
        });
    let (plan, pass) = match (plan, pass) {
        (Ok(_), Some(Err(refusal))) => (Err(refusal), None),
        (plan, pass) => (plan, pass.and_then(Result::ok)),
    };
    let pass = pass.map(|p| PassUse {
        room_id: p.room_id,
        user_id: p.user_id,
        pass_id: p.pass_id,
    });
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
        let event = EventEnvelope::of(&created_event(&booking), attempt.correlation_id.clone())
            .map_err(|e| AppError::internal("encoding BookingCreated", e))?;
        let hold = NewHold {
            booking: &booking,
            key: key.clone(),
            entry: &entry,
            event: &event,
            card: attempt.payment.and_then(PaymentChoice::card),
            limits: attempt.limits,
            pass: pass.clone(),
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
            Err(HoldRefused::VenueClosed) => Err(venue_closed()),
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
            Err(HoldRefused::PlacesLimit) => Err(limit(attempt).places_refusal()),
            Err(HoldRefused::TooManyHolds) => Err(limit(attempt).holds_refusal()),
            Err(HoldRefused::PassUsed) => Err(AppError::Forbidden {
                code: "PASS_USED",
                message: "this pass has made its booking already (or lapsed): a pass books once"
                    .into(),
            }),
            Err(HoldRefused::Failed(e)) => Err(e),
        };
    }
    Err(AppError::internal(
        "creating a booking",
        format!("no free booking number after {NUMBER_DRAWS} draws"),
    ))
}

/// The limits a refusal names (the store refuses only when there are some).
fn limit(attempt: &Attempt<'_>) -> rules::Limits {
    attempt.limits.unwrap_or_default()
}

/// The event of a new hold.
fn created_event(booking: &Booking) -> BookingCreated {
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
        starts_at: booking.starts_at.to_utc(),
        payment: booking.payment,
    }
}

/// A counted, seated or 18-hole booking of a slot, as the catalog prices it.
/// (The reads give the price and a clear early refusal; the transaction's
/// conditions, not these reads, decide the places.)
async fn plan_slot(
    catalog: &(impl VenueStore + SlotStore + ResourceStore),
    order: &Order,
    deadline: &rules::Deadline,
) -> Result<Plan, AppError> {
    let slot = catalog
        .get_slot(&order.slot_id)
        .await?
        .ok_or_else(|| slot_not_found(&order.slot_id))?;
    let resource = catalog
        .get_resource(&order.slot_id.resource_id)
        .await?
        .ok_or_else(|| slot_not_found(&order.slot_id))?;
    let venue = venue_of(catalog, &resource).await?;
    let zone = venue.time_zone;
    deadline.check(&slot.id, zone)?;
    let back_nine = if order.holes == 18 {
        Some(back_nine_of(catalog, &resource, &order.slot_id).await?)
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
        venue: resource.venue_id,
        company: venue.company_id,
        zone,
        slot_id: order.slot_id.clone(),
        quantity,
        price,
        seats,
        back_nine,
        ends_at: None,
        units: Vec::new(),
        reason: format!("held {quantity} of {}", order.slot_id),
        gate: resource.waiting_room,
    })
}

/// The back-nine tee time of an 18-hole round starting at `front`.
async fn back_nine_of(
    catalog: &impl SlotStore,
    resource: &Resource,
    front: &SlotId,
) -> Result<SlotId, AppError> {
    let back = resource.back_nine.as_ref().ok_or_else(|| {
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
async fn plan_range(
    catalog: &(impl VenueStore + ResourceStore),
    order: &RangeOrder,
    deadline: &rules::Deadline,
) -> Result<Plan, AppError> {
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
    let start = SlotId {
        resource_id: order.resource_id.clone(),
        date: order.date,
        start: order.start,
    };
    let venue = venue_of(catalog, &resource).await?;
    let zone = venue.time_zone;
    deadline.check(&start, zone)?;
    Ok(Plan {
        kind: "range",
        venue: resource.venue_id.clone(),
        company: venue.company_id,
        zone,
        slot_id: start,
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
        gate: resource.waiting_room,
    })
}

/// A closed venue's answer, and a closed company's venues' (one code: the
/// customer cannot book here either way).
pub(super) fn venue_closed() -> AppError {
    AppError::conflict(
        "VENUE_CLOSED",
        "this venue (or the company that runs it) is closed to bookings",
    )
}

pub(super) fn resource_closed() -> AppError {
    AppError::conflict("RESOURCE_CLOSED", "this resource is closed to bookings")
}

pub(super) fn slot_not_found(id: &SlotId) -> AppError {
    AppError::NotFound {
        code: "SLOT_NOT_FOUND",
        what: format!("the slot {id}"),
    }
}

/// Why a slot refused `wanted` places: read after the failed write, to
/// explain it.
pub(super) async fn slot_refusal(catalog: &impl SlotStore, id: &SlotId, wanted: u32) -> AppError {
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

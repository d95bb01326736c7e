//! Changing, cancelling and expiring bookings: each a conditional
//! transaction that gives places back (and takes new ones) exactly once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::events::{BookingModified, EndedAs, Placement};
use crate::booking::ports::{BookingChange, BookingStore, ChangeRefused, Release};
use crate::booking::rules;
use crate::booking::{Booking, BookingId, BookingStatus, HistoryEntry, Modification, Quantity};
use crate::catalog::SlotId;
use crate::catalog::ports::{ResourceStore, SlotStore};
use crate::identity::Caller;
use crate::payment::RefundPolicy;
use crate::telemetry::{self, BookingMetric};
use crate::{AppError, CorrelationId, EventEnvelope};

use super::get_manageable;
use super::holds::{resource_closed, slot_not_found, slot_refusal, venue_closed};

/// Changes the quantity of a counted booking the caller may see and/or
/// moves it to another slot: places given back and taken in one
/// transaction, conditional on the booking being as it was read and on the
/// new slot having room.
pub async fn modify(
    bookings: &impl BookingStore,
    catalog: &(impl SlotStore + ResourceStore),
    caller: &Caller,
    id: &BookingId,
    modification: &Modification,
    correlation_id: &CorrelationId,
    terms: &rules::Terms,
) -> Result<Booking, AppError> {
    let rules::Terms { deadline, limits } = *terms;
    let now = deadline.now;
    let booking = &get_manageable(bookings, caller, id).await?;
    let to_slot = modification.slot_id.as_ref().unwrap_or(&booking.slot_id);
    let to_quantity = modification
        .quantity
        .map_or(booking.quantity, Quantity::get);
    rules::check_modifiable(booking)?;
    let slot = catalog
        .get_slot(to_slot)
        .await?
        .ok_or_else(|| slot_not_found(to_slot))?;
    if to_slot.resource_id != booking.slot_id.resource_id {
        let venue = catalog
            .get_resource(&to_slot.resource_id)
            .await?
            .map(|r| r.venue_id);
        if venue.as_ref() != Some(&booking.venue_id) {
            return Err(AppError::conflict(
                "OTHER_VENUE",
                "a booking moves only within its venue; cancel it and book the other venue",
            ));
        }
    }
    deadline.check(to_slot, booking.time_zone)?;
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
    if let Some(limits) = limits
        && changed.quantity > limits.places_per_slot
    {
        return Err(limits.places_refusal());
    }
    let change = BookingChange {
        before: booking,
        after: &changed,
        entry: &entry,
        event: &event,
        limits,
    };
    match bookings.change(&change).await {
        Ok(()) => Ok(changed),
        Err(ChangeRefused::VenueClosed) => Err(venue_closed()),
        Err(ChangeRefused::ResourceClosed) => Err(resource_closed()),
        Err(ChangeRefused::BookingMoved) => Err(AppError::conflict(
            "INVALID_TRANSITION",
            "the booking changed meanwhile; read it again",
        )),
        Err(ChangeRefused::Slot(slot)) => {
            Err(slot_refusal(catalog, &slot, rules::places_taken(booking, &changed)).await)
        }
        Err(ChangeRefused::PlacesLimit) => Err(limits.unwrap_or_default().places_refusal()),
        Err(ChangeRefused::Failed(e)) => Err(e),
    }
}

/// Cancels a PENDING or CONFIRMED booking the caller may see, giving its
/// places back. `BookingCancelled` carries the share of the price to
/// refund: all of it for a hold never confirmed, else what `policy` gives
/// for the notice before the start. The release is conditional on the
/// status that share was computed for: a hold confirmed meanwhile is
/// refused (409) rather than refunded in full.
///
/// Staff with `bookings:manage` in the venue's company may cancel for the
/// customer: the refund follows the same policy, and the history records
/// that staff did it, with their `note` (the why) when given.
pub async fn cancel(
    bookings: &impl BookingStore,
    caller: &Caller,
    id: &BookingId,
    policy: &RefundPolicy,
    note: Option<&CancelNote>,
    correlation_id: &CorrelationId,
    now: DateTime<Utc>,
) -> Result<Booking, AppError> {
    let booking = get_manageable(bookings, caller, id).await?;
    rules::check_cancellable(booking.status)?;
    let percent = crate::booking::cancellation_refund_percent(
        booking.status,
        booking.starts_at.to_utc(),
        policy,
        now,
    );
    let mut reason = if caller.user_id == booking.user_id {
        "cancelled by the customer".to_owned()
    } else {
        "cancelled for the customer by staff".to_owned()
    };
    if let Some(note) = note {
        reason = format!("{reason}: {}", note.as_str());
    }
    if booking.payment.is_some() {
        reason = format!("{reason}; {percent}% refunded by policy ({policy})");
    }
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
    let cancelled = bookings.release(&booking, &release).await?;
    telemetry::booking(BookingMetric::Cancelled, &cancelled);
    Ok(cancelled)
}

/// Why a booking is cancelled, in the caller's words: 3 to 200 printable
/// characters, kept in the booking's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelNote(String);

impl CancelNote {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let note = raw.trim();
        let chars = note.chars().count();
        if !(3..=200).contains(&chars) || note.chars().any(char::is_control) {
            return Err(AppError::validation(
                "INVALID_REASON",
                "reason must be 3 to 200 printable characters",
            ));
        }
        Ok(Self(note.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// POST /bookings/{booking_id}/cancel: an optional body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

/// What one sweep of lapsed holds did.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Sweep {
    pub expired: usize,
    /// Holds another writer (payment, cancel, a parallel sweep) moved first.
    pub skipped: usize,
    /// Holds whose expiry met too much contention: the next run takes them.
    #[serde(default)]
    pub deferred: usize,
}

/// How a sweep works through lapsed holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepPlan {
    /// Holds read per page, oldest first.
    pub page: usize,
    /// Slots whose holds are released at once (a slot's own holds are
    /// released one batch after another: they all write its places).
    pub parallel: usize,
    /// How long a sweep keeps taking pages; the next run takes the rest.
    pub budget: std::time::Duration,
}

/// Expires the holds whose time ran out at `now`, a page at a time, oldest
/// first, until none is left or `plan.budget` is spent, giving their places
/// back. A page's holds of one slot are released together (in as few
/// transactions as the store allows, one after another: they all write the
/// slot's places), `plan.parallel` slots at once. Each expiry is
/// conditional on the booking still being PENDING with its hold run out,
/// so a payment or a cancel that wins the race leaves it alone.
pub async fn expire_lapsed(
    bookings: &impl BookingStore,
    now: DateTime<Utc>,
    plan: &SweepPlan,
    correlation_id: &CorrelationId,
) -> Result<Sweep, AppError> {
    use futures::StreamExt;
    let started = std::time::Instant::now();
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
    loop {
        let page = bookings.expired_holds(now, plan.page).await?;
        let groups = by_slot(&page);
        let outcomes: Vec<Result<Booking, AppError>> = futures::stream::iter(
            groups
                .iter()
                .map(|holds| bookings.release_together(holds, &release)),
        )
        .buffer_unordered(plan.parallel.max(1))
        .flat_map(futures::stream::iter)
        .collect()
        .await;
        let expired_before = sweep.expired;
        for outcome in outcomes {
            match outcome {
                Ok(expired) => {
                    telemetry::booking(BookingMetric::Expired, &expired);
                    sweep.expired += 1;
                }
                Err(AppError::Conflict { .. }) => sweep.skipped += 1,
                Err(AppError::Unavailable { .. }) => sweep.deferred += 1,
                Err(other) => return Err(other),
            }
        }
        // A short page was the last one; a page of nothing but holds moved
        // meanwhile means the index still shows them: the next run will not.
        if page.len() < plan.page
            || sweep.expired == expired_before
            || started.elapsed() >= plan.budget
        {
            return Ok(sweep);
        }
    }
}

/// `page`'s holds grouped by slot, in the order their slots first appear.
fn by_slot(page: &[Booking]) -> Vec<Vec<Booking>> {
    let mut order: Vec<&SlotId> = Vec::new();
    let mut groups: std::collections::HashMap<&SlotId, Vec<Booking>> = Default::default();
    for booking in page {
        groups
            .entry(&booking.slot_id)
            .or_insert_with(|| {
                order.push(&booking.slot_id);
                Vec::new()
            })
            .push(booking.clone());
    }
    order
        .into_iter()
        .filter_map(|slot| groups.remove(slot))
        .collect()
}

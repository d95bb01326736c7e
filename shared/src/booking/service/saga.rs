//! The booking side of the payment saga: a payment confirms its hold, a
//! failure releases it, a refund adds a note.

use chrono::{DateTime, Utc};

use crate::booking::events::EndedAs;
use crate::booking::ports::{BookingStore, Confirmation, Release, SAGA};
use crate::booking::{Booking, BookingStatus};
use crate::payment::PaymentMethod;
use crate::payment::events::{PaymentFacts, PaymentFailed, PaymentRefunded};
use crate::telemetry::{self, BookingMetric};
use crate::{AppError, EventEnvelope};

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
        Confirmation::Confirmed => telemetry::booking(BookingMetric::Confirmed, booking),
        Confirmation::AlreadyConfirmed => {}
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
                Ok(expired) => telemetry::booking(BookingMetric::Expired, &expired),
                Err(AppError::Conflict { .. }) => {}
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
        Ok(failed) => {
            telemetry::booking(BookingMetric::Failed, &failed);
            Ok(true)
        }
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
    format!(
        "{}.{:02} {}",
        amount / 100,
        amount % 100,
        crate::booking::CURRENCY
    )
}

fn method(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Wallet => "wallet points",
        PaymentMethod::Card => "card",
    }
}

//! The booking side of the saga, fed by the payment context's events.
//!
//! - `PaymentCompleted`: the hold becomes CONFIRMED (`BookingConfirmed`). A
//!   payment for a hold whose time ran out expires the hold instead
//!   (`BookingExpired`, so the payment context refunds it in full); one for a
//!   booking that already ended only adds a note.
//! - `PaymentFailed`: the compensation: the places go back and the booking
//!   becomes FAILED (`BookingCancelled` with the reason).
//! - `PaymentRefunded`: a note in the booking's history.
//!
//! Every change is conditional on the booking's status and every note is
//! keyed by its event, so duplicate and out-of-order events change nothing.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamo::booking::{Confirmation, DynamoBookings, Release, SAGA};
use shared::booking::events::EndedAs;
use shared::booking::{Booking, BookingStatus};
use shared::clock::Clock;
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::PaymentMethod;
use shared::payment::events::{PaymentCompleted, PaymentFacts, PaymentFailed, PaymentRefunded};
use shared::{AppError, EventEnvelope, EventType};

pub async fn handle(
    store: &DynamoBookings,
    clock: &impl Clock,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| on_event(store, clock, e)).await)
}

async fn on_event(
    store: &DynamoBookings,
    clock: &impl Clock,
    event: EventEnvelope,
) -> Result<(), MessageError> {
    match event.event_type {
        EventType::PaymentCompleted => {
            let paid: PaymentCompleted = decode(&event)?;
            let booking = booking_of(store, &paid.payment).await?;
            completed(store, clock.now(), &booking, &paid.payment, &event).await
        }
        EventType::PaymentFailed => {
            let failure: PaymentFailed = decode(&event)?;
            let booking = booking_of(store, &failure.payment).await?;
            failed(store, clock.now(), &booking, &failure, &event).await
        }
        EventType::PaymentRefunded => {
            let refund: PaymentRefunded = decode(&event)?;
            let booking = booking_of(store, &refund.payment).await?;
            let reason = format!(
                "refunded {} of {} ({})",
                cents(refund.payment.refunded_cents),
                cents(refund.payment.amount_cents),
                method(refund.payment.method)
            );
            Ok(store.note(&booking, &event, &reason).await?)
        }
        ref other => {
            tracing::warn!(event_type = %other, "not an event of this consumer; ignored");
            Ok(())
        }
    }
}

/// The booking a payment is for; one that does not exist is a fault.
async fn booking_of(
    store: &DynamoBookings,
    payment: &PaymentFacts,
) -> Result<Booking, MessageError> {
    store.get(&payment.booking_id).await?.ok_or_else(|| {
        MessageError::App(AppError::internal(
            "handling a payment event",
            format!("booking {} does not exist", payment.booking_id),
        ))
    })
}

async fn completed(
    store: &DynamoBookings,
    now: DateTime<Utc>,
    booking: &Booking,
    outcome: &PaymentFacts,
    event: &EventEnvelope,
) -> Result<(), MessageError> {
    let paid = format!(
        "paid {} ({})",
        cents(outcome.amount_cents),
        method(outcome.method)
    );
    let confirmation = if booking.status == BookingStatus::Pending {
        store
            .confirm(booking, &paid, &event.correlation_id, now)
            .await?
    } else if booking.confirmed_at.is_some() {
        // Confirmed by this payment before (and maybe cancelled since).
        Confirmation::AlreadyConfirmed
    } else {
        Confirmation::Ended(booking.status)
    };
    match confirmation {
        Confirmation::Confirmed => {
            tracing::info!(booking_id = %booking.id, "booking confirmed");
            Ok(())
        }
        Confirmation::AlreadyConfirmed => Ok(()),
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
            match store.release(&current, &release).await {
                Ok(_) | Err(AppError::Conflict { .. }) => Ok(()),
                Err(e) => Err(e.into()),
            }
        }
        Confirmation::Ended(status) => {
            let reason = format!(
                "{paid} after the booking was {}; the payment is refunded",
                status.as_str()
            );
            Ok(store.note(booking, event, &reason).await?)
        }
    }
}

async fn failed(
    store: &DynamoBookings,
    now: DateTime<Utc>,
    booking: &Booking,
    failure: &PaymentFailed,
    event: &EventEnvelope,
) -> Result<(), MessageError> {
    let code = failure.reason.as_str();
    let reason = format!("payment failed: {} ({code})", failure.message);
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
    match store.release(booking, &release).await {
        Ok(_) => {
            tracing::info!(booking_id = %booking.id, code, "payment failed; booking released");
            Ok(())
        }
        // Already ended (expired, cancelled, or this event seen before).
        Err(AppError::Conflict { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn cents(amount: u64) -> String {
    format!("{}.{:02} EUR", amount / 100, amount % 100)
}

fn method(method: PaymentMethod) -> &'static str {
    match method {
        PaymentMethod::Wallet => "wallet points",
        PaymentMethod::Card => "card",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::consumer::envelope;

    #[test]
    fn payment_events_carry_the_booking_the_amount_and_the_reason() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/booking-confirmation/sqs-payment-events.json"
        ))
        .expect("fixture parses");
        let events: Vec<EventEnvelope> =
            batch.records.iter().map(|m| envelope(m).unwrap()).collect();
        let paid: PaymentCompleted = decode(&events[0]).unwrap();
        assert_eq!(paid.payment.amount_cents, 10_000);
        let failed: PaymentFailed = decode(&events[1]).unwrap();
        assert_eq!(failed.reason.as_str(), "CARD_DECLINED");
        let refunded: PaymentRefunded = decode(&events[2]).unwrap();
        assert_eq!(refunded.payment.refunded_cents, 5_000);
        assert_eq!(cents(refunded.payment.refunded_cents), "50.00 EUR");
    }

    #[test]
    fn a_payment_event_missing_a_field_is_refused_not_defaulted() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/booking-confirmation/sqs-payment-events.json"
        ))
        .expect("fixture parses");
        let mut failed = envelope(&batch.records[1]).unwrap();
        failed.data.as_object_mut().unwrap().remove("reason");
        assert!(matches!(
            decode::<PaymentFailed>(&failed),
            Err(MessageError::BadEvent(_))
        ));
    }
}

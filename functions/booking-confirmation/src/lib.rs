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
use lambda_runtime::{Error, LambdaEvent};
use shared::booking::Booking;
use shared::booking::ports::{BookingStore, Confirmation};
use shared::booking::service;
use shared::clock::Clock;
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::events::{PaymentCompleted, PaymentFacts, PaymentFailed, PaymentRefunded};
use shared::{AppError, EventEnvelope, EventType};

pub async fn handle(
    bookings: &impl BookingStore,
    clock: &impl Clock,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| on_event(bookings, clock, e)).await)
}

async fn on_event(
    bookings: &impl BookingStore,
    clock: &impl Clock,
    event: EventEnvelope,
) -> Result<(), MessageError> {
    match event.event_type {
        EventType::PaymentCompleted => {
            let paid: PaymentCompleted = decode(&event)?;
            let booking = booking_of(bookings, &paid.payment).await?;
            let outcome =
                service::payment_completed(bookings, &booking, &paid.payment, &event, clock.now())
                    .await?;
            if outcome == Confirmation::Confirmed {
                tracing::info!(booking_id = %booking.id, "booking confirmed");
            }
            Ok(())
        }
        EventType::PaymentFailed => {
            let failure: PaymentFailed = decode(&event)?;
            let booking = booking_of(bookings, &failure.payment).await?;
            if service::payment_failed(bookings, &booking, &failure, &event, clock.now()).await? {
                tracing::info!(booking_id = %booking.id, code = failure.reason.as_str(), "payment failed; booking released");
            }
            Ok(())
        }
        EventType::PaymentRefunded => {
            let refund: PaymentRefunded = decode(&event)?;
            let booking = booking_of(bookings, &refund.payment).await?;
            Ok(service::payment_refunded(bookings, &booking, &refund, &event).await?)
        }
        ref other => {
            tracing::warn!(event_type = %other, "not an event of this consumer; ignored");
            Ok(())
        }
    }
}

/// The booking a payment is for; one that does not exist is a fault.
async fn booking_of(
    bookings: &impl BookingStore,
    payment: &PaymentFacts,
) -> Result<Booking, MessageError> {
    bookings.get(&payment.booking_id).await?.ok_or_else(|| {
        MessageError::App(AppError::internal(
            "handling a payment event",
            format!("booking {} does not exist", payment.booking_id),
        ))
    })
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
        assert_eq!(service::cents(refunded.payment.refunded_cents), "50.00 EUR");
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

    mod over_the_twin {
        use super::*;
        use shared::adapters::memory::MemoryBookings;
        use shared::booking::ports::BookingReader;
        use shared::booking::{BookingId, BookingStatus};
        use shared::clock::FixedClock;
        use shared::identity::UserId;
        use shared::testing::booking::{at, booked, booking_of, over_course};
        use shared::testing::catalog::slot;

        const FIXTURE: &str =
            include_str!("../../../events/booking-confirmation/sqs-payment-events.json");

        /// The fixture's record `index` alone, as a batch.
        fn record(index: usize) -> LambdaEvent<SqsEvent> {
            let mut batch: SqsEvent = serde_json::from_str(FIXTURE).unwrap();
            batch.records = vec![batch.records[index].clone()];
            LambdaEvent::new(batch, lambda_runtime::Context::default())
        }

        /// The fixture's bookings `...0001` and `...0002`, held at 09:30
        /// until 09:45, with their places taken.
        async fn bookings() -> MemoryBookings {
            let bookings = over_course().await;
            let user = UserId::parse("0193a5f2-7a00-7000-8000-000000000001").unwrap();
            for n in 1..=2 {
                let id = BookingId::parse(&format!("0193a5f2-7b00-7000-8000-00000000000{n}"));
                bookings.insert(booking_of(id.unwrap(), &user, 0), Vec::new());
                bookings.catalog().book(&slot(), 2);
            }
            bookings
        }

        async fn status_of(bookings: &MemoryBookings, n: u8) -> BookingStatus {
            let id = BookingId::parse(&format!("0193a5f2-7b00-7000-8000-00000000000{n}"));
            bookings.get(&id.unwrap()).await.unwrap().unwrap().status
        }

        #[tokio::test]
        async fn a_payment_confirms_its_hold_once_however_often_it_arrives() {
            let bookings = bookings().await;
            let clock = FixedClock::at(at(5));
            for _ in 0..2 {
                let res = handle(&bookings, &clock, record(0)).await.unwrap();
                assert!(res.batch_item_failures.is_empty());
            }
            assert_eq!(status_of(&bookings, 1).await, BookingStatus::Confirmed);
            let kinds: Vec<_> = bookings
                .events()
                .iter()
                .map(|e| e.event_type.to_string())
                .collect();
            assert_eq!(kinds, ["BookingConfirmed"]);
            assert_eq!(booked(&bookings, &slot()).await, 4);
        }

        #[tokio::test]
        async fn a_payment_after_the_hold_ran_out_expires_it_for_a_full_refund() {
            let bookings = bookings().await;
            handle(&bookings, &FixedClock::at(at(20)), record(0))
                .await
                .unwrap();
            assert_eq!(status_of(&bookings, 1).await, BookingStatus::Expired);
            let expired = bookings.events().pop().unwrap();
            assert_eq!(expired.event_type.as_str(), "BookingExpired");
            assert_eq!(expired.data["refund_percent"], 100);
            assert_eq!(booked(&bookings, &slot()).await, 2);
        }

        #[tokio::test]
        async fn a_failed_payment_releases_the_hold_and_a_refund_only_adds_a_note_once() {
            let bookings = bookings().await;
            let clock = FixedClock::at(at(5));
            handle(&bookings, &clock, record(1)).await.unwrap();
            assert_eq!(status_of(&bookings, 2).await, BookingStatus::Failed);
            assert_eq!(booked(&bookings, &slot()).await, 2);
            for _ in 0..2 {
                handle(&bookings, &clock, record(2)).await.unwrap();
            }
            let id = BookingId::parse("0193a5f2-7b00-7000-8000-000000000001").unwrap();
            let history = bookings.history(&id).await.unwrap();
            assert_eq!(history.len(), 1);
            assert!(
                history[0]
                    .reason
                    .starts_with("refunded 50.00 EUR of 100.00 EUR")
            );
        }

        #[tokio::test]
        async fn a_payment_for_a_booking_that_does_not_exist_fails_its_message() {
            let bookings = over_course().await;
            let res = handle(&bookings, &FixedClock::at(at(5)), record(0))
                .await
                .unwrap();
            assert_eq!(res.batch_item_failures.len(), 1);
        }
    }
}

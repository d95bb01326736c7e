//! Settles the payment of a booking that ended, fed by `BookingCancelled`
//! and `BookingExpired`.
//!
//! - Paid (COMPLETED): refunds the share the booking context decided (the
//!   refund policy for a cancellation, all of it for an expiry or a failed
//!   saga): to the wallet in one transaction with its ledger entry, or to the
//!   card through the gateway; then REFUNDED with `PaymentRefunded`. A share
//!   of 0 leaves the payment as it is.
//! - Not paid yet: the payment is VOIDED, so a charge still in flight is
//!   refunded as soon as it lands instead of confirming anything.
//! - Failed, voided or refunded before: nothing.
//!
//! The payment's status is the condition of every write, and the gateway
//! refund's idempotency key is the booking's, so a redelivery refunds nothing
//! twice.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::booking::events::{BookingCancelled, BookingEnded, BookingExpired};
use shared::clock::Clock;
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::ports::{CardPayments, PaymentStore};
use shared::payment::service::{Ended, Payments};
use shared::{EventEnvelope, EventType};

pub async fn handle(
    payments: &Payments<impl PaymentStore, impl CardPayments, impl Clock>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| on_event(payments, e)).await)
}

/// What a `BookingCancelled` or `BookingExpired` says; `None` for any other
/// event.
fn ended(event: &EventEnvelope) -> Result<Option<BookingEnded>, MessageError> {
    Ok(match event.event_type {
        EventType::BookingCancelled => Some(decode::<BookingCancelled>(event)?.0),
        EventType::BookingExpired => Some(decode::<BookingExpired>(event)?.0),
        _ => None,
    })
}

/// What settling needs of an ended booking.
fn settlement(ended: BookingEnded) -> Ended {
    Ended {
        booking_id: ended.booking_id,
        user_id: ended.user_id,
        price_cents: ended.price_cents,
        payment: ended.payment,
        refund_percent: ended.refund_percent,
        reason: ended.reason,
    }
}

async fn on_event(
    payments: &Payments<impl PaymentStore, impl CardPayments, impl Clock>,
    event: EventEnvelope,
) -> Result<(), MessageError> {
    let Some(ended) = ended(&event)? else {
        tracing::warn!(event_type = %event.event_type, "not an event of this consumer; ignored");
        return Ok(());
    };
    payments.settle(&settlement(ended), &event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::consumer::envelope;
    use shared::payment::{PaymentMethod, share};

    #[test]
    fn ended_bookings_say_how_much_to_refund_and_how_they_were_paid() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/payment-refunder/sqs-booking-ended.json"
        ))
        .expect("fixture parses");
        let ended: Vec<BookingEnded> = batch
            .records
            .iter()
            .map(|m| ended(&envelope(m).unwrap()).unwrap().unwrap())
            .collect();
        assert_eq!(ended[0].refund_percent, 50);
        assert_eq!(ended[0].payment, Some(PaymentMethod::Wallet));
        assert_eq!(share(10_000, ended[0].refund_percent), 5_000);
        assert_eq!(ended[1].refund_percent, 100);
        assert_eq!(ended[1].payment, Some(PaymentMethod::Card));
        assert_eq!(
            ended[2].payment, None,
            "never asked to be paid: nothing to do"
        );
    }

    #[test]
    fn an_ended_booking_without_its_refund_share_is_refused_never_refunded_in_full() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/payment-refunder/sqs-booking-ended.json"
        ))
        .expect("fixture parses");
        for field in ["refund_percent", "price_cents", "payment"] {
            let mut event = envelope(&batch.records[0]).unwrap();
            event.data.as_object_mut().unwrap().remove(field);
            assert!(
                matches!(ended(&event), Err(MessageError::BadEvent(_))),
                "without {field}"
            );
        }
    }

    mod over_the_twins {
        use super::*;
        use shared::kernel::BookingId;
        use shared::payment::ports::PaymentStore;
        use shared::payment::service::Order;
        use shared::payment::{CardToken, PaymentMethod, PaymentStatus};
        use shared::testing::payment::{customer, fund, now, payments};

        const FIXTURE: &str =
            include_str!("../../../events/payment-refunder/sqs-booking-ended.json");

        fn message(index: usize) -> LambdaEvent<SqsEvent> {
            let mut batch: SqsEvent = serde_json::from_str(FIXTURE).unwrap();
            batch.records = vec![batch.records[index].clone()];
            LambdaEvent::new(batch, lambda_runtime::Context::default())
        }

        fn booking(n: u8) -> BookingId {
            BookingId::parse(&format!("0193a5f2-7b00-7000-8000-00000000000{n}")).unwrap()
        }

        /// The booking `n` of the fixtures, paid by `payment`.
        async fn paid(
            payments: &Payments<
                shared::adapters::memory::MemoryWallets,
                shared::adapters::memory::MemoryCards,
                shared::clock::FixedClock,
            >,
            n: u8,
            payment: PaymentMethod,
        ) {
            if payment == PaymentMethod::Card {
                payments
                    .store
                    .intend(&booking(n), CardToken::parse("tok_visa").unwrap());
            }
            let order = Order {
                booking_id: booking(n),
                user_id: customer(),
                price_cents: 10_000,
                currency: "EUR".into(),
                hold_expires_at: now() + chrono::Duration::minutes(5),
                payment: Some(payment),
            };
            let event = envelope(&message(0).payload.records[0]).unwrap();
            let done = payments.pay(&order, &event).await.unwrap().unwrap();
            assert_eq!(done.status, PaymentStatus::Completed);
        }

        #[tokio::test]
        async fn a_cancelled_wallet_payment_gets_its_policy_share_back_once() {
            let payments = payments();
            fund(&payments.store, &customer(), 10_000).await;
            paid(&payments, 1, PaymentMethod::Wallet).await;
            assert_eq!(payments.store.balance(&customer()), 0);
            for _ in 0..2 {
                let res = handle(&payments, message(0)).await.unwrap();
                assert!(res.batch_item_failures.is_empty());
            }
            assert_eq!(payments.store.balance(&customer()), 5_000);
            let refunded = payments.store.payment(&booking(1)).await.unwrap().unwrap();
            assert_eq!(
                (refunded.status, refunded.refunded_cents),
                (PaymentStatus::Refunded, 5_000)
            );
            let refunds = payments
                .store
                .events()
                .iter()
                .filter(|e| e.event_type == EventType::PaymentRefunded)
                .count();
            assert_eq!(refunds, 1);
        }

        #[tokio::test]
        async fn an_expired_card_payment_is_refunded_in_full_at_the_gateway() {
            let payments = payments();
            paid(&payments, 2, PaymentMethod::Card).await;
            handle(&payments, message(1)).await.unwrap();
            let charge = &payments.cards.charges()[booking(2).as_str()];
            assert_eq!(charge.refunded_cents, 10_000);
            let refunded = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(refunded.status, PaymentStatus::Refunded);
        }

        #[tokio::test]
        async fn a_booking_that_ended_before_its_payment_is_voided_so_no_payment_can_follow() {
            let payments = payments();
            handle(&payments, message(1)).await.unwrap();
            let voided = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(voided.status, PaymentStatus::Voided);
            assert!(payments.cards.charges().is_empty());
            // A hold never asked to be paid: nothing at all.
            handle(&payments, message(2)).await.unwrap();
            assert!(payments.store.payment(&booking(3)).await.unwrap().is_none());
        }

        #[tokio::test]
        async fn an_unavailable_gateway_fails_the_refund_for_a_retry_and_records_nothing() {
            let payments = payments();
            paid(&payments, 2, PaymentMethod::Card).await;
            payments.cards.set_unavailable(true);
            let res = handle(&payments, message(1)).await.unwrap();
            assert_eq!(res.batch_item_failures.len(), 1);
            let still = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(still.status, PaymentStatus::Completed);
        }
    }
}

//! Pays each booking that asks to be paid, fed by `BookingCreated`.
//!
//! - Wallet: the debit, its ledger entry, the payment and `PaymentCompleted`
//!   are one transaction; a short balance records `PaymentFailed`.
//! - Card: a charge through the gateway with the booking id as its
//!   idempotency key, then the payment and `PaymentCompleted` (or
//!   `PaymentFailed` for a declined card).
//!
//! A booking is paid at most once: the payment item is created once per
//! booking, and the gateway's idempotency key makes a repeated charge return
//! the first one. When the gateway is unavailable (its circuit open, or
//! timeouts and 5xx after the client's retries) the outcome of a charge is
//! unknown, so nothing is recorded: the message fails, SQS delivers it again
//! after the visibility timeout, and after `maxReceiveCount` receives it
//! waits in the dead-letter queue for a redrive. A charge that lands after
//! its booking ended is refunded at once.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::booking::events::BookingCreated;
use shared::clock::Clock;
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::ports::{CardPayments, PaymentStore};
use shared::payment::service::{Order, Payments};
use shared::{EventEnvelope, EventType};

pub async fn handle(
    payments: &Payments<impl PaymentStore, impl CardPayments, impl Clock>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| on_event(payments, e)).await)
}

/// What paying needs of a new booking.
fn order(created: BookingCreated) -> Order {
    Order {
        booking_id: created.booking_id,
        user_id: created.user_id,
        price_cents: created.price_cents,
        currency: created.currency,
        hold_expires_at: created.hold_expires_at,
        payment: created.payment,
    }
}

async fn on_event(
    payments: &Payments<impl PaymentStore, impl CardPayments, impl Clock>,
    event: EventEnvelope,
) -> Result<(), MessageError> {
    if event.event_type != EventType::BookingCreated {
        tracing::warn!(event_type = %event.event_type, "not an event of this consumer; ignored");
        return Ok(());
    }
    let created: BookingCreated = decode(&event)?;
    payments.pay(&order(created), &event).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::consumer::envelope;
    use shared::payment::PaymentMethod;

    fn fixture() -> SqsEvent {
        serde_json::from_str(include_str!(
            "../../../events/payment-processor/sqs-booking-created.json"
        ))
        .expect("fixture parses")
    }

    #[test]
    fn booking_created_events_carry_what_a_payment_needs() {
        let batch = fixture();
        let orders: Vec<BookingCreated> = batch.records[..3]
            .iter()
            .map(|m| decode(&envelope(m).unwrap()).unwrap())
            .collect();
        assert_eq!(orders[0].payment, Some(PaymentMethod::Wallet));
        assert_eq!(orders[1].payment, Some(PaymentMethod::Card));
        assert_eq!(orders[2].payment, None, "a hold waiting for payment");
        assert!(orders.iter().all(|o| o.price_cents == 10_000));
    }

    #[tokio::test]
    async fn a_message_that_is_not_an_event_is_reported_for_the_dead_letter_queue() {
        let response = each_event(&fixture(), |event| async move {
            decode::<BookingCreated>(&event).map(|_| ())
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["msg-poison"]);
    }

    mod over_the_twins {
        use super::*;
        use shared::clock::Clock;
        use shared::kernel::BookingId;
        use shared::payment::ports::PaymentStore;
        use shared::payment::{FailureReason, PaymentStatus};
        use shared::testing::payment::{customer, fund, payments};

        /// The fixture's message `index` alone, as a batch.
        fn message(index: usize) -> LambdaEvent<SqsEvent> {
            let mut batch = fixture();
            batch.records = vec![batch.records[index].clone()];
            LambdaEvent::new(batch, lambda_runtime::Context::default())
        }

        fn booking(n: u8) -> BookingId {
            BookingId::parse(&format!("0193a5f2-7b00-7000-8000-00000000000{n}")).unwrap()
        }

        /// The card booking 2 holds in its payment intent.
        fn intend(payments: &shared::testing::payment::TwinPayments) {
            payments.store.intend(
                &booking(2),
                shared::payment::CardToken::parse("tok_visa").unwrap(),
            );
        }

        fn kinds(events: &[EventEnvelope]) -> Vec<String> {
            events.iter().map(|e| e.event_type.to_string()).collect()
        }

        #[tokio::test]
        async fn a_wallet_pays_once_however_often_the_booking_arrives() {
            let payments = payments();
            fund(&payments.store, &customer(), 15_000).await;
            for _ in 0..2 {
                let res = handle(&payments, message(0)).await.unwrap();
                assert!(res.batch_item_failures.is_empty());
            }
            let paid = payments.store.payment(&booking(1)).await.unwrap().unwrap();
            assert_eq!(
                (paid.status, paid.amount_cents),
                (PaymentStatus::Completed, 10_000)
            );
            assert_eq!(payments.store.balance(&customer()), 5_000);
            assert_eq!(
                kinds(&payments.store.events()),
                ["WalletCharged", "PaymentCompleted"]
            );
        }

        #[tokio::test]
        async fn a_short_wallet_fails_the_payment_and_moves_no_points() {
            let payments = payments();
            fund(&payments.store, &customer(), 9_999).await;
            handle(&payments, message(0)).await.unwrap();
            let failed = payments.store.payment(&booking(1)).await.unwrap().unwrap();
            assert_eq!(failed.failure, Some(FailureReason::InsufficientFunds));
            assert_eq!(payments.store.balance(&customer()), 9_999);
            assert_eq!(kinds(&payments.store.events())[1], "PaymentFailed");
        }

        #[tokio::test]
        async fn a_card_is_charged_once_under_the_bookings_key_and_a_decline_fails_it() {
            let payments = payments();
            intend(&payments);
            for _ in 0..2 {
                handle(&payments, message(1)).await.unwrap();
            }
            let charges = payments.cards.charges();
            assert_eq!(charges.len(), 1);
            assert_eq!(charges[booking(2).as_str()].amount_cents, 10_000);
            let paid = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(
                paid.charge_id.as_deref(),
                Some(charges[booking(2).as_str()].charge_id.as_str())
            );
            assert_eq!(
                payments.store.card_of(&booking(2)).await.unwrap(),
                None,
                "the card is forgotten once the payment is recorded"
            );

            let declined = shared::testing::payment::payments();
            intend(&declined);
            declined.cards.decline("tok_visa");
            handle(&declined, message(1)).await.unwrap();
            let failed = declined.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(failed.failure, Some(FailureReason::CardDeclined));
        }

        #[tokio::test]
        async fn an_unavailable_gateway_records_nothing_and_fails_the_message_for_a_retry() {
            let payments = payments();
            intend(&payments);
            payments.cards.set_unavailable(true);
            let res = handle(&payments, message(1)).await.unwrap();
            assert_eq!(res.batch_item_failures.len(), 1);
            assert!(payments.store.payment(&booking(2)).await.unwrap().is_none());
            payments.cards.set_unavailable(false);
            let retried = handle(&payments, message(1)).await.unwrap();
            assert!(retried.batch_item_failures.is_empty());
            assert_eq!(payments.cards.charges().len(), 1);
        }

        #[tokio::test]
        async fn a_card_booking_without_its_intent_fails_uncharged() {
            let payments = payments();
            handle(&payments, message(1)).await.unwrap();
            let failed = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(failed.failure, Some(FailureReason::CardMissing));
            assert_eq!(payments.cards.calls(), 0);
        }

        #[tokio::test]
        async fn a_card_booking_whose_hold_ran_out_is_not_charged() {
            let payments = payments();
            payments.clock.set("2026-11-21T10:20:00Z".parse().unwrap());
            assert!(
                payments.clock.now()
                    > "2026-11-21T10:15:01Z"
                        .parse::<chrono::DateTime<chrono::Utc>>()
                        .unwrap()
            );
            handle(&payments, message(1)).await.unwrap();
            assert!(payments.cards.charges().is_empty());
            let failed = payments.store.payment(&booking(2)).await.unwrap().unwrap();
            assert_eq!(failed.failure, Some(FailureReason::HoldExpired));
        }

        #[tokio::test]
        async fn a_hold_without_a_payment_is_left_to_wait() {
            let payments = payments();
            handle(&payments, message(2)).await.unwrap();
            assert!(payments.store.payment(&booking(3)).await.unwrap().is_none());
            assert!(payments.store.events().is_empty());
        }
    }
}

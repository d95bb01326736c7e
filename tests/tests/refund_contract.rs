//! The refund share is a required field of the booking's own event, through
//! the running local cloud: a `BookingCancelled` without a
//! `refund_percent`, or with one that is not a share, refunds nothing (never
//! "100 % by default") and ends in the refunder's dead-letter queue, where
//! it can be inspected and redriven.

use serde_json::{Value, json};
use shared::{CorrelationId, EventEnvelope, EventSource};
use system_tests::saga::Touched;
use system_tests::{Cloud, PATIENCE, bus_event, eventually};

/// How many dead-lettered messages of the refunder mention `needle`.
async fn dead_letters_mentioning(cloud: &Cloud, needle: &str) -> usize {
    let queue = cloud.reference("PaymentRefunderDeadLetterQueue");
    cloud.peek(&queue, needle).await.len()
}

#[tokio::test]
async fn a_cancellation_without_a_valid_refund_share_refunds_nothing_and_is_dead_lettered() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 2).await;
    let customer = cloud.customer(0).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    touched.users.insert(customer.account.id.clone());
    let card = json!({ "method": "card", "card_token": "tok_visa" });
    let booking = cloud.book_paid(&customer, &slot, 1, &card).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(id.clone());
    assert_eq!(
        cloud.wait_terminal(&customer.token, &id).await["status"],
        "CONFIRMED"
    );

    let ended = |share: Option<Value>| {
        let mut data = json!({
            "booking_id": id, "user_id": customer.account.id, "slot_id": slot,
            "quantity": 1, "from": "CONFIRMED", "to": "CANCELLED",
            "reason": "a producer that forgot the share",
            "price_cents": booking["price_cents"], "payment": "CARD",
        });
        if let Some(share) = share {
            data["refund_percent"] = share;
        }
        let mut envelope = EventEnvelope::of(
            &shared::events::Ping::Diagnostic { note: "-".into() },
            CorrelationId::generate(),
        )
        .unwrap();
        envelope.event_type = shared::EventType::BookingCancelled;
        envelope.data = data;
        envelope
    };
    let queue = cloud.reference("PaymentRefunderQueue");
    for share in [None, Some(json!("all")), Some(json!(250))] {
        cloud
            .sqs
            .send_message()
            .queue_url(&queue)
            .message_body(bus_event(EventSource::Booking.as_str(), &ended(share)))
            .send()
            .await
            .unwrap();
    }
    eventually("the three in the dead-letter queue", PATIENCE, || async {
        (dead_letters_mentioning(&cloud, &id).await >= 3).then_some(())
    })
    .await;
    let charge = cloud
        .gateway_charge(&id)
        .await
        .expect("the booking's charge");
    assert_eq!(charge["refunded_cents"], 0, "nothing refunded: {charge}");
    let booking = cloud.booking(&customer.token, &id).await;
    assert_eq!(booking["status"], "CONFIRMED");
    cloud.reconcile(&touched).await;
}

//! The card gateway goes down in the middle of the day (alone in its test
//! binary, because the gateway's mode is shared by everything that runs).
//!
//! Policy (docs/payment-gateway.md): a charge whose outcome is unknown is
//! never recorded as failed. The payment message is retried by SQS, the
//! circuit breaker makes those retries fail fast without calling the
//! gateway, and after `SagaMaxReceiveCount` receives the message waits in
//! the payment processor's dead-letter queue, its booking still a hold,
//! until an admin redrives it.

use std::time::Duration;

use serde_json::{Value, json};
use system_tests::saga::Touched;
use system_tests::{Cloud, PATIENCE, eventually};

const OUTAGE_BOOKINGS: usize = 12;

async fn dead_letters(cloud: &Cloud, admin: &str) -> Vec<Value> {
    let res = cloud
        .http
        .get(cloud.url("/admin/dead-letters/payment-processor?limit=100"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn while_the_gateway_is_down_calls_fail_fast_payments_wait_in_the_dead_letter_queue_and_a_redrive_completes_them()
 {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 20).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    let customers = [
        cloud.customer(50_000).await,
        cloud.customer(0).await,
        cloud.customer(0).await,
    ];
    for c in &customers {
        touched.users.insert(c.account.id.clone());
    }
    let card = json!({ "method": "card", "card_token": "tok_visa" });
    let before = cloud.gateway_stats().await;

    // The gateway goes down; card bookings keep coming.
    cloud.gateway_mode(&json!({ "mode": "down" })).await;
    let mut held = Vec::new();
    for i in 0..OUTAGE_BOOKINGS {
        let customer = &customers[1 + i % 2];
        let booking = cloud.book_paid(customer, &slot, 1, &card).await;
        held.push((
            customer.token.clone(),
            booking["id"].as_str().unwrap().to_owned(),
        ));
    }
    // Wallet payments do not need the gateway.
    let by_wallet = cloud
        .book_paid(&customers[0], &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let by_wallet = by_wallet["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(by_wallet.clone());
    assert_eq!(
        cloud.wait_terminal(&customers[0].token, &by_wallet).await["status"],
        "CONFIRMED"
    );

    let parked = eventually(
        "every outage payment in the dead-letter queue",
        Duration::from_secs(120),
        || async {
            let messages = dead_letters(&cloud, &admin).await;
            let ours = messages
                .iter()
                .filter(|m| {
                    held.iter()
                        .any(|(_, id)| m["event"]["data"]["booking_id"] == id.as_str())
                })
                .count();
            (ours == OUTAGE_BOOKINGS).then_some(messages)
        },
    )
    .await;
    assert!(parked.len() >= OUTAGE_BOOKINGS);
    // Each parked message was delivered `SagaMaxReceiveCount` times.
    let max_receives: u64 = cloud.parameter("SagaMaxReceiveCount").parse().unwrap();
    let deliveries = max_receives * OUTAGE_BOOKINGS as u64;
    let during = cloud.gateway_stats().await;
    let calls = during["requests"].as_u64().unwrap() - before["requests"].as_u64().unwrap();
    eprintln!("outage: {calls} gateway calls for {deliveries} deliveries");
    // Without a breaker every delivery would call the gateway up to 3 times.
    assert!(
        calls < deliveries,
        "{calls} gateway calls for {deliveries} deliveries: the circuit never opened"
    );
    for (token, id) in &held {
        assert_eq!(
            cloud.booking(token, id).await["status"],
            "PENDING",
            "{id} waits, unpaid"
        );
        assert!(cloud.gateway_charge(id).await.is_none());
    }
    // A customer gives up on two of them meanwhile.
    for (token, id) in held.iter().take(2) {
        let res = cloud
            .post(&format!("/bookings/{id}/cancel"), &json!({}), Some(token))
            .await;
        assert_eq!(res.status(), 200);
    }

    // The gateway comes back: once the breaker's open time is over, new
    // card bookings are paid again.
    cloud.gateway_mode(&json!({ "mode": "ok" })).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let fresh = cloud.book_paid(&customers[1], &slot, 1, &card).await;
    let fresh = fresh["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(fresh.clone());
    assert_eq!(
        cloud.wait_terminal(&customers[1].token, &fresh).await["status"],
        "CONFIRMED"
    );

    // The admin redrives the parked payments: the live holds are paid and
    // confirmed; the cancelled ones are never charged.
    let res = cloud
        .post(
            "/admin/dead-letters/payment-processor/redrive",
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let moved: Value = res.json().await.unwrap();
    assert!(
        moved["moved"].as_u64().unwrap() >= OUTAGE_BOOKINGS as u64,
        "{moved}"
    );
    for (i, (token, id)) in held.iter().enumerate() {
        touched.bookings.insert(id.clone());
        let done = cloud
            .wait_for_status(token, id, &["CONFIRMED", "CANCELLED"], PATIENCE)
            .await;
        if i < 2 {
            assert_eq!(done["status"], "CANCELLED");
        } else {
            assert_eq!(done["status"], "CONFIRMED", "{id}");
        }
    }
    for (_, id) in held.iter().take(2) {
        assert!(
            cloud.gateway_charge(id).await.is_none(),
            "a cancelled hold was charged"
        );
    }
    cloud.reconcile(&touched).await;
}

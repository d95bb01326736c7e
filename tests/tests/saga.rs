//! The booking saga through the running local cloud: a hold becomes a
//! confirmed booking only through payment, and every other path ends in a
//! correct, explained state.

use serde_json::{Value, json};
use system_tests::dates::Today;
use system_tests::saga::{Customer, Touched};
use system_tests::{Cloud, PATIENCE, eventually};

fn wallet() -> Value {
    json!({ "method": "wallet" })
}

fn card(token: &str) -> Value {
    json!({ "method": "card", "card_token": token })
}

async fn setup(cloud: &Cloud, capacity: u32, points: u64) -> (String, Customer, Touched) {
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, capacity).await;
    let customer = cloud.customer(points).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    touched.users.insert(customer.account.id.clone());
    (slot, customer, touched)
}

fn id(booking: &Value) -> String {
    booking["id"].as_str().expect("a booking id").to_owned()
}

#[tokio::test]
async fn a_booking_paid_from_the_wallet_is_confirmed_and_debited_once() {
    let cloud = Cloud::connect().await;
    let (slot, customer, mut touched) = setup(&cloud, 10, 20_000).await;

    let booking = cloud.book_paid(&customer, &slot, 2, &wallet()).await;
    assert_eq!(booking["status"], "PENDING");
    assert_eq!(booking["payment"], "WALLET");
    touched.bookings.insert(id(&booking));
    let done = cloud.wait_terminal(&customer.token, &id(&booking)).await;

    assert_eq!(done["status"], "CONFIRMED");
    let wallet = cloud.wallet(&customer.token).await;
    assert_eq!(wallet["balance"], 20_000 - 10_000);
    let debits: Vec<&Value> = wallet["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "PAYMENT")
        .collect();
    assert_eq!(debits.len(), 1);
    assert_eq!(debits[0]["points"], -10_000);
    assert_eq!(debits[0]["booking_id"], id(&booking));
    let history = cloud.history(&customer.token, &id(&booking)).await;
    let steps: Vec<&str> = history.iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(steps, ["PENDING", "CONFIRMED"], "{history:?}");
    assert!(history[1]["reason"].as_str().unwrap().contains("paid"));
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn a_short_balance_fails_the_booking_gives_the_places_back_and_debits_nothing() {
    let cloud = Cloud::connect().await;
    let (slot, customer, mut touched) = setup(&cloud, 4, 4_999).await;

    let booking = cloud.book_paid(&customer, &slot, 1, &wallet()).await;
    touched.bookings.insert(id(&booking));
    let done = cloud.wait_terminal(&customer.token, &id(&booking)).await;

    assert_eq!(done["status"], "FAILED");
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);
    let wallet = cloud.wallet(&customer.token).await;
    assert_eq!(wallet["balance"], 4_999);
    assert_eq!(
        wallet["ledger"].as_array().unwrap().len(),
        1,
        "only the top-up"
    );
    let history = cloud.history(&customer.token, &id(&booking)).await;
    let last = history.last().unwrap();
    assert_eq!(last["to"], "FAILED");
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("INSUFFICIENT_FUNDS"),
        "{last}"
    );
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn a_card_payment_is_charged_once_and_a_declined_card_fails_the_booking() {
    let cloud = Cloud::connect().await;
    let (slot, customer, mut touched) = setup(&cloud, 5, 0).await;

    let paid = cloud
        .book_paid(&customer, &slot, 1, &card("tok_visa"))
        .await;
    let declined = cloud
        .book_paid(&customer, &slot, 1, &card("tok_declined"))
        .await;
    touched.bookings.extend([id(&paid), id(&declined)]);

    let paid_done = cloud.wait_terminal(&customer.token, &id(&paid)).await;
    let declined_done = cloud.wait_terminal(&customer.token, &id(&declined)).await;
    assert_eq!(paid_done["status"], "CONFIRMED");
    assert_eq!(declined_done["status"], "FAILED");
    let charge = cloud.gateway_charge(&id(&paid)).await.expect("a charge");
    assert_eq!(charge["amount_cents"], 5000);
    assert!(cloud.gateway_charge(&id(&declined)).await.is_none());
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn cancelling_a_confirmed_booking_refunds_by_policy_to_the_wallet() {
    let cloud = Cloud::connect().await;
    // The slot is ten days or more away: the policy's full refund.
    let (slot, customer, mut touched) = setup(&cloud, 3, 10_000).await;
    let booking = cloud.book_paid(&customer, &slot, 1, &wallet()).await;
    let price = booking["price_cents"].as_u64().unwrap();
    touched.bookings.insert(id(&booking));
    cloud.wait_terminal(&customer.token, &id(&booking)).await;
    let percent = cloud.refund_percent_now(&slot);
    assert_eq!(percent, 100, "a slot this far away is refunded in full");
    let refunded = shared::payment::share(price, percent);

    let res = cloud
        .post(
            &format!("/bookings/{}/cancel", id(&booking)),
            &json!({}),
            Some(&customer.token),
        )
        .await;
    assert_eq!(res.status(), 200);

    let wallet = eventually("the refund in the wallet", PATIENCE, || async {
        let wallet = cloud.wallet(&customer.token).await;
        (wallet["balance"] == 10_000 - price + refunded).then_some(wallet)
    })
    .await;
    let refunds = wallet["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "REFUND")
        .count();
    assert_eq!(refunds, 1);
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 3);
    let history = eventually("the refund in the history", PATIENCE, || async {
        let history = cloud.history(&customer.token, &id(&booking)).await;
        history
            .iter()
            .any(|h| {
                h["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("refunded")
            })
            .then_some(history)
    })
    .await;
    let steps: Vec<&str> = history.iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(steps, ["PENDING", "CONFIRMED", "CANCELLED", "CANCELLED"]);
    cloud.reconcile(&touched).await;
}

/// The queues each event type is routed to (besides the event log).
fn consumers_of(event_type: &str) -> &'static [&'static str] {
    match event_type {
        "BookingCreated" => &["PaymentProcessorQueue"],
        "BookingCancelled" | "BookingExpired" => &["PaymentRefunderQueue"],
        "PaymentCompleted" | "PaymentFailed" | "PaymentRefunded" => &["BookingConfirmationQueue"],
        _ => &[],
    }
}

/// What duplicates must not change: wallets, histories, payments, charges.
async fn snapshot(cloud: &Cloud, customers: &[&Customer], bookings: &[(String, String)]) -> Value {
    let mut wallets = Vec::new();
    for c in customers {
        wallets.push(cloud.wallet(&c.token).await);
    }
    let mut histories = Vec::new();
    for (token, id) in bookings {
        histories.push(json!({
            "booking": cloud.booking(token, id).await,
            "history": cloud.history(token, id).await,
            "charge": cloud.gateway_charge(id).await,
        }));
    }
    json!({ "wallets": wallets, "bookings": histories })
}

#[tokio::test]
async fn every_consumer_receiving_every_event_twice_changes_nothing() {
    let cloud = Cloud::connect().await;
    let (slot, walleted, mut touched) = setup(&cloud, 10, 30_000).await;
    let carded = cloud.customer(0).await;
    let broke = cloud.customer(100).await;
    touched
        .users
        .extend([carded.account.id.clone(), broke.account.id.clone()]);

    // Given: a confirmed wallet booking, a card booking confirmed and then
    // cancelled (refunded), and a failed one.
    let confirmed = cloud.book_paid(&walleted, &slot, 2, &wallet()).await;
    let refunded = cloud.book_paid(&carded, &slot, 1, &card("tok_visa")).await;
    let failed = cloud.book_paid(&broke, &slot, 1, &wallet()).await;
    let all = [
        (walleted.token.clone(), id(&confirmed)),
        (carded.token.clone(), id(&refunded)),
        (broke.token.clone(), id(&failed)),
    ];
    for (token, booking) in &all {
        touched.bookings.insert(booking.clone());
        cloud.wait_terminal(token, booking).await;
    }
    let res = cloud
        .post(
            &format!("/bookings/{}/cancel", id(&refunded)),
            &json!({}),
            Some(&carded.token),
        )
        .await;
    assert_eq!(res.status(), 200);
    let back = shared::payment::share(
        refunded["price_cents"].as_u64().unwrap(),
        cloud.refund_percent_now(&slot),
    );
    eventually("the card refund", PATIENCE, || async {
        let charge = cloud.gateway_charge(&id(&refunded)).await?;
        (charge["refunded_cents"] == back).then_some(())
    })
    .await;
    eventually("the refund noted in the history", PATIENCE, || async {
        let h = cloud.history(&carded.token, &id(&refunded)).await;
        (h.len() == 4).then_some(())
    })
    .await;
    let before = snapshot(&cloud, &[&walleted, &carded, &broke], &all).await;

    // When: every event of these bookings reaches each of its consumers twice more.
    let mut sent = 0;
    for (_, booking) in &all {
        for (source, envelope) in cloud.logged_envelopes_mentioning(booking).await {
            for queue in consumers_of(envelope.event_type.as_str()) {
                let url = cloud.reference(queue);
                for _ in 0..2 {
                    cloud
                        .sqs
                        .send_message()
                        .queue_url(&url)
                        .message_body(system_tests::bus_event(&source, &envelope))
                        .send()
                        .await
                        .unwrap();
                    sent += 1;
                }
            }
        }
    }
    assert!(sent >= 2 * 9, "only {sent} redeliveries");
    for queue in [
        "PaymentProcessorQueue",
        "PaymentRefunderQueue",
        "BookingConfirmationQueue",
    ] {
        let url = cloud.reference(queue);
        eventually(&format!("{queue} drained"), PATIENCE, || async {
            (cloud.queue_depth(&url).await == 0).then_some(())
        })
        .await;
    }

    // Then: nothing changed: no second debit, charge, refund, confirmation or note.
    let after = snapshot(&cloud, &[&walleted, &carded, &broke], &all).await;
    assert_eq!(before, after);
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn wallet_top_ups_are_validated_idempotent_and_paged() {
    let cloud = Cloud::connect().await;
    let customer = cloud.customer(0).await;

    for bad in [
        json!({"points": 0, "card_token": "tok_visa"}),
        json!({"points": -5, "card_token": "tok_visa"}),
        json!({"points": 1_000_001, "card_token": "tok_visa"}),
        json!({"points": "10", "card_token": "tok_visa"}),
        json!({"points": 10, "card_token": "4242424242424242"}),
        json!({"points": 10}),
        json!({"amount": 10}),
    ] {
        let res = cloud
            .http
            .post(cloud.url("/wallet/charge"))
            .bearer_auth(&customer.token)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert!(body["code"].is_string());
    }
    let no_key = cloud
        .post(
            "/wallet/charge",
            &json!({"points": 10}),
            Some(&customer.token),
        )
        .await;
    assert_eq!(no_key.status(), 400);
    let anonymous = cloud
        .post("/wallet/charge", &json!({"points": 10}), None)
        .await;
    assert_eq!(anonymous.status(), 401);

    let key = uuid::Uuid::new_v4().to_string();
    let answers =
        futures::future::join_all((0..5).map(|_| cloud.top_up(&customer.token, 700, &key))).await;
    for res in answers {
        assert_eq!(res.status(), 201);
    }
    let other_body = cloud.top_up(&customer.token, 701, &key).await;
    assert_eq!(other_body.status(), 422);
    for i in 0..4 {
        let res = cloud
            .top_up(&customer.token, 100 + i, &uuid::Uuid::new_v4().to_string())
            .await;
        assert_eq!(res.status(), 201);
    }

    let wallet = cloud.wallet(&customer.token).await;
    assert_eq!(wallet["balance"], 700 + 100 + 101 + 102 + 103);
    assert_eq!(wallet["ledger"].as_array().unwrap().len(), 5);
    let page = |cursor: Option<String>| {
        let cloud = &cloud;
        let token = customer.token.clone();
        async move {
            let mut url = cloud.url("/wallet?limit=2");
            if let Some(c) = cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let res = cloud.http.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let p = page(cursor).await;
        for e in p["ledger"].as_array().unwrap() {
            seen.push(e["entry_id"].as_str().unwrap().to_owned());
        }
        cursor = p["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 5);
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
    let res = cloud
        .http
        .get(cloud.url("/wallet?cursor=not-a-cursor"))
        .bearer_auth(&customer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Another customer sees only their own, empty wallet.
    let stranger = cloud.customer(0).await;
    let theirs = cloud.wallet(&stranger.token).await;
    assert_eq!(theirs["balance"], 0);
    assert!(theirs["ledger"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_paid_booking_cannot_be_changed_and_a_bad_card_token_is_refused() {
    let cloud = Cloud::connect().await;
    let (slot, customer, _) = setup(&cloud, 5, 20_000).await;
    let booking = cloud.book_paid(&customer, &slot, 1, &wallet()).await;
    cloud.wait_terminal(&customer.token, &id(&booking)).await;
    let res = cloud
        .http
        .patch(cloud.url(&format!("/bookings/{}", id(&booking))))
        .bearer_auth(&customer.token)
        .json(&json!({ "quantity": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "NOT_MODIFIABLE");

    let res = cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(&customer.token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": 1,
                       "payment": { "method": "card", "card_token": "4242424242424242" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_CARD_TOKEN");
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);
}

#[tokio::test]
async fn dead_letter_routes_are_for_admins_only() {
    let cloud = Cloud::connect().await;
    let user = cloud.user_token().await;
    let admin = cloud.admin_token().await;
    for (method, path) in [
        ("GET", "/admin/dead-letters"),
        ("GET", "/admin/dead-letters/payment-processor"),
        ("POST", "/admin/dead-letters/payment-processor/redrive"),
    ] {
        let req = |token: &str| {
            cloud
                .http
                .request(method.parse().unwrap(), cloud.url(path))
                .bearer_auth(token.to_owned())
        };
        assert_eq!(req(&user).send().await.unwrap().status(), 403, "{path}");
        let anonymous = cloud
            .http
            .request(method.parse().unwrap(), cloud.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
        if method == "GET" {
            assert_eq!(req(&admin).send().await.unwrap().status(), 200, "{path}");
        }
    }
    let res = cloud
        .http
        .get(cloud.url("/admin/dead-letters"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    for queue in [
        "payment-processor",
        "payment-refunder",
        "booking-confirmation",
        "event-log",
    ] {
        assert!(body["queues"][queue].is_u64(), "{body}");
    }
    let unknown = cloud
        .http
        .get(cloud.url("/admin/dead-letters/nope"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_cancellation_thirty_hours_ahead_refunds_the_policy_share_of_a_card_payment() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    // 30 hours ahead is inside the default policy's middle tier
    // (72h=100,24h=50): half back.
    let start = Today::at_venue().start_in(30);
    let slot = cloud
        .new_slot_at(&admin, 2, &start.date_str(), &start.time_str())
        .await;
    let customer = cloud.customer(0).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    touched.users.insert(customer.account.id.clone());

    let booking = cloud
        .book_paid(&customer, &slot, 1, &card("tok_visa"))
        .await;
    let price = booking["price_cents"].as_u64().unwrap();
    touched.bookings.insert(id(&booking));
    assert_eq!(
        cloud.wait_terminal(&customer.token, &id(&booking)).await["status"],
        "CONFIRMED"
    );
    let res = cloud
        .post(
            &format!("/bookings/{}/cancel", id(&booking)),
            &json!({}),
            Some(&customer.token),
        )
        .await;
    let percent = cloud.refund_percent_now(&slot);
    assert!(
        percent > 0 && percent < 100,
        "a partial share, not {percent}%"
    );
    assert_eq!(res.status(), 200);

    let charge = eventually("the partial refund at the gateway", PATIENCE, || async {
        let charge = cloud.gateway_charge(&id(&booking)).await?;
        (charge["refunded_cents"].as_u64() > Some(0)).then_some(charge)
    })
    .await;
    assert_eq!(charge["amount_cents"].as_u64(), Some(price));
    assert_eq!(
        charge["refunded_cents"].as_u64(),
        Some(shared::payment::share(price, percent))
    );
    let history = eventually("the refund in the history", PATIENCE, || async {
        let history = cloud.history(&customer.token, &id(&booking)).await;
        (history.len() == 4).then_some(history)
    })
    .await;
    assert!(
        history[2]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("{percent}% refunded")),
        "{history:?}"
    );
    cloud.reconcile(&touched).await;
}

//! Money never appears from nowhere, and a card token lives only where the
//! payment needs it, through the running local cloud: a top-up is a card
//! charge at the gateway before it is points; only an administrator with
//! `wallet:grant` adds points without one, with a reason, as admin
//! activity; and after a card booking the token is nowhere in the table,
//! the event log or the queues.

use serde_json::{Value, json};
use system_tests::saga::Touched;
use system_tests::{Cloud, PATIENCE, eventually};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_top_up_is_a_confirmed_card_charge_and_a_declined_card_adds_nothing() {
    let cloud = Cloud::connect().await;
    let customer = cloud.customer(0).await;
    let first = key();
    let res = cloud.top_up(&customer.token, 2_500, &first).await;
    assert_eq!(res.status(), 201);
    let entry: Value = res.json().await.unwrap();
    let charge = cloud
        .gateway_charge(&format!("topup:{}:{first}", customer.account.id))
        .await
        .expect("the gateway charged the card");
    assert_eq!(charge["amount_cents"], 2_500);
    assert_eq!(entry["charge_id"], charge["charge_id"]);
    assert_eq!(entry["kind"], "TOP_UP");

    let res = cloud
        .top_up_with(&customer.token, 1_000, "tok_declined", &key())
        .await;
    assert_eq!(res.status(), 402);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "CARD_DECLINED");
    let wallet = cloud.wallet(&customer.token).await;
    assert_eq!(wallet["balance"], 2_500);
    assert_eq!(wallet["ledger"].as_array().unwrap().len(), 1);
    let logged = eventually("WalletCharged in the event log", PATIENCE, || async {
        let n = cloud
            .logged_events_mentioning("WalletCharged", &customer.account.id)
            .await;
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(logged, 1, "one credit, one event");
}

#[tokio::test]
async fn only_a_wallet_grant_adds_points_without_a_card_and_it_is_admin_activity() {
    let cloud = Cloud::connect().await;
    let customer = cloud.customer(0).await;
    let path = format!("/admin/wallets/{}/grant", customer.account.id);
    let grant = |token: String, body: Value, idem: String| {
        let req = cloud
            .http
            .post(cloud.url(&path))
            .bearer_auth(token)
            .header("idempotency-key", idem)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let goodwill = json!({ "points": 500, "reason": "rain stopped play" });
    let res = grant(customer.token.clone(), goodwill.clone(), key()).await;
    assert_eq!(res.status(), 403, "a customer cannot grant herself points");

    let admin = cloud.admin_token().await;
    let res = grant(admin.clone(), json!({ "points": 500 }), key()).await;
    assert_eq!(res.status(), 400, "a grant needs a reason");
    let once = key();
    for _ in 0..2 {
        let res = grant(admin.clone(), goodwill.clone(), once.clone()).await;
        assert_eq!(res.status(), 201);
    }
    let wallet = cloud.wallet(&customer.token).await;
    assert_eq!(wallet["balance"], 500);
    let entry = &wallet["ledger"][0];
    assert_eq!(
        (&entry["kind"], &entry["reason"]),
        (&json!("GRANT"), &json!("rain stopped play"))
    );
    let logged = eventually("the grant in the admin activity", PATIENCE, || async {
        let n = cloud
            .logged_events_mentioning("AdminActivity", &customer.account.id)
            .await;
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(logged, 1);
}

/// How many messages in any queue of the cloud mention `needle`.
async fn queued_mentioning(cloud: &Cloud, needle: &str) -> usize {
    let queues = cloud
        .sqs
        .list_queues()
        .send()
        .await
        .expect("listing queues");
    let mut count = 0;
    for url in queues.queue_urls() {
        count += cloud.peek(url, needle).await.len();
    }
    count
}

#[tokio::test]
async fn a_card_token_is_kept_only_in_the_payment_intent_and_gone_once_paid() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let customer = cloud.customer(0).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    touched.users.insert(customer.account.id.clone());
    // A token of this test alone, so any copy of it is this booking's.
    let token = format!("tok_{}", uuid::Uuid::new_v4().simple());
    let card = json!({ "method": "card", "card_token": token });
    let booking = cloud.book_paid(&customer, &slot, 1, &card).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(id.clone());
    assert_eq!(booking["payment"], "CARD");
    assert!(!booking.to_string().contains(&token), "{booking}");
    let done = cloud.wait_terminal(&customer.token, &id).await;
    assert_eq!(done["status"], "CONFIRMED");

    let created = eventually("BookingCreated in the event log", PATIENCE, || async {
        let n = cloud.logged_events_mentioning("BookingCreated", &id).await;
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(created, 1);
    let copies = cloud.items_mentioning(&[&token]).await;
    assert!(
        copies.is_empty(),
        "the token is stored at {copies:?}; only the intent may hold it, and only until the payment is recorded"
    );
    assert_eq!(queued_mentioning(&cloud, &token).await, 0);
    cloud.reconcile(&touched).await;
}

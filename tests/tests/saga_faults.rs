//! The saga under faults, through the running local cloud: consumer
//! processes killed in the middle of a batch, moto or LocalStack (SQS and
//! EventBridge) frozen with SIGSTOP and resumed, and a card payment that lands after its
//! hold expired. Every run ends with every booking terminal and the
//! reconciliation check passing.
//!
//! These tests run one at a time: each disturbs the whole cloud.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use system_tests::saga::{Customer, Touched, all_terminal};
use system_tests::{Cloud, eventually};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a disturbed saga may take to settle.
const SETTLE: Duration = Duration::from_secs(120);

async fn customers(cloud: &Cloud, n: usize, points: u64, touched: &mut Touched) -> Vec<Customer> {
    let mut out = Vec::new();
    for _ in 0..n {
        let c = cloud.customer(points).await;
        touched.users.insert(c.account.id.clone());
        out.push(c);
    }
    out
}

/// `count` wallet bookings of one place, spread over `customers`, sent
/// concurrently; returns booking id -> token.
async fn book_many(
    cloud: &Cloud,
    customers: &[Customer],
    slot: &str,
    count: usize,
) -> BTreeMap<String, String> {
    let wallet = json!({ "method": "wallet" });
    let answers = futures::future::join_all((0..count).map(|i| {
        let customer = &customers[i % customers.len()];
        let wallet = wallet.clone();
        async move {
            let booking = cloud.book_paid(customer, slot, 1, &wallet).await;
            (
                booking["id"].as_str().unwrap().to_owned(),
                customer.token.clone(),
            )
        }
    }))
    .await;
    answers.into_iter().collect()
}

fn signal(pid: u64, sig: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{sig} {pid}");
}

#[tokio::test]
async fn consumers_killed_in_the_middle_of_a_batch_lose_and_double_nothing() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 30).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    // 6 customers with room for 3 bookings each, 24 bookings: 6 must fail.
    let customers = customers(&cloud, 6, 15_000, &mut touched).await;

    for consumer in [
        "payment-processor",
        "booking-confirmation",
        "payment-processor",
    ] {
        cloud.kill_next_invocation(consumer).await;
    }
    let bookings = book_many(&cloud, &customers, &slot, 24).await;
    touched.bookings.extend(bookings.keys().cloned());
    all_terminal(&cloud, &bookings, SETTLE).await;

    let mut confirmed = 0;
    for (id, token) in &bookings {
        if cloud.booking(token, id).await["status"] == "CONFIRMED" {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 18, "each wallet pays exactly 3 bookings");
    for c in &customers {
        assert_eq!(cloud.wallet(&c.token).await["balance"], 0);
    }
    let pool = cloud.function("payment-processor").await;
    assert!(
        pool["restarts"].as_u64().unwrap() > 0,
        "the processor was killed: {pool}"
    );
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn a_saga_frozen_by_a_paused_moto_finishes_once_moto_resumes() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    // moto's, or the LocalStack the local cloud started (one it was only
    // pointed at is not its to pause).
    let Some(moto) = cloud.state["pids"]["aws"].as_u64() else {
        system_tests::skipped(
            "a_saga_frozen_by_a_paused_moto_finishes_once_moto_resumes",
            &format!(
                "the local cloud did not start its AWS emulator ({}), so it cannot pause it",
                cloud.state["aws"]
            ),
        );
        return;
    };
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 40).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    let customers = customers(&cloud, 5, 100_000, &mut touched).await;

    let first = book_many(&cloud, &customers, &slot, 10).await;
    // Freeze SQS and EventBridge while the first sagas are in flight, and
    // book more while they are frozen (bookings need only DynamoDB).
    signal(moto, "STOP");
    let frozen = book_many(&cloud, &customers, &slot, 10).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut pending = 0;
    for (id, token) in &frozen {
        if cloud.booking(token, id).await["status"] == "PENDING" {
            pending += 1;
        }
    }
    signal(moto, "CONT");
    assert!(pending > 0, "with moto frozen, some sagas must wait");

    let mut all = first;
    all.extend(frozen);
    touched.bookings.extend(all.keys().cloned());
    all_terminal(&cloud, &all, SETTLE).await;
    for (id, token) in &all {
        assert_eq!(
            cloud.booking(token, id).await["status"],
            "CONFIRMED",
            "{id}"
        );
    }
    cloud.reconcile(&touched).await;
}

#[tokio::test]
async fn a_card_payment_landing_after_its_hold_expired_is_refunded_and_never_revives_the_booking() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 3).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    let customer = customers(&cloud, 1, 0, &mut touched).await.remove(0);

    // The gateway answers too late: the processor gives up on each attempt
    // (its outcome unknown) while the gateway still makes the charge.
    cloud
        .gateway_mode(&json!({ "mode": "slow", "delay_ms": 4000 }))
        .await;
    let booking = cloud
        .book_paid(
            &customer,
            &slot,
            1,
            &json!({ "method": "card", "card_token": "tok_visa" }),
        )
        .await;
    let id = booking["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(id.clone());
    eventually(
        "the charge made at the gateway",
        Duration::from_secs(60),
        || async { cloud.gateway_charge(&id).await },
    )
    .await;
    assert_eq!(
        cloud.booking(&customer.token, &id).await["status"],
        "PENDING"
    );

    // The hold expires before the platform learns of the charge.
    let later = chrono::Utc::now() + chrono::Duration::minutes(20);
    cloud.sweep_as_of(later).await;
    assert_eq!(
        cloud.booking(&customer.token, &id).await["status"],
        "EXPIRED"
    );
    cloud.gateway_mode(&json!({ "mode": "ok" })).await;

    let charge = eventually("the late charge refunded", SETTLE, || async {
        let charge = cloud.gateway_charge(&id).await?;
        (charge["refunded_cents"] == charge["amount_cents"]).then_some(charge)
    })
    .await;
    assert_eq!(charge["amount_cents"], 5000);
    let booking: Value = cloud.booking(&customer.token, &id).await;
    assert_eq!(
        booking["status"], "EXPIRED",
        "a late payment never revives a booking"
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 3);
    cloud.reconcile(&touched).await;
}

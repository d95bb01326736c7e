//! Hold expiry. The sweeper judges holds as of its schedule's time, so these
//! tests sweep "an hour from now" instead of waiting 15 minutes. Alone in
//! its test binary: a sweep expires every due hold, other tests' included.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use system_tests::Cloud;

/// A sweep "an hour from now" expires every hold in the table: the tests of
/// this binary take turns, so one's sweep never lands inside another's
/// "not due yet" check.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn an_unpaid_hold_expires_and_gives_its_places_back() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 5).await;
    let token = cloud.user_token().await;
    let booking: Value = cloud
        .book(&token, &slot, 2, "expiry-key-0001")
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());

    // Not due yet: the sweep leaves it alone.
    cloud.sweep_as_of(Utc::now()).await;
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 3);

    let sweep = cloud.sweep_as_of(Utc::now() + Duration::hours(1)).await;
    assert_eq!(sweep["outcome"], "ok", "{sweep}");
    assert!(
        sweep["payload"]["expired"].as_u64().unwrap() >= 1,
        "{sweep}"
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 5);
    let res = cloud
        .http
        .get(cloud.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "EXPIRED");

    // A second sweep changes nothing; a cancel of an expired booking is refused.
    cloud.sweep_as_of(Utc::now() + Duration::hours(1)).await;
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 5);
    let res = cloud
        .post(&format!("{path}/cancel"), &json!({}), Some(&token))
        .await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn expiry_racing_a_cancel_gives_the_places_back_exactly_once() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let token = cloud.user_token().await;
    for round in 0..5 {
        let slot = cloud.new_slot(&admin, 4).await;
        let key = format!("race-key-{round:04}-{}", uuid::Uuid::new_v4());
        let booking: Value = cloud
            .book(&token, &slot, 3, &key)
            .await
            .json()
            .await
            .unwrap();
        let path = format!("/bookings/{}", booking["id"].as_str().unwrap());
        let (cancel_path, empty) = (format!("{path}/cancel"), json!({}));
        let cancel = cloud.post(&cancel_path, &empty, Some(&token));
        let sweep = cloud.sweep_as_of(Utc::now() + Duration::hours(1));
        let (cancelled, _) = tokio::join!(cancel, sweep);
        assert!([200, 409].contains(&cancelled.status().as_u16()));
        assert_eq!(
            cloud.slot_view(&slot).await["remaining"],
            4,
            "round {round}"
        );
        let res = cloud
            .http
            .get(cloud.url(&format!("{path}/history")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let history: Value = res.json().await.unwrap();
        let releases = history["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["to"] != "PENDING")
            .count();
        assert_eq!(releases, 1, "round {round}: {history}");
    }
}

/// Holds `count` places of `slot`, one per booking, spread over fresh
/// customers, straight through the booking service against the cloud's
/// table (an HTTP request per hold would only slow the test down).
async fn many_holds(cloud: &Cloud, slot: &str, count: usize) {
    use futures::StreamExt;
    use shared::adapters::dynamo::booking::DynamoBookings;
    use shared::adapters::dynamo::catalog::DynamoCatalog;
    use shared::booking::service::{self, Attempt};
    use shared::booking::{BookingRequest, IdempotencyKey};
    use shared::identity::UserId;
    let bookings = DynamoBookings::new(cloud.dynamodb.clone(), cloud.table());
    let catalog = DynamoCatalog::new(cloud.dynamodb.clone(), cloud.table());
    let request = BookingRequest::Counted {
        slot_id: slot.to_owned(),
        quantity: 1,
        holes: None,
        payment: None,
    }
    .validate()
    .unwrap();
    let users: Vec<UserId> = (0..count / 5 + 1).map(|_| UserId::generate()).collect();
    let held = futures::stream::iter(0..count)
        .map(|i| {
            let (bookings, catalog, request, user) = (&bookings, &catalog, &request, &users[i / 5]);
            async move {
                let key = IdempotencyKey::parse(Some(&uuid::Uuid::new_v4().to_string())).unwrap();
                let attempt = Attempt {
                    user,
                    key: &key,
                    fingerprint: "many-holds",
                    hold: Duration::minutes(15),
                    cutoff: Duration::zero(),
                    correlation_id: &shared::CorrelationId::generate(),
                    now: Utc::now(),
                    payment: None,
                    limits: None,
                };
                service::create(bookings, catalog, &attempt, request).await
            }
        })
        .buffer_unordered(16)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    assert_eq!(held, count, "every hold taken");
}

#[tokio::test]
async fn one_sweep_releases_a_whole_minutes_lapsed_holds_not_just_one_page() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 1000).await;
    // More than the sweeper reads in one page (200), as a busy minute of a
    // sale leaves behind.
    many_holds(&cloud, &slot, 650).await;
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 350);

    let sweep = cloud.sweep_as_of(Utc::now() + Duration::hours(1)).await;
    assert_eq!(sweep["outcome"], "ok", "{sweep}");
    assert!(
        sweep["payload"]["expired"].as_u64().unwrap() >= 650,
        "{sweep}"
    );
    assert_eq!(
        cloud.slot_view(&slot).await["remaining"],
        1000,
        "one run gave every lapsed place back"
    );
}

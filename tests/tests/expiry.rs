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
async fn many_holds(cloud: &Cloud, slot: &str, count: usize) -> Vec<shared::booking::Booking> {
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
                    pass_token: None,
                    passes: None,
                };
                service::create(bookings, catalog, &attempt, request).await
            }
        })
        .buffer_unordered(16)
        .filter_map(|r| async move {
            match r {
                Ok(service::Created::New(booking)) => Some(*booking),
                _ => None,
            }
        })
        .collect::<Vec<_>>()
        .await;
    assert_eq!(held.len(), count, "every hold taken");
    held
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
    // 1,300 events (the holds and their expiries) are on their way to the
    // bus: leave no backlog behind for the tests after this one.
    cloud.wait_for_the_pipeline().await;
}

/// A customer's counter: `places` of `SLOT#<slot>` or `pending` of `HOLDS`.
async fn usage(cloud: &Cloud, user: &str, sort_key: &str, field: &str) -> i64 {
    use aws_sdk_dynamodb::types::AttributeValue;
    let item = cloud
        .dynamodb
        .get_item()
        .table_name(cloud.table())
        .key("PK", AttributeValue::S(format!("USAGE#{user}")))
        .key("SK", AttributeValue::S(sort_key.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let value = item.item().and_then(|i| i.get(field)).cloned();
    value.map_or(0, |v| v.as_n().unwrap().parse().unwrap())
}

#[tokio::test]
async fn lapsed_holds_released_together_when_one_moved_meanwhile_count_every_place_once() {
    use shared::adapters::dynamo::booking::DynamoBookings;
    use shared::booking::BookingStatus;
    use shared::booking::events::EndedAs;
    use shared::booking::ports::{BookingStore, Release};
    let _turn = ONE_AT_A_TIME.lock().await;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 60).await;
    // Five holds per customer: the batch writes each customer's counters
    // once for all five.
    let holds = many_holds(&cloud, &slot, 45).await;
    let bookings = DynamoBookings::new(cloud.dynamodb.clone(), cloud.table());
    let correlation_id = shared::CorrelationId::generate();
    let later = Utc::now() + Duration::hours(1);

    // One of them is cancelled after the sweeper read its page.
    let moved = &holds[20];
    let cancel = Release {
        from: &[BookingStatus::Pending],
        to: BookingStatus::Cancelled,
        by: "the customer",
        reason: "cancelled by the customer",
        ended_as: EndedAs::Cancelled,
        correlation_id: &correlation_id,
        now: Utc::now(),
        refund_percent: 100,
    };
    bookings.release(moved, &cancel).await.unwrap();

    let expiry = Release {
        from: &[BookingStatus::Pending],
        to: BookingStatus::Expired,
        by: "sweeper",
        reason: "the hold expired unpaid",
        ended_as: EndedAs::Expired,
        correlation_id: &correlation_id,
        now: later,
        refund_percent: 100,
    };
    let answers = bookings.release_together(&holds, &expiry).await;
    assert_eq!(answers.len(), holds.len());
    for (i, answer) in answers.iter().enumerate() {
        match answer {
            Ok(released) => {
                assert_ne!(i, 20, "the cancelled hold is not expired too");
                assert_eq!(released.status, BookingStatus::Expired);
            }
            Err(e) => {
                assert_eq!(i, 20, "only the cancelled hold is refused: {e:?}");
                assert_eq!(e.status(), 409);
            }
        }
    }
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 60);
    for hold in &holds {
        let user = hold.user_id.to_string();
        assert_eq!(
            usage(&cloud, &user, &format!("SLOT#{slot}"), "places").await,
            0
        );
        assert_eq!(usage(&cloud, &user, "HOLDS", "pending").await, 0);
    }
    // The same batch again finds nothing left to release.
    let again = bookings.release_together(&holds, &expiry).await;
    assert!(again.iter().all(Result::is_err));
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 60);
}

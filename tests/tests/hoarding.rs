//! No customer hoards a sale, through the running local cloud: the
//! per-customer limits (10 live places of one slot, 10 unpaid holds, the
//! template's defaults) hold under concurrency because the booking's
//! transaction counts them, not a read before it.

use serde_json::Value;
use system_tests::Cloud;

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn code(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("-").to_owned())
}

/// Books as the README tells a client to: a 503 `CONTENTION` (the
/// transaction kept meeting concurrent ones) is sent again with the same
/// key after its `Retry-After`.
async fn book(cloud: &Cloud, token: &str, slot: &str, quantity: u32) -> (u16, String) {
    let key = key();
    for _ in 0..5 {
        let answer = code(cloud.book(token, slot, quantity, &key).await).await;
        if answer != (503, "CONTENTION".to_owned()) {
            return answer;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    (503, "CONTENTION".to_owned())
}

#[tokio::test]
async fn one_customer_holds_at_most_ten_places_of_a_slot_however_many_requests_race() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 50).await;
    let token = cloud.user_token().await;
    // Eight requests of two places at once: sixteen asked, ten allowed.
    let answers: Vec<(u16, String)> = futures::future::join_all((0..8).map(|_| {
        let (cloud, token, slot) = (&cloud, &token, &slot);
        async move { book(cloud, token, slot, 2).await }
    }))
    .await;
    let held = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(held, 5, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| a.0 == 201 || (a.0, a.1.as_str()) == (409, "PLACES_LIMIT")),
        "{answers:?}"
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 40);

    // One booking of more than the limit is refused outright.
    let other = cloud.user_token().await;
    let res = cloud.book(&other, &slot, 11, &key()).await;
    assert_eq!(
        code(res).await.0,
        400,
        "11 is over the most one booking takes"
    );

    // Cancelling gives the places back to the customer's allowance too.
    let bookings: Value = cloud
        .http
        .get(cloud.url("/bookings?limit=100"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = bookings["bookings"][0]["id"].as_str().unwrap().to_owned();
    let res = cloud
        .post(
            &format!("/bookings/{first}/cancel"),
            &serde_json::json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        code(cloud.book(&token, &slot, 2, &key()).await).await.0,
        201
    );
    assert_eq!(
        code(cloud.book(&token, &slot, 1, &key()).await).await,
        (409, "PLACES_LIMIT".to_owned())
    );

    // Staff booking for customers are not held to it.
    for _ in 0..2 {
        assert_eq!(
            code(cloud.book(&admin, &slot, 8, &key()).await).await.0,
            201
        );
    }
}

#[tokio::test]
async fn one_customer_has_at_most_ten_unpaid_holds_at_once() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let first = cloud.new_slot(&admin, 5).await;
    let (resource, when) = first.split_once('@').unwrap();
    let (date, _) = when.split_once('T').unwrap();
    let mut slots = vec![first.clone()];
    for hour in 9..21 {
        slots.push(
            cloud
                .slot_of(&admin, resource, 5, date, &format!("{hour:02}:00"))
                .await,
        );
    }
    let token = cloud.user_token().await;
    // Thirteen holds of one place on thirteen slots, at once.
    let answers: Vec<(u16, String)> = futures::future::join_all(slots.iter().map(|slot| {
        let (cloud, token) = (&cloud, &token);
        async move { book(cloud, token, slot, 1).await }
    }))
    .await;
    let held = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(held, 10, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| a.0 == 201 || (a.0, a.1.as_str()) == (409, "TOO_MANY_HOLDS")),
        "{answers:?}"
    );
    let remaining: u64 = futures::future::join_all(slots.iter().map(|s| cloud.slot_view(s)))
        .await
        .iter()
        .map(|v| v["remaining"].as_u64().unwrap())
        .sum();
    assert_eq!(remaining, 13 * 5 - 10, "refused holds take nothing");
}

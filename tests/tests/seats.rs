//! Seated slots through the running local cloud: no seat is ever booked
//! twice, and cancelling frees the seats.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use system_tests::Cloud;

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// 20 seats: row A (tier A, 9000) and row B (tier B, 5000), 10 each.
fn seat_map() -> Value {
    let seats: Vec<Value> = ["A", "B"]
        .iter()
        .flat_map(|row| {
            (1..=10).map(
                move |n| json!({ "id": format!("{row}-{n}"), "section": "Stalls", "tier": row }),
            )
        })
        .collect();
    json!({ "tiers": { "A": 9000, "B": 5000 }, "seats": seats })
}

async fn seated_slot(cloud: &Cloud, admin: &str) -> String {
    let slot = cloud.new_slot(admin, 100).await;
    let url = cloud.url(&format!("/admin/slots/{slot}/seats"));
    let res = cloud
        .http
        .put(&url)
        .bearer_auth(admin)
        .json(&seat_map())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let summary: Value = res.json().await.unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["capacity"].as_u64()),
        (Some(20), Some(20))
    );
    // Sending it again changes nothing.
    let again: Value = cloud
        .http
        .put(&url)
        .bearer_auth(admin)
        .json(&seat_map())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(20))
    );
    slot
}

async fn book_seats(cloud: &Cloud, token: &str, slot: &str, seats: &[&str]) -> reqwest::Response {
    cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", key())
        .json(&json!({ "kind": "seated", "slot_id": slot, "seat_ids": seats }))
        .send()
        .await
        .unwrap()
}

async fn seat_map_of(cloud: &Cloud, slot: &str) -> Value {
    cloud
        .http
        .get(cloud.url(&format!("/slots/{slot}/seats")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_seat_choices_never_book_one_seat_twice() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = seated_slot(&cloud, &admin).await;
    // Eight customers, five pairs each: inside the per-customer limit of a
    // slot (10 places), so only the seats decide.
    let tokens: Vec<String> = futures::future::join_all((0..8).map(|_| cloud.user_token())).await;
    // 40 requests for overlapping pairs of seats, all at once.
    let wanted: Vec<Vec<String>> = (0..40)
        .map(|i| {
            let row = if i % 2 == 0 { "A" } else { "B" };
            let n = i % 9 + 1;
            vec![format!("{row}-{n}"), format!("{row}-{}", n + 1)]
        })
        .collect();
    let answers = futures::future::join_all(wanted.iter().enumerate().map(|(i, seats)| {
        let (cloud, token, slot) = (&cloud, &tokens[i % tokens.len()], &slot);
        async move {
            let ids: Vec<&str> = seats.iter().map(String::as_str).collect();
            let res = book_seats(cloud, token, slot, &ids).await;
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{answers:?}"
    );
    let mut owner: HashMap<String, String> = HashMap::new();
    for (status, body) in &answers {
        if *status == 409 {
            assert_eq!(body["code"], "SEAT_TAKEN", "{body}");
            continue;
        }
        for seat in body["seats"].as_array().unwrap() {
            let id = seat["seat_id"].as_str().unwrap().to_owned();
            let booking = body["id"].as_str().unwrap().to_owned();
            assert!(
                owner.insert(id.clone(), booking).is_none(),
                "seat {id} booked twice"
            );
        }
    }
    let map = seat_map_of(&cloud, &slot).await;
    let taken: HashSet<String> = map["seats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "TAKEN")
        .map(|s| s["seat_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(taken, owner.keys().cloned().collect::<HashSet<_>>());
    assert_eq!(map["remaining"].as_u64().unwrap(), 20 - owner.len() as u64);
    assert!(!owner.is_empty());
}

#[tokio::test]
async fn seats_are_priced_by_tier_and_cancelling_frees_them() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = seated_slot(&cloud, &admin).await;
    let token = cloud.user_token().await;
    let res = book_seats(&cloud, &token, &slot, &["A-1", "B-1"]).await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["price_cents"], 14000);
    assert_eq!(booking["kind"], "seated");
    let again = book_seats(&cloud, &token, &slot, &["B-1", "B-2"]).await;
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "SEAT_TAKEN");
    assert!(body["message"].as_str().unwrap().contains("B-1"));

    let cancel = cloud
        .post(
            &format!("/bookings/{}/cancel", booking["id"].as_str().unwrap()),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    let map = seat_map_of(&cloud, &slot).await;
    assert!(
        map["seats"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "AVAILABLE")
    );
    assert_eq!(map["remaining"], 20);
    assert_eq!(
        book_seats(&cloud, &token, &slot, &["B-1"]).await.status(),
        201
    );
}

#[tokio::test]
async fn seat_requests_that_cannot_work_are_refused_clearly() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let seated = seated_slot(&cloud, &admin).await;
    let counted = cloud.new_slot(&admin, 10).await;
    let token = cloud.user_token().await;
    let cases: Vec<(reqwest::Response, u16, &str)> = vec![
        (
            cloud.book(&token, &seated, 1, &key()).await,
            409,
            "SEATS_REQUIRED",
        ),
        (
            book_seats(&cloud, &token, &counted, &["A-1"]).await,
            409,
            "NOT_SEATED",
        ),
        (
            book_seats(&cloud, &token, &seated, &["Z-99"]).await,
            404,
            "SEAT_NOT_FOUND",
        ),
        (
            book_seats(&cloud, &token, &seated, &["A-1", "A-1"]).await,
            400,
            "INVALID_SEATS",
        ),
        (
            book_seats(&cloud, &token, &seated, &[]).await,
            400,
            "INVALID_SEATS",
        ),
        (
            book_seats(&cloud, &token, &seated, &["bad seat!"]).await,
            400,
            "INVALID_SEAT_ID",
        ),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], code);
    }
    let map = seat_map_of(&cloud, &seated).await;
    assert_eq!(map["remaining"], 20, "nothing was taken");
    let bad_map =
        json!({ "tiers": { "A": 1 }, "seats": [{ "id": "A-1", "section": "S", "tier": "Z" }] });
    let res = cloud
        .http
        .put(cloud.url(&format!("/admin/slots/{seated}/seats")))
        .bearer_auth(&token)
        .json(&bad_map)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "customers cannot set seat maps");
    let res = cloud
        .http
        .put(cloud.url(&format!("/admin/slots/{seated}/seats")))
        .bearer_auth(&admin)
        .json(&bad_map)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "UNKNOWN_TIER");
}

/// The promise of the README: a slot of 2,000 seats, in one request with
/// names of a realistic length (a hall of 40 rows of 50).
#[tokio::test]
async fn a_map_of_two_thousand_seats_is_taken_in_one_request() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 100).await;
    let seats: Vec<Value> = (0..40)
        .flat_map(|row| {
            (1..=50).map(move |n| {
                json!({
                    "id": format!("R{row:02}-S{n:02}"),
                    "section": if row < 20 { "Parterre links" } else { "Erster Rang rechts" },
                    "tier": if row < 10 { "PREMIUM" } else { "STANDARD" },
                })
            })
        })
        .collect();
    let map = json!({ "tiers": { "PREMIUM": 12000, "STANDARD": 6000 }, "seats": seats });
    assert!(
        map.to_string().len() > 64 * 1024,
        "bigger than the default body limit"
    );
    let res = cloud
        .http
        .put(cloud.url(&format!("/admin/slots/{slot}/seats")))
        .bearer_auth(&admin)
        .json(&map)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let summary: Value = res.json().await.unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["capacity"].as_u64()),
        (Some(2000), Some(2000))
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 2000);
}

/// Two maps of one slot sent at once: the slot ends with a capacity of
/// exactly its number of seats, whichever finishes last.
#[tokio::test]
async fn two_seat_maps_sent_at_once_leave_the_capacity_equal_to_the_seats() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    for round in 0..4 {
        let slot = cloud.new_slot(&admin, 100).await;
        let url = cloud.url(&format!("/admin/slots/{slot}/seats"));
        let map = |row: &str, n: usize| {
            let seats: Vec<Value> = (1..=n)
                .map(|i| json!({ "id": format!("{row}-{i}"), "section": "Stalls", "tier": "A" }))
                .collect();
            json!({ "tiers": { "A": 5000 }, "seats": seats })
        };
        let (stalls, balcony) = (map("S", 30), map("B", 45));
        let send = |body: &Value| cloud.http.put(&url).bearer_auth(&admin).json(body).send();
        let (a, b) = tokio::join!(send(&stalls), send(&balcony));
        assert_eq!(
            (a.unwrap().status().as_u16(), b.unwrap().status().as_u16()),
            (200, 200)
        );
        let seats = seat_map_of(&cloud, &slot).await["seats"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(seats, 75, "round {round}");
        assert_eq!(
            cloud.slot_view(&slot).await["capacity"],
            75,
            "round {round}"
        );
    }
}

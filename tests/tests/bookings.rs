//! Bookings through the running local cloud: never oversold, idempotent,
//! refused clearly, cancelled once.
//!
//! Over 600 lines on purpose: ten scenarios of one concern, a booking's
//! life, sharing the helpers above them; split, they would repeat those
//! helpers or move them out of sight, and add a test binary to link.

use serde_json::{Value, json};
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The caller's bookings of `slot`, across every page.
async fn bookings_of(cloud: &Cloud, token: &str, slot: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = cloud.url("/bookings?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = cloud.http.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        out.extend(
            page["bookings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| b["slot_id"] == slot)
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return out,
        }
    }
}

/// One answer to a booking request, as the hot-slot test judges it.
#[derive(Debug)]
struct Answer {
    status: u16,
    code: String,
    /// How many 503 CONTENTION answers came before this one.
    retries: u32,
    quantity: u32,
}

/// How many answers of each (status, code), for a failure message that
/// says what was seen.
fn tally(answers: &[Answer]) -> std::collections::BTreeMap<(u16, String), usize> {
    let mut tally = std::collections::BTreeMap::new();
    for answer in answers {
        *tally
            .entry((answer.status, answer.code.clone()))
            .or_default() += 1;
    }
    tally
}

#[tokio::test]
async fn two_hundred_concurrent_bookings_take_exactly_the_capacity_of_a_hot_slot() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 50).await;
    // Fifty customers, mixed quantities 1..=3, 200 requests at once. Each
    // customer asks for at most 9 places, inside the per-customer limit of
    // a slot (10), so capacity alone decides.
    let customers: Vec<String> = cloud.user_tokens(50).await;
    let requests: Vec<(usize, u32)> = (0..200).map(|i| (i % 50, (i % 3 + 1) as u32)).collect();
    // Each request behaves as the README tells a client to: a 503 with
    // Retry-After (DynamoDB kept cancelling the transaction, as AWS does
    // under contention) is sent again with the same Idempotency-Key.
    let answers = futures::future::join_all(requests.iter().map(|(who, quantity)| {
        let (cloud, slot, token) = (&cloud, &slot, &customers[*who]);
        async move {
            let key = key();
            let mut retries = 0;
            loop {
                let res = cloud.book(token, slot, *quantity, &key).await;
                let status = res.status().as_u16();
                let retry_after = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                let body: Value = res.json().await.unwrap_or(Value::Null);
                let code = body["code"].as_str().unwrap_or("-").to_owned();
                if let (503, "CONTENTION", Some(secs), 0..5) =
                    (status, code.as_str(), retry_after, retries)
                {
                    retries += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
                    continue;
                }
                break Answer {
                    status,
                    code,
                    retries,
                    quantity: *quantity,
                };
            }
        }
    }))
    .await;
    let tally = tally(&answers);
    let retried: u32 = answers.iter().map(|a| a.retries).sum();
    eprintln!("hot slot: final answers {tally:?}, {retried} retries after 503 CONTENTION");

    let taken: u32 = answers
        .iter()
        .filter(|a| a.status == 201)
        .map(|a| a.quantity)
        .sum();
    assert!(
        taken <= 50,
        "oversold: {taken} places of 50; answers {tally:?}"
    );
    // Every request ends taken or refused as a clean 409 SOLD_OUT.
    assert!(
        answers
            .iter()
            .all(|a| a.status == 201 || (a.status, a.code.as_str()) == (409, "SOLD_OUT")),
        "unexpected answers among {tally:?} ({retried} retries after 503 CONTENTION)"
    );
    // The slot fills up exactly unless the last places asked for were
    // more than were left.
    assert!(taken >= 48, "only {taken} of 50 taken; answers {tally:?}");

    let view = cloud.slot_view(&slot).await;
    assert_eq!(view["remaining"].as_u64().unwrap(), u64::from(50 - taken));
    // The counter equals the sum of the live bookings' quantities.
    let mut live = 0;
    for token in &customers {
        live += bookings_of(&cloud, token, &slot)
            .await
            .iter()
            .filter(|b| b["status"] == "PENDING" || b["status"] == "CONFIRMED")
            .map(|b| b["quantity"].as_u64().unwrap())
            .sum::<u64>();
    }
    assert_eq!(live, u64::from(taken));
    assert_eq!(view["availability"], "FULLY_BOOKED");
}

#[tokio::test]
async fn one_idempotency_key_sent_twenty_times_at_once_makes_one_booking() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 10).await;
    let token = cloud.user_token().await;
    let key = key();
    let answers = futures::future::join_all((0..20).map(|_| {
        let (cloud, slot, token, key) = (&cloud, &slot, &token, &key);
        async move {
            let res = cloud.book(token, slot, 2, key).await;
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    let ids: std::collections::HashSet<&str> = answers
        .iter()
        .map(|(_, b)| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one booking, answered 20 times");
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 8);
    assert_eq!(bookings_of(&cloud, &token, &slot).await.len(), 1);

    // The same key with a different body is refused and changes nothing.
    let res = cloud.book(&token, &slot, 3, &key).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "IDEMPOTENCY_KEY_REUSED"
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 8);
}

#[tokio::test]
async fn the_price_is_computed_on_the_server_and_stored_on_the_booking() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 10).await;
    let token = cloud.user_token().await;
    let res = cloud.book(&token, &slot, 3, &key()).await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["unit_price_cents"], 5000);
    assert_eq!(booking["price_cents"], 15000);
    assert_eq!(booking["status"], "PENDING");
    let number = booking["number"].as_str().unwrap();
    assert!(number.starts_with("BK-") && number.len() == 12, "{number}");
}

#[tokio::test]
async fn bad_booking_requests_are_4xx_json_errors_and_take_nothing() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 5).await;
    let token = cloud.user_token().await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": 0 }),
            400,
            "INVALID_QUANTITY",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": 11 }),
            400,
            "INVALID_QUANTITY",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": -2 }),
            400,
            "INVALID_QUANTITY",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": "2" }),
            400,
            "INVALID_BODY",
        ),
        (
            json!({ "kind": "counted", "slot_id": "nonsense", "quantity": 1 }),
            400,
            "INVALID_SLOT_ID",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": 1, "price_cents": 1 }),
            400,
            "INVALID_BODY",
        ),
        (
            json!({ "kind": "teleport", "slot_id": slot, "quantity": 1 }),
            400,
            "INVALID_BODY",
        ),
        (
            json!({ "slot_id": slot, "quantity": 1 }),
            400,
            "INVALID_BODY",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot.replace("08:00", "09:00"), "quantity": 1 }),
            404,
            "SLOT_NOT_FOUND",
        ),
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": 6 }),
            409,
            "SOLD_OUT",
        ),
    ];
    for (body, status, code) in cases {
        let res = cloud
            .http
            .post(cloud.url("/bookings"))
            .bearer_auth(&token)
            .header("idempotency-key", key())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], code, "{body}");
    }
    let no_key = cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(&token)
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 400);
    assert_eq!(
        no_key.json::<Value>().await.unwrap()["code"],
        "MISSING_IDEMPOTENCY_KEY"
    );
    let anonymous = cloud
        .http
        .post(cloud.url("/bookings"))
        .header("idempotency-key", key())
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 5);
    assert!(bookings_of(&cloud, &token, &slot).await.is_empty());
}

#[tokio::test]
async fn a_booking_is_seen_by_its_owner_and_admins_only() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 5).await;
    let owner = cloud.user_token().await;
    let stranger = cloud.user_token().await;
    let booking: Value = cloud
        .book(&owner, &slot, 1, &key())
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());
    for (token, status) in [(&owner, 200), (&admin, 200), (&stranger, 404)] {
        let res = cloud
            .http
            .get(cloud.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
    }
    let res = cloud
        .http
        .get(cloud.url("/bookings/not-a-uuid"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // A stranger cannot cancel it either.
    let res = cloud
        .post(&format!("{path}/cancel"), &json!({}), Some(&stranger))
        .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn cancelling_gives_the_places_back_once_and_the_history_says_so() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let token = cloud.user_token().await;
    let booking: Value = cloud
        .book(&token, &slot, 3, &key())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 1);
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());

    let answers = futures::future::join_all((0..5).map(|_| {
        let (cloud, path, token) = (&cloud, &path, &token);
        async move {
            cloud
                .post(&format!("{path}/cancel"), &json!({}), Some(token))
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(
        answers.iter().filter(|s| **s == 200).count(),
        1,
        "{answers:?}"
    );
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 409),
        "{answers:?}"
    );
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);

    let res = cloud
        .http
        .get(cloud.url(&format!("{path}/history")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let history: Value = res.json().await.unwrap();
    let steps: Vec<(&str, &str)> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["to"].as_str().unwrap(), h["by"].as_str().unwrap()))
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[0].0, "PENDING");
    assert_eq!(steps[1].0, "CANCELLED");
}

#[tokio::test]
async fn the_bookings_list_filters_by_status_and_pages() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let friday = Today::at_venue().far_friday();
    let slot = cloud.new_slot_on(&admin, 10, &iso(friday)).await;
    let token = cloud.user_token().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let b: Value = cloud
            .book(&token, &slot, 1, &key())
            .await
            .json()
            .await
            .unwrap();
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    cloud
        .post(
            &format!("/bookings/{}/cancel", ids[0]),
            &json!({}),
            Some(&token),
        )
        .await;
    let page = |query: &str| {
        let url = cloud.url(&format!("/bookings?{query}"));
        let req = cloud.http.get(url).bearer_auth(&token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let pending = page("status=PENDING").await;
    assert_eq!(pending["bookings"].as_array().unwrap().len(), 2);
    let first = page("limit=2").await;
    assert_eq!(first["bookings"].as_array().unwrap().len(), 2);
    // Newest first.
    assert_eq!(first["bookings"][0]["id"], ids[2].as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(&format!("limit=2&cursor={cursor}")).await;
    assert_eq!(second["bookings"][0]["id"], ids[0].as_str());
    assert_eq!(
        page(&format!("date={}", iso(friday))).await["bookings"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(
        page(&format!("date={}", iso(friday.succ_opt().unwrap()))).await["bookings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A cursor that names this user's index but not a booking's keys.
    let user = first["bookings"][0]["user_id"].as_str().unwrap();
    let forged = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        json!({ "GSI1PK": format!("USER#{user}#BOOKINGS"), "colour": "red" }).to_string(),
    );
    let forged = format!("cursor={forged}");
    let bad_queries = [
        "status=LOST",
        "limit=0",
        "limit=101",
        "cursor=garbage",
        "date=someday",
        forged.as_str(),
    ];
    for bad in bad_queries {
        let res = cloud
            .http
            .get(cloud.url(&format!("/bookings?{bad}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_refused_naming_the_field_and_what_it_must_be() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let token = cloud.user_token().await;
    for (body, field, must) in [
        (
            json!({ "kind": "counted", "slot_id": slot, "quantity": 2.5 }),
            "`quantity`",
            "a whole number",
        ),
        (
            json!({ "kind": "seated", "slot_id": slot, "seat_ids": ["A-1", 7] }),
            "`seat_ids[1]`",
            "a string",
        ),
    ] {
        let res = cloud
            .http
            .post(cloud.url("/bookings"))
            .bearer_auth(&token)
            .header("idempotency-key", key())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let error: Value = res.json().await.unwrap();
        let message = error["message"].as_str().unwrap();
        assert_eq!(error["code"], "INVALID_BODY");
        assert!(
            message.contains(field) && message.contains(must),
            "{message}"
        );
        assert!(!message.contains("line"), "no parser positions: {message}");
    }
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);
}

//! The waiting room, through the running local cloud: tickets, positions in
//! order, admission under the cap and the stock, the pass a protected
//! booking needs (and uses up), and sold out then resumed.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use shared::identity::UserId;
use shared::identity::tokens::SigningKey;
use shared::waiting_room::RoomId;
use shared::waiting_room::pass::{Pass, PassKeys};
use system_tests::waiting_room::{
    admitted, create_room, enter, figures, run_admitter, status, statuses,
};
use system_tests::{Cloud, eventually};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn book(cloud: &Cloud, token: &str, slot: &str, pass: Option<&str>) -> (u16, String) {
    let mut req = cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", key())
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": 1 }));
    if let Some(pass) = pass {
        req = req.header("x-pass-token", pass);
    }
    let res = req.send().await.unwrap();
    let code = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let what = body["code"]
        .as_str()
        .or(body["id"].as_str())
        .unwrap_or("-")
        .to_owned();
    (code, what)
}

#[tokio::test]
async fn admission_follows_the_queue_under_the_cap_and_a_pass_books_once() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let date = system_tests::dates::iso(system_tests::dates::Today::at_venue().far_friday());
    let slot = cloud.slot_of(&admin, &resource, 50, &date, "08:00").await;
    let room = create_room(
        &cloud,
        &admin,
        &resource,
        json!({ "rate_per_minute": 120, "max_active": 3, "abandon_after_seconds": 120 }),
    )
    .await;
    let tokens = cloud.user_tokens(8).await;

    // Everyone enters at once; entering again answers the same ticket.
    let first = futures::future::join_all(tokens.iter().map(|t| enter(&cloud, &room, t))).await;
    assert!(
        first
            .iter()
            .all(|(code, s)| *code == 201 && s["state"] == "WAITING"),
        "{first:?}"
    );
    let (again, ticket) = enter(&cloud, &room, &tokens[0]).await;
    assert_eq!(
        (again, &ticket["entered_at"]),
        (200, &first[0].1["entered_at"])
    );

    // Without a pass, a booking of the protected resource is refused.
    assert_eq!(
        book(&cloud, &tokens[0], &slot, None).await,
        (403, "PASS_REQUIRED".into())
    );

    let admitter = run_admitter(&cloud, 45);
    let all = eventually("three admitted", Duration::from_secs(60), || async {
        let all = statuses(&cloud, &room, &tokens).await;
        let positioned = all.iter().all(|s| s["position"].is_u64());
        (positioned && admitted(&all).len() == 3).then_some(all)
    })
    .await;
    // Distinct positions 1..8, and the first three admitted.
    let mut positions: Vec<u64> = all
        .iter()
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=8).collect::<Vec<_>>());
    assert_eq!(admitted(&all), vec![1, 2, 3]);
    // The cap holds while nobody books.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let all = statuses(&cloud, &room, &tokens).await;
    assert_eq!(admitted(&all), vec![1, 2, 3], "the cap of 3 holds");
    assert_eq!(figures(&cloud, &room, &admin).await["active"], 3);

    let holder = all.iter().position(|s| s["position"] == 1).unwrap();
    let other = all.iter().position(|s| s["position"] == 5).unwrap();
    let pass = all[holder]["pass_token"].as_str().unwrap().to_owned();
    // Someone else's pass, a forged one, an expired one, another room's.
    assert_eq!(
        book(&cloud, &tokens[other], &slot, Some(&pass)).await,
        (403, "PASS_NOT_YOURS".into())
    );
    let mut forged = pass.clone();
    forged.push('x');
    assert_eq!(
        book(&cloud, &tokens[holder], &slot, Some(&forged)).await,
        (403, "PASS_INVALID".into())
    );
    let keys = PassKeys::new(
        &SigningKey::new(cloud.signing_key().await).unwrap(),
        &cloud.parameter("JwtIssuer"),
    );
    let me: Value = cloud
        .http
        .get(cloud.url("/me"))
        .bearer_auth(&tokens[holder])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user = UserId::parse(me["id"].as_str().unwrap()).unwrap();
    let signed = |room: RoomId, expires_at| {
        keys.sign(&Pass {
            room_id: room,
            user_id: user.clone(),
            pass_id: key(),
            expires_at,
        })
        .unwrap()
    };
    let expired = signed(
        RoomId::parse(&room).unwrap(),
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    assert_eq!(
        book(&cloud, &tokens[holder], &slot, Some(&expired)).await,
        (403, "PASS_EXPIRED".into())
    );
    let elsewhere = signed(
        RoomId::generate(),
        chrono::Utc::now() + chrono::Duration::minutes(5),
    );
    assert_eq!(
        book(&cloud, &tokens[holder], &slot, Some(&elsewhere)).await,
        (403, "PASS_WRONG_ROOM".into())
    );

    // The pass books once.
    assert_eq!(
        book(&cloud, &tokens[holder], &slot, Some(&pass)).await.0,
        201
    );
    assert_eq!(
        book(&cloud, &tokens[holder], &slot, Some(&pass)).await,
        (403, "PASS_USED".into())
    );
    assert_eq!(
        status(&cloud, &room, &tokens[holder]).await["pass_used"],
        true
    );

    // Its place under the cap is free again: the fourth is admitted, in order.
    let all = eventually("the fourth admitted", Duration::from_secs(30), || async {
        let all = statuses(&cloud, &room, &tokens).await;
        (admitted(&all).len() == 3
            && all
                .iter()
                .any(|s| s["position"] == 4 && s["state"] == "ADMITTED"))
        .then_some(all)
    })
    .await;
    assert_eq!(admitted(&all), vec![2, 3, 4]);
    admitter.abort();
}

#[tokio::test]
async fn waiting_users_see_sold_out_and_a_cancel_resumes_admission() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let date = system_tests::dates::iso(system_tests::dates::Today::at_venue().far_friday());
    let slot = cloud.slot_of(&admin, &resource, 2, &date, "08:00").await;
    let room = create_room(
        &cloud,
        &admin,
        &resource,
        json!({ "rate_per_minute": 600, "max_active": 10, "abandon_after_seconds": 300 }),
    )
    .await;
    // Two customers with accounts come first (they will book), then 500
    // more callers wait behind them.
    let buyers = cloud.user_tokens(2).await;
    for t in &buyers {
        assert_eq!(enter(&cloud, &room, t).await.0, 201);
    }
    let crowd: Vec<String> = cloud
        .session_tokens(500)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let entered: Vec<u16> = futures::stream::iter(&crowd)
        .map(|t| async { enter(&cloud, &room, t).await.0 })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(entered.iter().all(|c| *c == 201), "every caller entered");
    let admitter = run_admitter(&cloud, 55);
    // Two places: no more than two are admitted, whatever the cap.
    let all = eventually("two admitted", Duration::from_secs(60), || async {
        let all = statuses(&cloud, &room, &buyers).await;
        (admitted(&all).len() == 2).then_some(all)
    })
    .await;
    let mut bookings = Vec::new();
    for (t, s) in buyers.iter().zip(&all) {
        let (code, id) = book(&cloud, t, &slot, s["pass_token"].as_str()).await;
        assert_eq!(code, 201);
        bookings.push((t, id));
    }
    // Sold out: every one of the 500 still waiting sees it.
    eventually("all 500 see sold out", Duration::from_secs(60), || async {
        let all = statuses(&cloud, &room, &crowd).await;
        all.iter().all(|s| s["state"] == "SOLD_OUT").then_some(())
    })
    .await;
    assert_eq!(figures(&cloud, &room, &admin).await["admitted"], 2);
    // A cancel gives a place back: admission resumes with the next in line.
    let (token, id) = &bookings[0];
    let res = cloud
        .post(&format!("/bookings/{id}/cancel"), &json!({}), Some(token))
        .await;
    assert_eq!(res.status(), 200);
    let all = eventually("admission resumed", Duration::from_secs(30), || async {
        let all = statuses(&cloud, &room, &crowd).await;
        (!admitted(&all).is_empty()).then_some(all)
    })
    .await;
    // One place, one admission: the next in line, the rest still waiting.
    assert_eq!(admitted(&all), vec![3]);
    assert!(
        all.iter()
            .filter(|s| s["state"] != "ADMITTED")
            .all(|s| s["state"] == "SOLD_OUT" || s["state"] == "WAITING")
    );
    admitter.abort();
}

async fn change(cloud: &Cloud, admin: &str, room: &str, body: Value) {
    let res = cloud
        .patch(&format!("/admin/waiting-rooms/{room}"), &body, admin)
        .await;
    assert_eq!(res.status(), 200, "changing the room");
}

#[tokio::test]
async fn abandoned_tickets_are_skipped_without_using_an_admission() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let date = system_tests::dates::iso(system_tests::dates::Today::at_venue().far_friday());
    cloud.slot_of(&admin, &resource, 50, &date, "08:00").await;
    let room = create_room(
        &cloud,
        &admin,
        &resource,
        json!({ "rate_per_minute": 600, "max_active": 10, "abandon_after_seconds": 120 }),
    )
    .await;
    // Paused: tickets get positions, nobody is admitted.
    change(
        &cloud,
        &admin,
        &room,
        json!({ "status": "PAUSED", "abandon_after_seconds": 10 }),
    )
    .await;
    let tokens = cloud.user_tokens(4).await;
    for t in &tokens {
        assert_eq!(enter(&cloud, &room, t).await.0, 201);
    }
    let admitter = run_admitter(&cloud, 50);
    eventually("positions", Duration::from_secs(30), || async {
        let all = statuses(&cloud, &room, &tokens).await;
        all.iter().all(|s| s["position"].is_u64()).then_some(())
    })
    .await;
    // The first two go silent for longer than the room allows; the others
    // keep polling.
    let started = tokio::time::Instant::now();
    while started.elapsed() < Duration::from_secs(13) {
        statuses(&cloud, &room, &tokens[2..]).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    change(&cloud, &admin, &room, json!({ "status": "OPEN" })).await;
    let all = eventually(
        "the two who stayed admitted",
        Duration::from_secs(30),
        || async {
            let all = statuses(&cloud, &room, &tokens[2..]).await;
            all.iter().all(|s| s["state"] == "ADMITTED").then_some(all)
        },
    )
    .await;
    assert_eq!(all.len(), 2);
    // The silent lost their place, and used no admission.
    for t in &tokens[..2] {
        assert_eq!(status(&cloud, &room, t).await["state"], "EXPIRED");
    }
    assert_eq!(figures(&cloud, &room, &admin).await["admitted"], 2);
    admitter.abort();
}

#[tokio::test]
async fn the_prequeue_is_shuffled_at_the_opening_and_admitted_before_later_arrivals() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let date = system_tests::dates::iso(system_tests::dates::Today::at_venue().far_friday());
    let slot = cloud.slot_of(&admin, &resource, 50, &date, "08:00").await;
    let early = cloud.user_tokens(10).await;
    let late = cloud.user_tokens(3).await;
    let opens = chrono::Utc::now() + chrono::Duration::seconds(15);
    let res = cloud
        .post(
            "/admin/waiting-rooms",
            &json!({
                "name": "Opening", "resource_ids": [resource], "rate_per_minute": 6000,
                "max_active": 100, "sale_opens_at": opens.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    let room = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Before the opening a booking is refused, and entries wait unpositioned.
    assert_eq!(
        book(&cloud, &early[0], &slot, None).await,
        (409, "SALE_NOT_OPEN".into())
    );
    for t in &early {
        let (code, s) = enter(&cloud, &room, t).await;
        assert_eq!((code, &s["position"]), (201, &Value::Null));
    }
    let admitter = run_admitter(&cloud, 60);
    let wait = (opens - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_secs(1)).await;
    for t in &late {
        assert_eq!(enter(&cloud, &room, t).await.0, 201);
    }
    let everyone: Vec<String> = early.iter().chain(&late).cloned().collect();
    let all = eventually("everyone admitted", Duration::from_secs(60), || async {
        let all = statuses(&cloud, &room, &everyone).await;
        all.iter().all(|s| s["state"] == "ADMITTED").then_some(all)
    })
    .await;
    let positions: Vec<u64> = all
        .iter()
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    // Every early one before every late one; the early ones not in the
    // order they arrived (10 entries in order by chance: 1 in 3.6 million).
    assert!(positions[..10].iter().all(|p| *p <= 10), "{positions:?}");
    assert!(positions[10..].iter().all(|p| *p > 10), "{positions:?}");
    assert_ne!(positions[..10].to_vec(), (1..=10).collect::<Vec<_>>());
    admitter.abort();
}

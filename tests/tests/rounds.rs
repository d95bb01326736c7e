//! Golf rounds: a course made of a front nine and a back nine. An 18-hole
//! booking at T takes places on the front nine at T and on the back nine at
//! T + the turn, in one transaction; neither nine is ever oversold.

use std::sync::OnceLock;

use serde_json::{Value, json};
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The Friday ten days or more away that every round is played on, chosen
/// once, so a run across midnight uses one day.
fn friday() -> String {
    static FRIDAY: OnceLock<String> = OnceLock::new();
    FRIDAY
        .get_or_init(|| iso(Today::at_venue().far_friday()))
        .clone()
}

async fn generate(cloud: &Cloud, admin: &str, resource: &str, start: &str, capacity: u32) {
    let date = friday();
    let res = cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &json!({
                "from": date, "to": date, "start_times": [start],
                "duration_minutes": 10, "capacity": capacity,
                "prices": { "weekday": 8000, "weekend": 9000, "holiday": 9000 }
            }),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 200);
}

/// A venue with a back nine and a front nine that turns onto it after 2 h.
async fn course(cloud: &Cloud, admin: &str) -> (String, String) {
    let venue: Value = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": cloud.new_company(admin).await, "name": "Links", "kind": "GOLF_CLUB", "city": "Fife", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let resources = format!("/admin/venues/{}/resources", venue["id"].as_str().unwrap());
    let back: Value = cloud
        .post(
            &resources,
            &json!({ "name": "Back nine", "kind": "COURSE" }),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let back = back["id"].as_str().unwrap().to_owned();
    let front = cloud
        .post(
            &resources,
            &json!({ "name": "Front nine", "kind": "COURSE", "back_nine": { "resource_id": back, "turn_minutes": 120 } }),
            Some(admin),
        )
        .await;
    assert_eq!(front.status(), 201);
    let front = front.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    generate(cloud, admin, &front, "08:00", 4).await;
    generate(cloud, admin, &back, "10:00", 2).await;
    (
        format!("{front}@{}T08:00", friday()),
        format!("{back}@{}T10:00", friday()),
    )
}

async fn round(
    cloud: &Cloud,
    token: &str,
    slot: &str,
    quantity: u32,
    holes: u32,
) -> reqwest::Response {
    cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", key())
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": quantity, "holes": holes }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_eighteen_hole_round_takes_both_nines_or_neither() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (front, back) = course(&cloud, &admin).await;
    let token = cloud.user_token().await;
    let remaining = |slot: String| {
        let cloud = &cloud;
        async move { cloud.slot_view(&slot).await["remaining"].as_u64().unwrap() }
    };

    // Three players fit the front nine but not the back nine: nothing is taken.
    let res = round(&cloud, &token, &front, 3, 18).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "SOLD_OUT");
    assert_eq!(
        (
            remaining(front.clone()).await,
            remaining(back.clone()).await
        ),
        (4, 2)
    );

    let res = round(&cloud, &token, &front, 2, 18).await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["back_nine_slot_id"], back.as_str());
    assert_eq!(
        (
            remaining(front.clone()).await,
            remaining(back.clone()).await
        ),
        (2, 0)
    );
    // Nine holes still fit on the front nine alone.
    assert_eq!(round(&cloud, &token, &front, 2, 9).await.status(), 201);
    assert_eq!(remaining(front.clone()).await, 0);

    let path = format!("/bookings/{}/cancel", booking["id"].as_str().unwrap());
    assert_eq!(
        cloud.post(&path, &json!({}), Some(&token)).await.status(),
        200
    );
    assert_eq!(
        (
            remaining(front.clone()).await,
            remaining(back.clone()).await
        ),
        (2, 2)
    );
}

#[tokio::test]
async fn concurrent_rounds_never_oversell_the_back_nine() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (front, back) = course(&cloud, &admin).await;
    let token = cloud.user_token().await;
    let statuses: Vec<u16> = futures::future::join_all((0..10).map(|_| {
        let (cloud, token, front) = (&cloud, &token, &front);
        async move { round(cloud, token, front, 1, 18).await.status().as_u16() }
    }))
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        2,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409));
    assert_eq!(cloud.slot_view(&back).await["remaining"], 0);
    assert_eq!(cloud.slot_view(&front).await["remaining"], 2);
}

#[tokio::test]
async fn rounds_that_cannot_be_played_are_refused() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let plain = cloud.new_slot(&admin, 4).await;
    let token = cloud.user_token().await;
    let res = round(&cloud, &token, &plain, 1, 18).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "NO_BACK_NINE");
    let res = round(&cloud, &token, &plain, 1, 12).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "INVALID_HOLES");
    let venue: Value = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": cloud.new_company(&admin).await, "name": "Club", "kind": "GOLF_CLUB", "city": "Town", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = cloud
        .post(
            &format!("/admin/venues/{}/resources", venue["id"].as_str().unwrap()),
            &json!({ "name": "Front", "kind": "COURSE", "back_nine": { "resource_id": uuid::Uuid::now_v7().to_string(), "turn_minutes": 120 } }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "INVALID_BACK_NINE"
    );
}

#[tokio::test]
async fn a_round_whose_back_nine_is_closed_is_refused_and_takes_neither_nine() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (front, back) = course(&cloud, &admin).await;
    let (back_resource, _) = back.split_once('@').unwrap();
    let closed = cloud
        .patch(
            &format!("/admin/resources/{back_resource}"),
            &json!({ "status": "CLOSED" }),
            &admin,
        )
        .await;
    assert_eq!(closed.status(), 200);
    let token = cloud.user_token().await;
    let res = round(&cloud, &token, &front, 1, 18).await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "RESOURCE_CLOSED"
    );
    assert_eq!(cloud.slot_view(&front).await["remaining"], 4);
    assert_eq!(cloud.slot_view(&back).await["remaining"], 2);
    // Nine holes on the open front nine still book.
    assert_eq!(round(&cloud, &token, &front, 1, 9).await.status(), 201);
}

//! The catalog through the running local cloud: admin writes, idempotent
//! slot generation, prices by day, public reads.

use chrono::NaiveDate;
use serde_json::{Value, json};
use system_tests::dates::{PriceWeek, Today, iso};
use system_tests::{Cloud, PATIENCE, eventually};

/// Friday to Monday of a week ten days or more away, Monday a holiday.
fn pattern(week: &PriceWeek) -> Value {
    json!({
        "from": iso(week.friday), "to": iso(week.monday),
        "start_times": ["08:00", "08:10"], "duration_minutes": 10, "capacity": 4,
        "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 },
        "holidays": [iso(week.monday)], "premium_start_times": ["08:00"]
    })
}

async fn day(cloud: &Cloud, resource: &str, date: NaiveDate) -> Vec<Value> {
    let date = iso(date);
    let res = cloud
        .http
        .get(cloud.url(&format!("/resources/{resource}/availability?date={date}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["slots"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn generating_slots_twice_creates_them_once_and_records_slots_generated() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let path = format!("/admin/resources/{resource}/slots/generate");
    let week = Today::at_venue().price_week();
    let first: Value = cloud
        .post(&path, &pattern(&week), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (first["created"].as_u64(), first["skipped"].as_u64()),
        (Some(8), Some(0))
    );
    let again: Value = cloud
        .post(&path, &pattern(&week), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(8))
    );
    assert_eq!(day(&cloud, &resource, week.saturday).await.len(), 2);

    eventually("SlotsGenerated in the event log", PATIENCE, || async {
        (cloud
            .logged_events_mentioning("SlotsGenerated", &resource)
            .await
            == 2)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn availability_shows_prices_by_kind_of_day_and_premium_times() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let week = Today::at_venue().price_week();
    cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &pattern(&week),
            Some(&admin),
        )
        .await;
    let price = |slots: &[Value], i: usize| slots[i]["unit_price_cents"].as_u64().unwrap();
    let friday = day(&cloud, &resource, week.friday).await;
    assert_eq!(
        (price(&friday, 0), price(&friday, 1)),
        (6250, 5000),
        "premium 08:00, plain 08:10"
    );
    let saturday = day(&cloud, &resource, week.saturday).await;
    assert_eq!(price(&saturday, 1), 7000);
    let holiday = day(&cloud, &resource, week.monday).await;
    assert_eq!(price(&holiday, 1), 9000);
    assert!(
        friday
            .iter()
            .all(|s| s["availability"] == "AVAILABLE" && s["remaining"] == 4)
    );
    assert!(day(&cloud, &resource, week.tuesday).await.is_empty());
}

#[tokio::test]
async fn venues_and_resources_are_listed_publicly_and_written_by_admins_only() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let user = cloud.user_token().await;
    let name = format!("Venue {}", uuid::Uuid::new_v4());
    let company = cloud.new_company(&admin).await;
    let body = json!({ "company_id": company, "name": name, "kind": "CONCERT_HALL", "city": "Seoul", "time_zone": system_tests::dates::VENUE_ZONE.name() });
    assert_eq!(
        cloud
            .post("/admin/venues", &body, Some(&user))
            .await
            .status(),
        403
    );
    assert_eq!(cloud.post("/admin/venues", &body, None).await.status(), 401);
    let venue: Value = cloud
        .post("/admin/venues", &body, Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    // The list comes in pages of at most `limit`, in name order, and the
    // pages together hold the new venue.
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = cloud.url("/venues?limit=10");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = cloud
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let venues = page["venues"].as_array().unwrap();
        assert!(venues.len() <= 10, "a page holds at most its limit");
        names.extend(venues.iter().map(|v| {
            // The index's order: lower-case name, then id.
            format!(
                "{}#{}",
                v["name"].as_str().unwrap().to_lowercase(),
                v["id"].as_str().unwrap()
            )
        }));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let ours = format!("{}#{}", name.to_lowercase(), venue["id"].as_str().unwrap());
    assert!(names.contains(&ours));
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "by name");
    let res = cloud
        .http
        .get(cloud.url("/venues?cursor=bm90LW91cnM"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a forged cursor");
    let path = format!("/admin/venues/{}/resources", venue["id"].as_str().unwrap());
    let res = cloud
        .post(
            &path,
            &json!({ "name": "Evening performance", "kind": "PERFORMANCE" }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    let listed: Value = cloud
        .http
        .get(cloud.url(&format!(
            "/venues/{}/resources",
            venue["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["resources"].as_array().unwrap().len(), 1);
    for (path, status) in [
        (format!("/venues/{}/resources", uuid::Uuid::now_v7()), 404),
        ("/venues/not-an-id/resources".to_owned(), 400),
        (
            format!(
                "/resources/{}/availability?date={}",
                uuid::Uuid::now_v7(),
                iso(Today::at_venue().date())
            ),
            404,
        ),
        (
            format!("/resources/{}/availability", uuid::Uuid::now_v7()),
            400,
        ),
        (
            format!(
                "/resources/{}/availability?date=tomorrow",
                uuid::Uuid::now_v7()
            ),
            400,
        ),
    ] {
        let res = cloud.http.get(cloud.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        assert!(
            res.json::<Value>().await.unwrap()["code"].is_string(),
            "{path}"
        );
    }
    let bad = [
        json!({ "name": "", "kind": "OTHER", "city": "C", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
        json!({ "name": "V", "kind": "CASTLE", "city": "C", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
        json!({ "name": "V", "kind": "OTHER" }),
    ];
    for body in bad {
        assert_eq!(
            cloud
                .post("/admin/venues", &body, Some(&admin))
                .await
                .status(),
            400,
            "{body}"
        );
    }
}

/// Every catalog write lands in the event log as an `AdminActivity` with its
/// actor and its company, through the outbox; a refused write adds none.
#[tokio::test]
async fn catalog_writes_are_recorded_as_admin_activity_in_the_event_log() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "PERFORMANCE").await;
    let week = Today::at_venue().price_week();
    let res = cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &pattern(&week),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let slot = format!("{resource}@{}T08:00", iso(week.friday));
    let res = cloud
        .patch(
            &format!("/admin/slots/{slot}"),
            &json!({ "capacity": 3 }),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = cloud
        .patch(
            &format!("/admin/slots/{slot}"),
            &json!({ "capacity": 0 }),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 400, "refused: no activity");
    let res = cloud
        .http
        .put(cloud.url(&format!("/admin/slots/{slot}/seats")))
        .bearer_auth(&admin)
        .json(&json!({ "tiers": { "A": 9000 },
                       "seats": [{ "id": "A-1", "section": "Stalls", "tier": "A" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = cloud
        .patch(
            &format!("/admin/resources/{resource}"),
            &json!({ "name": "Evening concert" }),
            &admin,
        )
        .await;
    assert_eq!(res.status(), 200);

    let activities = eventually("the activities in the event log", PATIENCE, || async {
        let logged: Vec<Value> = cloud
            .logged_envelopes_mentioning(&resource)
            .await
            .into_iter()
            .filter(|(_, e)| e.event_type.as_str() == "AdminActivity")
            .map(|(_, e)| e.data)
            .collect();
        (logged.len() >= 5).then_some(logged)
    })
    .await;
    let mut actions: Vec<&str> = activities
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "resource_changed",
            "resource_created",
            "seat_map_set",
            "slot_changed",
            "slots_generated"
        ]
    );
    let me: Value = cloud
        .http
        .get(cloud.url("/me"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for activity in &activities {
        assert_eq!(activity["actor"], me["id"], "{activity}");
        assert!(activity["company_id"].is_string(), "{activity}");
    }
}

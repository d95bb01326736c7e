//! Rooms booked by time range through the running local cloud: two
//! overlapping ranges can never both be booked.

use serde_json::{Value, json};
use std::sync::OnceLock;

use chrono::Weekday;
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

/// A Monday ten days or more away, chosen once, so a run across midnight
/// books and reads the same day.
fn date() -> String {
    static DATE: OnceLock<String> = OnceLock::new();
    DATE.get_or_init(|| iso(Today::at_venue().far(Weekday::Mon)))
        .clone()
}

async fn room(cloud: &Cloud, admin: &str) -> String {
    let venue: Value = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": cloud.new_company(admin).await, "name": "Hub", "kind": "COWORKING", "city": "Town", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
            Some(admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = cloud
        .post(
            &format!("/admin/venues/{}/resources", venue["id"].as_str().unwrap()),
            &json!({
                "name": "Room 1", "kind": "ROOM",
                "range": { "unit_minutes": 15, "opens": "08:00", "closes": "20:00", "unit_price_cents": 500 }
            }),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn book_range(
    cloud: &Cloud,
    token: &str,
    room: &str,
    start: &str,
    end: &str,
) -> reqwest::Response {
    cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "kind": "range", "resource_id": room, "date": date(), "start": start, "end": end }))
        .send()
        .await
        .unwrap()
}

async fn free(cloud: &Cloud, room: &str) -> Vec<(String, String)> {
    let day: Value = cloud
        .http
        .get(cloud.url(&format!("/resources/{room}/free-ranges?date={}", date())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    day["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap().to_owned(),
                r["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Minutes after midnight of "HH:MM" or "HH:MM:SS".
fn minutes(hhmm: &str) -> u32 {
    let (h, m) = hhmm[..5].split_once(':').unwrap();
    h.parse::<u32>().unwrap() * 60 + m.parse::<u32>().unwrap()
}

#[tokio::test]
async fn concurrent_overlapping_ranges_never_both_succeed() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let room = room(&cloud, &admin).await;
    let token = cloud.user_token().await;
    // 30 requests of 1 to 2 hours starting every 15 minutes from 09:00: most overlap.
    let wanted: Vec<(String, String)> = (0..30)
        .map(|i| {
            let start = 9 * 60 + 15 * i;
            let end = start + 60 + 60 * (i % 2);
            (
                format!("{:02}:{:02}", start / 60, start % 60),
                format!("{:02}:{:02}", end / 60, end % 60),
            )
        })
        .collect();
    let answers = futures::future::join_all(wanted.iter().map(|(start, end)| {
        let (cloud, token, room) = (&cloud, &token, &room);
        async move {
            let res = book_range(cloud, token, room, start, end).await;
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    }))
    .await;
    assert!(
        answers.iter().all(|(s, _)| *s == 201 || *s == 409),
        "{answers:?}"
    );
    let mut booked: Vec<(u32, u32)> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, b)| {
            let start = b["slot_id"]
                .as_str()
                .unwrap()
                .rsplit('T')
                .next()
                .unwrap()
                .to_owned();
            (minutes(&start), minutes(b["ends_at"].as_str().unwrap()))
        })
        .collect();
    for (_, body) in answers.iter().filter(|(s, _)| *s == 409) {
        assert_eq!(body["code"], "RANGE_TAKEN", "{body}");
    }
    booked.sort();
    assert!(!booked.is_empty());
    for pair in booked.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping bookings {pair:?}");
    }
    // The free ranges are exactly the day minus the booked ranges.
    let free_minutes: u32 = free(&cloud, &room)
        .await
        .iter()
        .map(|(s, e)| minutes(e) - minutes(s))
        .sum();
    let booked_minutes: u32 = booked.iter().map(|(s, e)| e - s).sum();
    assert_eq!(free_minutes + booked_minutes, 12 * 60);
}

#[tokio::test]
async fn a_range_is_priced_per_unit_and_cancelling_frees_it() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let room = room(&cloud, &admin).await;
    let token = cloud.user_token().await;
    let res = book_range(&cloud, &token, &room, "10:00", "11:30").await;
    assert_eq!(res.status(), 201);
    let booking: Value = res.json().await.unwrap();
    assert_eq!(booking["price_cents"], 6 * 500);
    assert_eq!(booking["kind"], "range");
    assert_eq!(
        free(&cloud, &room).await,
        vec![
            ("08:00".into(), "10:00".into()),
            ("11:30".into(), "20:00".into())
        ]
    );
    let clash = book_range(&cloud, &token, &room, "11:15", "12:00").await;
    assert_eq!(clash.status(), 409);
    assert!(
        clash.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("11:15")
    );
    let cancel = cloud
        .post(
            &format!("/bookings/{}/cancel", booking["id"].as_str().unwrap()),
            &json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    assert_eq!(
        free(&cloud, &room).await,
        vec![("08:00".into(), "20:00".into())]
    );
    assert_eq!(
        book_range(&cloud, &token, &room, "11:15", "12:00")
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn ranges_off_the_grid_or_outside_the_hours_are_refused() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let room = room(&cloud, &admin).await;
    let course = cloud.new_resource(&admin, "COURSE").await;
    let token = cloud.user_token().await;
    let cases = [
        (
            book_range(&cloud, &token, &room, "10:05", "11:00").await,
            400,
            "INVALID_RANGE",
        ),
        (
            book_range(&cloud, &token, &room, "11:00", "10:00").await,
            400,
            "INVALID_RANGE",
        ),
        (
            book_range(&cloud, &token, &room, "07:00", "09:00").await,
            400,
            "OUTSIDE_OPENING_HOURS",
        ),
        (
            book_range(&cloud, &token, &room, "ten", "11:00").await,
            400,
            "INVALID_RANGE",
        ),
        (
            book_range(&cloud, &token, &course, "10:00", "11:00").await,
            409,
            "NOT_A_ROOM",
        ),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status(), status, "{code}");
        assert_eq!(res.json::<Value>().await.unwrap()["code"], code);
    }
    assert_eq!(
        free(&cloud, &room).await,
        vec![("08:00".into(), "20:00".into())]
    );
    let no_rules = cloud
        .post(
            &format!("/admin/venues/{}/resources", uuid::Uuid::now_v7()),
            &json!({ "name": "R", "kind": "ROOM" }),
            Some(&admin),
        )
        .await;
    assert_eq!(no_rules.status(), 400);
}

//! Reporting through the running local cloud: a scripted day of bookings,
//! payments, cancellations with refunds, expiries and failures over two
//! resources of a venue in Asia/Seoul, counted by the stats consumer; the
//! figures equal a recount from the bookings, do not move when every event
//! is delivered again out of order, and the operator's rebuild finds no
//! difference. The admin activity log records each admin action once, and
//! a customer gets 403 from every reporting route.

use std::collections::BTreeMap;

use chrono::Duration;
use serde_json::{Value, json};
use system_tests::dates::{Today, VENUE_ZONE, iso};
use system_tests::reporting::{get, stats, venue};
use system_tests::saga::Customer;
use system_tests::{Cloud, PATIENCE, access_token, deliver, eventually};

/// The figures a stats row answers, as comparable numbers.
fn figures(row: &Value) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (k, v) in row["bookings"].as_object().unwrap() {
        out.insert(k.clone(), v.as_i64().unwrap());
    }
    for (k, v) in row["cancellations_by_notice"].as_object().unwrap() {
        out.insert(format!("notice_{k}"), v.as_i64().unwrap());
    }
    out.insert("places_sold".into(), row["places_sold"].as_i64().unwrap());
    let eur = &row["revenue"]["EUR"];
    out.insert("gross".into(), eur["gross_cents"].as_i64().unwrap_or(0));
    out.insert("refunds".into(), eur["refunds_cents"].as_i64().unwrap_or(0));
    out
}

/// The same figures recounted from a resource's bookings as the operator
/// list shows them (and the refund share each cancellation was given).
async fn recount(
    cloud: &Cloud,
    admin: &str,
    resource: &str,
    date: &str,
    shares: &BTreeMap<String, u32>,
) -> BTreeMap<String, i64> {
    let page = stats(
        cloud,
        admin,
        &format!("/admin/resources/{resource}/bookings?date={date}&limit=100"),
    )
    .await;
    let mut out: BTreeMap<String, i64> = [
        "created",
        "confirmed",
        "cancelled",
        "expired",
        "failed",
        "places_sold",
        "gross",
        "refunds",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), 0))
    .collect();
    for k in [
        "under_24h",
        "from_1_to_3_days",
        "from_3_to_7_days",
        "over_7_days",
    ] {
        out.insert(format!("notice_{k}"), 0);
    }
    for b in page["bookings"].as_array().unwrap() {
        let status = b["status"].as_str().unwrap();
        let price = b["price_cents"].as_i64().unwrap();
        let paid = !b["confirmed_at"].is_null();
        *out.get_mut("created").unwrap() += 1;
        if paid {
            *out.get_mut("confirmed").unwrap() += 1;
            *out.get_mut("gross").unwrap() += price;
        }
        match status {
            "CONFIRMED" => *out.get_mut("places_sold").unwrap() += b["quantity"].as_i64().unwrap(),
            "CANCELLED" => {
                *out.get_mut("cancelled").unwrap() += 1;
                // Every cancellation here is more than a week ahead.
                *out.get_mut("notice_over_7_days").unwrap() += 1;
                if paid {
                    let share = i64::from(shares[b["id"].as_str().unwrap()]);
                    *out.get_mut("refunds").unwrap() += price * share / 100;
                }
            }
            "EXPIRED" => *out.get_mut("expired").unwrap() += 1,
            "FAILED" => *out.get_mut("failed").unwrap() += 1,
            _ => {}
        }
    }
    out
}

async fn cancel(cloud: &Cloud, token: &str, id: &str) {
    let res = cloud
        .post(&format!("/bookings/{id}/cancel"), &json!({}), Some(token))
        .await;
    assert_eq!(res.status(), 200, "cancelling {id}");
}

fn rebuild(venue: &str, from: &str, to: &str) -> (i32, Value) {
    let bin =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/platform-admin");
    let out = std::process::Command::new(&bin)
        .args([
            "stats-rebuild",
            "--venue",
            venue,
            "--from",
            from,
            "--to",
            to,
            "--state-file",
        ])
        .arg(system_tests::state_path())
        .output()
        .expect("platform-admin runs");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), report)
}

#[tokio::test]
async fn a_scripted_day_is_counted_once_on_the_venues_day_and_reconciles() {
    let cloud = Cloud::connect().await;
    let admin_account = cloud.new_account().await;
    cloud.promote(&admin_account);
    let admin = access_token(&cloud.login(&admin_account).await);
    let venue = venue(&cloud, &admin).await;
    // 08:00 in Seoul on a Friday at least ten days ahead: 23:00 UTC the
    // day before.
    let friday = Today::at_venue().far_friday();
    let (day, eve) = (iso(friday), iso(friday - Duration::days(1)));
    let east = cloud
        .slot_of(&admin, &venue.resources[0], 10, &day, "08:00")
        .await;
    let west = cloud
        .slot_of(&admin, &venue.resources[1], 10, &day, "08:00")
        .await;
    let wallet = json!({ "method": "wallet" });

    let paying: Customer = cloud.customer(100_000).await;
    let kept = cloud.book_paid(&paying, &east, 2, &wallet).await;
    let refunded_customer = cloud.customer(100_000).await;
    let refunded = cloud.book_paid(&refunded_customer, &west, 1, &wallet).await;
    let broke = cloud.customer(0).await;
    let failed = cloud.book_paid(&broke, &east, 1, &wallet).await;
    let waiting = cloud.customer(0).await;
    let expired: Value = cloud
        .book(&waiting.token, &west, 1, &uuid::Uuid::new_v4().to_string())
        .await
        .json()
        .await
        .unwrap();
    let changing = cloud.customer(0).await;
    let dropped: Value = cloud
        .book(&changing.token, &east, 1, &uuid::Uuid::new_v4().to_string())
        .await
        .json()
        .await
        .unwrap();
    let id = |b: &Value| b["id"].as_str().unwrap().to_owned();

    cloud
        .wait_for_status(&paying.token, &id(&kept), &["CONFIRMED"], PATIENCE)
        .await;
    cloud
        .wait_for_status(
            &refunded_customer.token,
            &id(&refunded),
            &["CONFIRMED"],
            PATIENCE,
        )
        .await;
    cloud
        .wait_for_status(&broke.token, &id(&failed), &["FAILED"], PATIENCE)
        .await;
    let share = cloud.refund_percent_now(&west);
    cancel(&cloud, &refunded_customer.token, &id(&refunded)).await;
    cancel(&cloud, &changing.token, &id(&dropped)).await;
    cloud
        .sweep_as_of(chrono::Utc::now() + Duration::hours(1))
        .await;
    cloud
        .wait_for_status(&waiting.token, &id(&expired), &["EXPIRED"], PATIENCE)
        .await;
    let shares: BTreeMap<String, u32> = [(id(&refunded), share)].into_iter().collect();

    let venue_path = format!("/admin/venues/{}/stats?from={eve}&to={day}", venue.id);
    let expected_venue = {
        let mut total = recount(&cloud, &admin, &venue.resources[0], &day, &shares).await;
        for (k, v) in recount(&cloud, &admin, &venue.resources[1], &day, &shares).await {
            *total.get_mut(&k).unwrap() += v;
        }
        total
    };
    assert_eq!(expected_venue["created"], 5, "{expected_venue:?}");
    let answer = eventually("the venue's figures to count the day", PATIENCE, || async {
        let answer = stats(&cloud, &admin, &venue_path).await;
        (figures(&answer["rows"][1]) == expected_venue).then_some(answer)
    })
    .await;
    // The day before (UTC's day of the 08:00 start) has nothing.
    assert_eq!(answer["rows"][0]["start"], eve.as_str());
    assert!(
        figures(&answer["rows"][0]).values().all(|v| *v == 0),
        "{answer}"
    );
    assert_eq!(answer["rows"][1]["places_offered"], 20);
    assert_eq!(answer["time_zone"], VENUE_ZONE.name());
    for resource in &venue.resources {
        let row = stats(
            &cloud,
            &admin,
            &format!("/admin/resources/{resource}/stats?from={day}&to={day}"),
        )
        .await;
        assert_eq!(
            figures(&row["rows"][0]),
            recount(&cloud, &admin, resource, &day, &shares).await
        );
    }

    // Every event of the day delivered twice more, newest first.
    let mut again = Vec::new();
    for b in [&kept, &refunded, &failed, &expired, &dropped] {
        again.extend(
            cloud
                .logged_envelopes_mentioning(&id(b))
                .await
                .into_iter()
                .filter(|(_, e)| e.event_type.as_str().starts_with("Booking")),
        );
    }
    again.sort_by_key(|(_, e)| std::cmp::Reverse(e.occurred_at));
    assert!(again.len() >= 10, "{} events", again.len());
    deliver(&cloud, "stats-consumer", &again).await;
    deliver(&cloud, "stats-consumer", &again).await;
    assert_eq!(
        figures(&stats(&cloud, &admin, &venue_path).await["rows"][1]),
        expected_venue
    );

    let (code, report) = rebuild(&venue.id, &eve, &day);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["bookings"], 5);
    assert_eq!(report["differences"], json!([]));

    let dashboard = stats(
        &cloud,
        &admin,
        &format!("/admin/venues/{}/dashboard", venue.id),
    )
    .await;
    assert_eq!(dashboard["time_zone"], VENUE_ZONE.name());
    assert_eq!(
        dashboard["occupancy_matrix"]["occupancy"]
            .as_array()
            .unwrap()
            .len(),
        7
    );

    // The admin's actions, once each, in the activity log.
    let me = admin_account.id.as_str();
    let actions = eventually(
        "the admin's actions in the activity log",
        PATIENCE,
        || async {
            let log = stats(
                &cloud,
                &admin,
                &format!("/admin/activity?actor={me}&limit=100"),
            )
            .await;
            let actions: Vec<String> = log["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["action"].as_str().unwrap().to_owned())
                .collect();
            (actions.len() >= 6).then_some(actions)
        },
    )
    .await;
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "company_created",
            "resource_created",
            "resource_created",
            "slots_generated",
            "slots_generated",
            "venue_created"
        ],
        "newest first: {actions:?}"
    );
    assert_eq!(actions.first().map(String::as_str), Some("slots_generated"));

    // A customer reads none of it.
    for path in [
        venue_path.clone(),
        format!(
            "/admin/resources/{}/stats?from={day}&to={day}",
            venue.resources[0]
        ),
        format!("/admin/venues/{}/dashboard", venue.id),
        format!(
            "/admin/resources/{}/bookings/export?from={day}&to={day}",
            venue.resources[0]
        ),
        "/admin/activity".to_owned(),
    ] {
        assert_eq!(
            get(&cloud, &path, &paying.token).await.status(),
            403,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_dead_letter_redrive_is_recorded_once_in_the_activity_log() {
    let cloud = Cloud::connect().await;
    let admin_account = cloud.new_account().await;
    cloud.promote(&admin_account);
    let admin = access_token(&cloud.login(&admin_account).await);
    // An event the stats consumer passes over, dead-lettered by hand: once
    // redriven it is taken and gone.
    let ping = shared::EventEnvelope::of(
        &shared::events::Ping::Diagnostic {
            note: "redrive me".into(),
        },
        shared::CorrelationId::generate(),
    )
    .unwrap();
    cloud
        .sqs
        .send_message()
        .queue_url(cloud.reference("StatsConsumerDeadLetterQueue"))
        .message_body(system_tests::bus_event("booking-platform.platform", &ping))
        .send()
        .await
        .unwrap();
    let res = cloud
        .post(
            "/admin/dead-letters/stats-consumer/redrive",
            &json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let moved = res.json::<Value>().await.unwrap()["moved"]
        .as_u64()
        .unwrap();
    assert!(moved >= 1);
    let me = admin_account.id.as_str();
    let entries = eventually("the redrive in the activity log", PATIENCE, || async {
        let log = stats(
            &cloud,
            &admin,
            &format!("/admin/activity?actor={me}&action=dead_letters_redriven"),
        )
        .await;
        let items = log["items"].as_array().unwrap().clone();
        (!items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["queue"], "stats-consumer");
    assert_eq!(entries[0]["moved"], moved);
}

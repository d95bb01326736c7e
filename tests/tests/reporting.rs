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
use system_tests::saga::Customer;
use system_tests::{Cloud, PATIENCE, access_token, deliver, eventually};

struct Venue {
    company: String,
    id: String,
    resources: [String; 2],
}

async fn venue(cloud: &Cloud, admin: &str) -> Venue {
    let company = cloud.new_company(admin).await;
    let res = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": company, "name": "Seoul Links", "kind": "GOLF_CLUB",
                     "city": "Seoul", "time_zone": VENUE_ZONE.name() }),
            Some(admin),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut resources = Vec::new();
    for name in ["East", "West"] {
        let res = cloud
            .post(
                &format!("/admin/venues/{id}/resources"),
                &json!({ "name": name, "kind": "COURSE" }),
                Some(admin),
            )
            .await;
        assert_eq!(res.status(), 201);
        resources.push(
            res.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    Venue {
        company,
        id,
        resources: [resources[0].clone(), resources[1].clone()],
    }
}

async fn get(cloud: &Cloud, path: &str, token: &str) -> reqwest::Response {
    cloud
        .http
        .get(cloud.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers")
}

async fn stats(cloud: &Cloud, admin: &str, path: &str) -> Value {
    let res = get(cloud, path, admin).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

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
async fn an_export_in_pages_is_one_csv_of_every_booking_with_its_payment() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let venue = venue(&cloud, &admin).await;
    let friday = iso(Today::at_venue().far_friday());
    let slot = cloud
        .slot_of(&admin, &venue.resources[0], 40, &friday, "09:00")
        .await;
    let customer = cloud.customer(100_000).await;
    let paid = cloud
        .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let mut ids = vec![paid["id"].as_str().unwrap().to_owned()];
    for _ in 0..4 {
        let hold: Value = cloud
            .book(&customer.token, &slot, 1, &uuid::Uuid::new_v4().to_string())
            .await
            .json()
            .await
            .unwrap();
        ids.push(hold["id"].as_str().unwrap().to_owned());
    }
    cloud
        .wait_for_status(&customer.token, &ids[0], &["CONFIRMED"], PATIENCE)
        .await;
    let mut csv = String::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let path = format!(
            "/admin/resources/{}/bookings/export?from={friday}&to={friday}&limit=2{cursor}",
            venue.resources[0]
        );
        let res = get(&cloud, &path, &admin).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        let next = res
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        csv.push_str(&res.text().await.unwrap());
        pages += 1;
        match next {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert!(pages >= 3);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[0].starts_with("number,booking_id,customer,"));
    for id in &ids {
        assert_eq!(
            lines.iter().filter(|l| l.contains(id.as_str())).count(),
            1,
            "{id}"
        );
    }
    let confirmed = lines.iter().find(|l| l.contains(ids[0].as_str())).unwrap();
    assert!(
        confirmed.ends_with(",CONFIRMED,EUR,5000,5000,0"),
        "{confirmed}"
    );
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

/// 5,000 confirmed and paid bookings of one day, written straight to the
/// table as the booking and payment adapters store them (no transaction,
/// outbox or history: only the export reads them), then exported page by
/// page.
#[tokio::test]
async fn an_export_of_five_thousand_bookings_completes_and_matches_them() {
    use futures::StreamExt;
    use shared::booking::{Booking, BookingId, BookingNumber, BookingStatus};
    use shared::catalog::{SlotId, TimeZone};
    const BOOKINGS: usize = 5_000;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let venue = venue(&cloud, &admin).await;
    let day = Today::at_venue().far_friday();
    let zone = TimeZone::parse(VENUE_ZONE.name()).unwrap();
    let now = chrono::Utc::now();
    let mut items = Vec::new();
    let mut expected = BTreeMap::new();
    for n in 0..BOOKINGS {
        let start = chrono::NaiveTime::from_hms_opt(6 + (n % 12) as u32, 0, 0).unwrap();
        let slot_id = SlotId::parse(&format!(
            "{}@{}T{}",
            venue.resources[0],
            iso(day),
            start.format("%H:%M")
        ))
        .unwrap();
        let price = 1_000 + (n as u64 % 7) * 100;
        let booking = Booking {
            id: BookingId::generate(),
            number: BookingNumber::generate(),
            user_id: shared::identity::UserId::generate(),
            kind: "counted".into(),
            venue_id: shared::catalog::VenueId::parse(&venue.id).unwrap(),
            company_id: Some(shared::identity::CompanyId::parse(&venue.company).unwrap()),
            time_zone: zone,
            starts_at: zone.local(zone.starts_at(&slot_id)),
            slot_id,
            quantity: 1,
            unit_price_cents: Some(price),
            seats: Vec::new(),
            back_nine_slot_id: None,
            ends_at: None,
            units: Vec::new(),
            price_cents: price,
            currency: "EUR".into(),
            payment: Some(shared::payment::PaymentMethod::Wallet),
            status: BookingStatus::Confirmed,
            confirmed_at: Some(now),
            hold_expires_at: now,
            created_at: now,
            updated_at: now,
        };
        let payment = shared::payment::new_payment(
            &booking.id,
            &booking.user_id,
            shared::payment::PaymentMethod::Wallet,
            price,
            now,
        );
        items.push(shared::adapters::dynamo::booking::bulk_item(&booking).unwrap());
        items.push(shared::adapters::dynamo::payment::bulk_item(&payment).unwrap());
        expected.insert(
            booking.id.to_string(),
            (booking.number.as_str().to_owned(), price),
        );
    }
    let table = cloud.table();
    let writes = items.chunks(25).map(|chunk| {
        let requests = chunk
            .iter()
            .map(|item| {
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect::<Vec<_>>();
        let (client, table) = (cloud.dynamodb.clone(), table.clone());
        async move {
            let mut pending = requests;
            while !pending.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(&table, pending)
                    .send()
                    .await
                    .expect("a batch write");
                pending = out
                    .unprocessed_items()
                    .and_then(|u| u.get(&table))
                    .cloned()
                    .unwrap_or_default();
            }
        }
    });
    futures::stream::iter(writes)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;

    let mut lines = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let path = format!(
            "/admin/resources/{}/bookings/export?from={d}&to={d}{cursor}",
            venue.resources[0],
            d = iso(day)
        );
        let res = get(&cloud, &path, &admin).await;
        assert_eq!(res.status(), 200);
        let next = res
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().unwrap().to_owned());
        let text = res.text().await.unwrap();
        lines.extend(text.lines().map(str::to_owned));
        pages += 1;
        match next {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    // 1000 rows a page (a page can also end early at DynamoDB's 1 MB).
    assert!(pages > BOOKINGS / 1000, "{pages} pages");
    assert_eq!(lines.len(), BOOKINGS + 1);
    let mut seen = std::collections::BTreeSet::new();
    for line in &lines[1..] {
        let fields: Vec<&str> = line.split(',').collect();
        let (number, price) = &expected[fields[1]];
        assert_eq!(fields[0], number);
        assert_eq!(fields[6], "CONFIRMED");
        assert_eq!(fields[8], price.to_string());
        assert_eq!(fields[9], price.to_string(), "paid: {line}");
        assert!(seen.insert(fields[1].to_owned()), "{} twice", fields[1]);
    }
    assert_eq!(seen.len(), BOOKINGS);
}

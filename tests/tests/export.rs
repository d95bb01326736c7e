//! Exports through the running local cloud: a resource's bookings over a
//! date range come back as CSV in pages that make one file, at 5,000
//! bookings too. Apart from tests/reporting.rs, whose sweep expires every
//! hold due within the hour: the holds here must live until confirmed.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use system_tests::dates::{Today, VENUE_ZONE, iso};
use system_tests::reporting::{get, venue};
use system_tests::{Cloud, PATIENCE};

/// The two tests take turns: the bulk load puts 10,000 records on the
/// table's stream, which the outbox relay reads through before any event
/// written after them, and a saga waiting behind them would time out.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn an_export_in_pages_is_one_csv_of_every_booking_with_its_payment() {
    let _turn = ONE_AT_A_TIME.lock().await;
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
    let _turn = ONE_AT_A_TIME.lock().await;
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

    // Leave no backlog behind for the tests after this one.
    cloud.wait_for_the_pipeline().await;
}

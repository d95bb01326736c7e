//! Venue time zones through the running local cloud. The test venues are in
//! Asia/Seoul (UTC+9): a slot time read as UTC would start nine hours
//! late, so each check below passes only if the platform reads it at the
//! venue.

use serde_json::{Value, json};
use system_tests::dates::{Today, VENUE_ZONE};
use system_tests::saga::Touched;
use system_tests::{Cloud, PATIENCE, eventually};

#[tokio::test]
async fn a_slot_that_started_at_the_venue_cannot_be_generated_though_utc_has_not_reached_it() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    // About two hours ago in Seoul; read as UTC it would be seven hours ahead.
    let started = Today::at_venue().start_in(-2);
    let res = cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &json!({
                "from": started.date_str(), "to": started.date_str(),
                "start_times": [started.time_str()],
                "duration_minutes": 10, "capacity": 4,
                "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "SLOT_IN_PAST", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("+09:00"),
        "the message gives the local time: {body}"
    );
}

#[tokio::test]
async fn slots_and_bookings_show_local_times_with_the_venues_offset() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let (resource, when) = slot.split_once('@').unwrap();
    let (date, start) = when.split_once('T').unwrap();
    let day: Value = cloud
        .http
        .get(cloud.url(&format!("/resources/{resource}/availability?date={date}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(day["time_zone"], VENUE_ZONE.name());
    assert_eq!(
        day["slots"][0]["starts_at"],
        format!("{date}T{start}:00+09:00")
    );
    assert_eq!(day["slots"][0]["ends_at"], format!("{date}T08:10:00+09:00"));

    let token = cloud.user_token().await;
    let booking: Value = cloud
        .book(&token, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(booking["time_zone"], VENUE_ZONE.name());
    assert_eq!(booking["starts_at"], format!("{date}T{start}:00+09:00"));
}

#[tokio::test]
async fn the_refund_notice_is_counted_to_the_start_at_the_venue() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    // 66 hours ahead in Seoul: inside the default policy's middle tier
    // (72h=100,24h=50). Read as UTC the start would be 75 hours ahead and
    // refunded in full.
    let start = Today::at_venue().start_in(66);
    let slot = cloud
        .new_slot_at(&admin, 2, &start.date_str(), &start.time_str())
        .await;
    let percent = cloud.refund_percent_now(&slot);
    assert!(percent < 100, "the slot is placed in a partial tier");
    let customer = cloud.customer(0).await;
    let mut touched = Touched::default();
    touched.slots.insert(slot.clone());
    touched.users.insert(customer.account.id.clone());

    let card = json!({ "method": "card", "card_token": "tok_visa" });
    let booking = cloud.book_paid(&customer, &slot, 1, &card).await;
    let id = booking["id"].as_str().unwrap().to_owned();
    touched.bookings.insert(id.clone());
    assert_eq!(
        cloud.wait_terminal(&customer.token, &id).await["status"],
        "CONFIRMED"
    );
    let res = cloud
        .post(
            &format!("/bookings/{id}/cancel"),
            &json!({}),
            Some(&customer.token),
        )
        .await;
    assert_eq!(res.status(), 200);
    let price = booking["price_cents"].as_u64().unwrap();
    let charge = eventually("the refund at the gateway", PATIENCE, || async {
        let charge = cloud.gateway_charge(&id).await?;
        (charge["refunded_cents"].as_u64() > Some(0)).then_some(charge)
    })
    .await;
    assert_eq!(
        charge["refunded_cents"].as_u64(),
        Some(shared::payment::share(price, percent)),
        "{percent}% of {price}"
    );
    cloud.reconcile(&touched).await;
}

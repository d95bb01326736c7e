//! No booking of the past, through the running local cloud: a slot whose
//! start has passed cannot be generated, booked or changed onto (409 with a
//! stable code), and nothing is written.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The stored item of a slot, read consistently.
async fn slot_item(cloud: &Cloud, slot: &str) -> HashMap<String, AttributeValue> {
    let (resource, when) = slot.split_once('@').expect("a slot id");
    cloud
        .dynamodb
        .get_item()
        .table_name(cloud.table())
        .key("PK", AttributeValue::S(format!("RESOURCE#{resource}")))
        .key("SK", AttributeValue::S(format!("SLOT#{when}")))
        .consistent_read(true)
        .send()
        .await
        .expect("reading the slot")
        .item
        .expect("the slot exists")
}

/// A copy of the future slot `slot`, written straight into the table as if
/// it had been generated the day before yesterday, when that day was still
/// ahead; returns its id. (The API refuses to create it now, which is the
/// point.)
async fn past_copy_of(cloud: &Cloud, slot: &str) -> String {
    let (resource, _) = slot.split_once('@').expect("a slot id");
    let start = &slot[slot.len() - 5..];
    let past = iso(Today::at_venue().date() - chrono::Duration::days(2));
    let id = format!("{resource}@{past}T{start}");
    let mut copy = slot_item(cloud, slot).await;
    copy.insert(
        "SK".into(),
        AttributeValue::S(format!("SLOT#{past}T{start}")),
    );
    copy.insert("id".into(), AttributeValue::S(id.clone()));
    cloud
        .dynamodb
        .put_item()
        .table_name(cloud.table())
        .set_item(Some(copy))
        .send()
        .await
        .expect("writing the past slot");
    id
}

#[tokio::test]
async fn a_slot_that_has_started_cannot_be_generated_booked_or_changed_onto() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let future = cloud.new_slot(&admin, 4).await;
    let (resource, _) = future.split_once('@').unwrap();

    // Generating yesterday is refused whole.
    let yesterday = iso(Today::at_venue().date() - chrono::Duration::days(1));
    let res = cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &json!({
                "from": yesterday, "to": yesterday, "start_times": ["08:00"],
                "duration_minutes": 10, "capacity": 4,
                "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "SLOT_IN_PAST", "{body}");

    // A slot whose start has passed refuses a booking and takes nothing.
    let past = past_copy_of(&cloud, &future).await;
    let token = cloud.user_token().await;
    let res = cloud.book(&token, &past, 1, &key()).await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "BOOKING_CLOSED", "{body}");
    let slots = slot_item(&cloud, &past).await;
    assert_eq!(slots["booked"], AttributeValue::N("0".into()));

    // A booking of the future slot cannot be moved onto it either.
    let booking: Value = cloud
        .book(&token, &future, 1, &key())
        .await
        .json()
        .await
        .unwrap();
    let res = cloud
        .patch(
            &format!("/bookings/{}", booking["id"].as_str().unwrap()),
            &json!({ "slot_id": past }),
            &token,
        )
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "BOOKING_CLOSED", "{body}");
    assert_eq!(cloud.slot_view(&future).await["remaining"], 3);
}

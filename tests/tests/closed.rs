//! Closed means closed, through the running local cloud: a venue closed by
//! an admin refuses bookings of every resource it has, inside the booking's
//! transaction, and takes nothing.

use serde_json::{Value, json};
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

#[tokio::test]
async fn a_closed_venue_refuses_bookings_and_takes_nothing() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let venue: Value = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": cloud.new_company(&admin).await, "name": "Closing Club", "kind": "GOLF_CLUB", "city": "Testville", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let venue_id = venue["id"].as_str().unwrap();
    let resource: Value = cloud
        .post(
            &format!("/admin/venues/{venue_id}/resources"),
            &json!({ "name": "Old Course", "kind": "COURSE" }),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let resource_id = resource["id"].as_str().unwrap();
    let date = iso(Today::at_venue().far_friday());
    let res = cloud
        .post(
            &format!("/admin/resources/{resource_id}/slots/generate"),
            &json!({
                "from": date, "to": date, "start_times": ["08:00"],
                "duration_minutes": 10, "capacity": 4,
                "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
            }),
            Some(&admin),
        )
        .await;
    assert_eq!(res.status(), 200);
    let slot = format!("{resource_id}@{date}T08:00");

    let closed = cloud
        .patch(
            &format!("/admin/venues/{venue_id}"),
            &json!({ "status": "CLOSED" }),
            &admin,
        )
        .await;
    assert_eq!(closed.status(), 200);

    let token = cloud.user_token().await;
    let res = cloud
        .book(&token, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 409);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "VENUE_CLOSED", "{body}");
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 4);

    // Open again, it books.
    let opened = cloud
        .patch(
            &format!("/admin/venues/{venue_id}"),
            &json!({ "status": "OPEN" }),
            &admin,
        )
        .await;
    assert_eq!(opened.status(), 200);
    let res = cloud
        .book(&token, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 3);
}

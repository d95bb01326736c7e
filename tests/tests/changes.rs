//! Changing what is bookable and what is booked, through the running local
//! cloud: closed slots and resources refuse bookings, capacity never drops
//! below what is booked, and a booking changes quantity or slot in one
//! transaction.

use serde_json::{Value, json};
use system_tests::Cloud;

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_closed_slot_refuses_bookings_and_capacity_never_drops_below_what_is_booked() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let token = cloud.user_token().await;
    assert_eq!(cloud.book(&token, &slot, 3, &key()).await.status(), 201);
    let patch = |body: Value, who: String| {
        let url = cloud.url(&format!("/admin/slots/{slot}"));
        let req = cloud.http.patch(url).bearer_auth(who).json(&body);
        async move { req.send().await.unwrap() }
    };
    let res = patch(json!({ "capacity": 2 }), admin.clone()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "CAPACITY_BELOW_BOOKED"
    );
    let res = patch(json!({ "status": "CLOSED" }), token.clone()).await;
    assert_eq!(res.status(), 403, "customers cannot close slots");
    let res = patch(json!({ "status": "CLOSED" }), admin.clone()).await;
    assert_eq!(res.status(), 200);
    let res = cloud.book(&token, &slot, 1, &key()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "SLOT_CLOSED");
    assert_eq!(cloud.slot_view(&slot).await["availability"], "CLOSED");
    let res = patch(
        json!({ "status": "AVAILABLE", "capacity": 6 }),
        admin.clone(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(cloud.slot_view(&slot).await["remaining"], 3);
    for bad in [
        json!({}),
        json!({ "capacity": 0 }),
        json!({ "status": "MAYBE" }),
        json!({ "colour": "red" }),
    ] {
        assert_eq!(
            patch(bad.clone(), admin.clone()).await.status(),
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_booking_changes_quantity_or_moves_slot_in_one_transaction() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let first = cloud.new_slot(&admin, 5).await;
    let (resource, when) = first.split_once('@').unwrap();
    let (date, _) = when.split_once('T').unwrap();
    let second = cloud.slot_of(&admin, resource, 3, date, "09:00").await;
    let token = cloud.user_token().await;
    let booking: Value = cloud
        .book(&token, &first, 2, &key())
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/bookings/{}", booking["id"].as_str().unwrap());
    let patch = |body: Value| {
        let req = cloud
            .http
            .patch(cloud.url(&path))
            .bearer_auth(&token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let res = patch(json!({ "quantity": 4 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["price_cents"], 20000);
    assert_eq!(cloud.slot_view(&first).await["remaining"], 1);

    // A booking moves only within its venue.
    let elsewhere = cloud.new_slot(&admin, 5).await;
    let res = patch(json!({ "slot_id": elsewhere })).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "OTHER_VENUE");

    // Moving 4 places to a slot of 3 is refused and changes nothing.
    let res = patch(json!({ "slot_id": second })).await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "SOLD_OUT");
    assert_eq!(
        (
            cloud.slot_view(&first).await["remaining"].clone(),
            cloud.slot_view(&second).await["remaining"].clone()
        ),
        (json!(1), json!(3))
    );

    let res = patch(json!({ "slot_id": second, "quantity": 3 })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        (
            cloud.slot_view(&first).await["remaining"].clone(),
            cloud.slot_view(&second).await["remaining"].clone()
        ),
        (json!(5), json!(0))
    );
    for bad in [
        json!({}),
        json!({ "quantity": 0 }),
        json!({ "slot_id": "x" }),
        json!({ "price_cents": 1 }),
    ] {
        assert_eq!(patch(bad.clone()).await.status(), 400, "{bad}");
    }
    let history: Value = cloud
        .http
        .get(cloud.url(&format!("{path}/history")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["history"].as_array().unwrap().len(), 3, "{history}");
}

#[tokio::test]
async fn a_closed_resource_refuses_new_bookings_and_reopens() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 5).await;
    let resource = slot.split('@').next().unwrap().to_owned();
    let token = cloud.user_token().await;
    let patch = |path: String, body: Value, who: &str| {
        let req = cloud
            .http
            .patch(cloud.url(&path))
            .bearer_auth(who)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let first_key = key();
    let first: Value = cloud
        .book(&token, &slot, 1, &first_key)
        .await
        .json()
        .await
        .unwrap();
    let closing = json!({ "status": "CLOSED", "name": "Old Course" });
    let res = patch(format!("/admin/resources/{resource}"), closing, &admin).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["name"], "Old Course");
    let res = cloud.book(&token, &slot, 1, &key()).await;
    assert_eq!(res.status(), 409);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "RESOURCE_CLOSED"
    );
    assert_eq!(
        cloud.slot_view(&slot).await["remaining"],
        4,
        "nothing more taken"
    );
    // A retry of a booking made before the close still gets its first answer.
    let replay = cloud.book(&token, &slot, 1, &first_key).await;
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.json::<Value>().await.unwrap()["id"], first["id"]);
    let open = json!({ "status": "OPEN" });
    let path = format!("/admin/resources/{resource}");
    assert_eq!(
        patch(path.clone(), open.clone(), &token).await.status(),
        403
    );
    assert_eq!(
        patch(path.clone(), open.clone(), &admin).await.status(),
        200
    );
    assert_eq!(cloud.book(&token, &slot, 1, &key()).await.status(), 201);
    let missing = format!("/admin/resources/{}", uuid::Uuid::now_v7());
    assert_eq!(patch(missing, open, &admin).await.status(), 404);
    assert_eq!(patch(path, json!({}), &admin).await.status(), 400);
}

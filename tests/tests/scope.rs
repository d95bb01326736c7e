//! Every route that acts on a company's venues, resources, slots, bookings
//! or staff, taken from openapi.yaml, is tried by each staff member of
//! another company (owner, manager, viewer) against company A's ids, with a
//! body the schema accepts: each is refused (404, as for what does not
//! exist, or 403), and nothing of A changes, read back through the API.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use system_tests::openapi::{Spec, openapi};
use system_tests::{Cloud, StaffedCompany};

/// Routes of the platform alone or of no company: not in this test (their
/// own tests cover them), or answering the caller's own (the list of
/// companies a caller is staff of).
fn in_scope(method: &str, path: &str) -> bool {
    let platform = path.starts_with("/admin/dead-letters")
        || path.starts_with("/admin/wallets")
        || (method == "get" && path == "/admin/companies");
    (path.starts_with("/admin/") || path.starts_with("/bookings/{booking_id}")) && !platform
}

/// What can be read of A, through the API, as its staff and customer see it.
async fn state_of(cloud: &Cloud, a: &StaffedCompany, booking: &str, customer: &str) -> Json {
    let get = |path: String, token: Option<String>| {
        let mut req = cloud.http.get(cloud.url(&path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move {
            let res = req.send().await.unwrap();
            (
                res.status().as_u16(),
                res.json::<Json>().await.unwrap_or(Json::Null),
            )
        }
    };
    let date = a.slot.split_once('@').unwrap().1.split_once('T').unwrap().0;
    let parts = [
        get(format!("/venues/{}/resources", a.venue), None).await,
        get(
            format!("/resources/{}/availability?date={date}", a.resource),
            None,
        )
        .await,
        get(format!("/slots/{}/seats", a.slot), None).await,
        get(format!("/bookings/{booking}"), Some(customer.to_owned())).await,
        get(
            format!("/bookings/{booking}/history"),
            Some(customer.to_owned()),
        )
        .await,
        get(
            format!("/admin/companies/{}/staff", a.id),
            Some(a.owner_token.clone()),
        )
        .await,
        get(
            format!("/admin/resources/{}/bookings", a.resource),
            Some(a.manager_token.clone()),
        )
        .await,
    ];
    json!(parts.iter().map(|(s, b)| json!([s, b])).collect::<Vec<_>>())
}

#[tokio::test]
async fn staff_of_another_company_are_refused_every_company_route_and_change_nothing() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let (a, b) = (
        cloud.staffed_company(&admin).await,
        cloud.staffed_company(&admin).await,
    );
    let customer = cloud.user_token().await;
    let res = cloud
        .book(&customer, &a.slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 201);
    let booking: Json = res.json().await.unwrap();
    let booking = booking["id"].as_str().unwrap().to_owned();
    let params: BTreeMap<&'static str, String> = BTreeMap::from([
        ("company_id", a.id.clone()),
        ("venue_id", a.venue.clone()),
        ("resource_id", a.resource.clone()),
        ("slot_id", a.slot.clone()),
        ("booking_id", booking.clone()),
        ("user_id", a.manager.id.clone()),
        ("room_id", cloud.new_room_in(&admin, &a.venue).await),
    ]);
    let doc = openapi();
    let spec = Spec {
        schemas: doc["components"]["schemas"].clone(),
        ids: params.clone(),
    };
    let before = state_of(&cloud, &a, &booking, &customer).await;
    let outsiders = [
        ("B's owner", &b.owner_token),
        ("B's manager", &b.manager_token),
        ("B's viewer", &b.viewer_token),
    ];
    let mut failures = Vec::new();
    let mut tried = 0;
    for (path, operations) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for (method, operation) in operations.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if !in_scope(method, path) {
                continue;
            }
            let mut url = path.to_owned();
            for (name, value) in &params {
                url = url.replace(&format!("{{{name}}}"), value);
            }
            assert!(!url.contains('{'), "no value for a parameter of {path}");
            let body = operation
                .get("requestBody")
                .map(|b| spec.valid(&b["content"]["application/json"]["schema"], "body"));
            for (who, token) in outsiders {
                let mut req = cloud
                    .http
                    .request(method.to_uppercase().parse().unwrap(), cloud.url(&url))
                    .bearer_auth(token)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string());
                if let Some(body) = &body {
                    req = req.json(body);
                }
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                tried += 1;
                if ![403, 404].contains(&status) {
                    let answer = res.text().await.unwrap_or_default();
                    failures.push(format!("{who}: {method} {url} answered {status} {answer}"));
                }
            }
        }
    }
    let after = state_of(&cloud, &a, &booking, &customer).await;
    assert!(tried >= 3 * 15, "only {tried} requests tried");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(before, after, "company A changed");
}

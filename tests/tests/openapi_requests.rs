//! openapi.yaml and the running API agree both ways on request bodies: a
//! body generated from an operation's schema is never refused as the wrong
//! shape, and a body the schema forbids (a required field missing, an
//! unknown field, a wrong type, a value out of range or off its pattern or
//! enum) is always refused with 400 or 422. Path parameters name real
//! resources made for the test, so a refusal is the body's, not a 404.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use system_tests::Cloud;
use system_tests::openapi::{Spec, openapi};

/// The shape codes: a body refused as one of these was not read at all.
const SHAPE_CODES: [&str; 4] = [
    "INVALID_BODY",
    "MALFORMED_JSON",
    "MISSING_BODY",
    "UNSUPPORTED_MEDIA_TYPE",
];

/// Real resources for every path parameter, made by an admin.
async fn path_values(cloud: &Cloud, admin: &str) -> BTreeMap<&'static str, String> {
    let slot = cloud.new_slot(admin, 50).await;
    let resource = slot.split_once('@').unwrap().0.to_owned();
    let venues: Json = cloud
        .http
        .get(cloud.url("/venues?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let venue = venues["venues"][0]["id"].as_str().unwrap().to_owned();
    let booking: Json = cloud
        .book(admin, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await
        .json()
        .await
        .unwrap();
    let customer = cloud.new_account().await;
    let room = cloud.new_room_in(admin, &venue).await;
    BTreeMap::from([
        ("room_id", room),
        ("company_id", cloud.new_company(admin).await),
        ("venue_id", venue),
        ("resource_id", resource),
        ("slot_id", slot),
        ("booking_id", booking["id"].as_str().unwrap().to_owned()),
        ("user_id", customer.id),
    ])
}

#[tokio::test]
async fn generated_bodies_are_read_as_the_document_says_both_ways() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let doc = openapi();
    let params = path_values(&cloud, &admin).await;
    let spec = Spec {
        schemas: doc["components"]["schemas"].clone(),
        ids: params.clone(),
    };
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, operations) in doc["paths"].as_mapping().unwrap() {
        let path = path.as_str().unwrap();
        for (method, operation) in operations.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            let Some(schema) = operation
                .get("requestBody")
                .map(|b| &b["content"]["application/json"]["schema"])
            else {
                continue;
            };
            let mut url = path.to_owned();
            for (name, value) in &params {
                url = url.replace(&format!("{{{name}}}"), value);
            }
            assert!(!url.contains('{'), "no value for a parameter of {path}");
            let send = |body: Json| {
                let req = cloud
                    .http
                    .request(method.to_uppercase().parse().unwrap(), cloud.url(&url))
                    .bearer_auth(&admin)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&body);
                async move {
                    let res = req.send().await.unwrap();
                    let status = res.status().as_u16();
                    let body: Json = res.json().await.unwrap_or(Json::Null);
                    (status, body["code"].as_str().unwrap_or("").to_owned())
                }
            };
            let valid = spec.valid(schema, "body");
            let (status, code) = send(valid.clone()).await;
            checked += 1;
            if SHAPE_CODES.contains(&code.as_str()) || status >= 500 {
                failures.push(format!(
                    "{method} {path}: a valid body {valid} was refused {status} {code}"
                ));
            }
            for (what, body) in spec.invalid(schema, &valid) {
                let (status, code) = send(body.clone()).await;
                checked += 1;
                if !(status == 400 || status == 422) {
                    failures.push(format!(
                        "{method} {path}: a body with {what} was answered {status} {code}: {body}"
                    ));
                }
            }
        }
    }
    eprintln!(
        "{checked} generated requests, {} disagreements",
        failures.len()
    );
    assert!(checked > 100, "only {checked} requests generated");
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

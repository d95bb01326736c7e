//! Property test: whatever body a client sends to a route that takes one,
//! the answer is never a 5xx, and every refusal is a JSON error with a code.
//! Bodies are arbitrary JSON, and valid bodies with one field replaced by
//! arbitrary JSON.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use system_tests::Cloud;
use system_tests::dates::{Today, iso};

fn any_json() -> impl Strategy<Value = Value> {
    let week = Today::at_venue().price_week();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!(iso(week.friday))),
        Just(json!("08:00")),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!("x".repeat(5000))),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid body with one of its fields replaced, removed, or left alone.
fn mutated(valid: Value) -> impl Strategy<Value = Value> {
    let keys: Vec<String> = valid.as_object().unwrap().keys().cloned().collect();
    (0..keys.len() + 2, any_json()).prop_map(move |(i, replacement)| {
        let mut body = valid.clone();
        let map = body.as_object_mut().unwrap();
        match keys.get(i) {
            Some(key) if i % 2 == 0 => {
                map.insert(key.clone(), replacement);
            }
            Some(key) => {
                map.remove(key);
            }
            None => {
                map.insert("unexpected".into(), replacement);
            }
        }
        body
    })
}

fn check(
    cloud: &Cloud,
    rt: &tokio::runtime::Handle,
    path: &str,
    token: &str,
    body: &Value,
    patch: bool,
) -> Result<(), TestCaseError> {
    // reqwest builds its timeout timer when the request is made.
    let _runtime = rt.enter();
    let url = cloud.url(path);
    let req = if patch {
        cloud.http.patch(url)
    } else {
        cloud.http.post(url)
    };
    let res = rt
        .block_on(
            req.bearer_auth(token)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .json(body)
                .send(),
        )
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let status = res.status().as_u16();
    let text = rt.block_on(res.text()).unwrap_or_default();
    prop_assert!(status < 500, "{path} answered {status} to {body}: {text}");
    if status >= 400 {
        let error: Value = serde_json::from_str(&text)
            .map_err(|_| TestCaseError::fail(format!("not JSON: {text}")))?;
        prop_assert!(
            error["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{path}: {text}"
        );
    }
    Ok(())
}

#[test]
fn no_request_body_makes_any_route_answer_5xx() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let (cloud, admin, user, resource, slot, company) = rt.block_on(async {
        let cloud = Cloud::connect().await;
        let admin = cloud.admin_token().await;
        let user = cloud.user_token().await;
        let slot = cloud.new_slot(&admin, 1000).await;
        let resource = slot.split('@').next().unwrap().to_owned();
        let company = cloud.new_company(&admin).await;
        (cloud, admin, user, resource, slot, company)
    });
    let week = Today::at_venue().price_week();
    let routes: Vec<(String, String, Value, bool)> = vec![
        (
            "/bookings".into(),
            user.clone(),
            json!({ "kind": "counted", "slot_id": slot, "quantity": 1 }),
            false,
        ),
        (
            format!("/admin/resources/{resource}/slots/generate"),
            admin.clone(),
            json!({
                "from": iso(week.monday), "to": iso(week.tuesday), "start_times": ["09:00"],
                "duration_minutes": 10, "capacity": 4,
                "prices": { "weekday": 1, "weekend": 2, "holiday": 3 },
                "holidays": [], "premium_start_times": [], "premium_surcharge_percent": 10
            }),
            false,
        ),
        (
            format!("/admin/slots/{slot}"),
            admin.clone(),
            json!({ "status": "AVAILABLE", "capacity": 1000 }),
            true,
        ),
        (
            "/auth/signup".into(),
            user.clone(),
            json!({ "email": "fuzz@example.com", "password": "correct horse 7 battery", "name": "F", "phone": "+15555550100" }),
            false,
        ),
        (
            "/auth/login".into(),
            user.clone(),
            json!({ "email": "fuzz@example.com", "password": "x" }),
            false,
        ),
        (
            "/auth/refresh".into(),
            user.clone(),
            json!({ "refresh_token": "rt_x" }),
            false,
        ),
        (
            "/admin/venues".into(),
            admin.clone(),
            json!({ "company_id": company, "name": "V", "kind": "OTHER", "city": "C", "time_zone": system_tests::dates::VENUE_ZONE.name() }),
            false,
        ),
    ];
    for (path, token, valid, patch) in routes {
        let mut runner = TestRunner::new(Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = prop_oneof![any_json(), mutated(valid)];
        runner
            .run(&strategy, |body| {
                check(&cloud, &handle, &path, &token, &body, patch)
            })
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

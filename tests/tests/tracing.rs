//! Traces through the running local cloud: one paid booking's correlation
//! id annotates a subsegment in the trace of every function its saga runs
//! through (the API's function, the relay, the payment processor, the
//! confirmation), each under the segment Lambda (here the local cloud) records
//! for the invocation (docs/observability.md, Traces).

use serde_json::{Value, json};
use system_tests::{Cloud, PATIENCE, eventually};

/// Every segment and subsegment of the traces annotated with `id`.
async fn traced(cloud: &Cloud, id: &str) -> Vec<Value> {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/xray/segments", cloud.admin),
        [("correlation_id", id)],
    )
    .expect("a URL");
    let answer = cloud.admin_get(url).await;
    answer["segments"].as_array().cloned().unwrap_or_default()
}

/// `POST /bookings` of `body` as `token`, with the correlation id chosen.
async fn book(cloud: &Cloud, token: &str, body: &Value, correlation: &str) -> reqwest::Response {
    cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .header("x-correlation-id", correlation)
        .json(body)
        .send()
        .await
        .expect("the API answers")
}

/// The function name (as Lambda names the invocation's segment) of a binary.
fn function_name(cloud: &Cloud, binary: &str) -> String {
    cloud.state["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .find(|f| f["binary"] == binary)
        .and_then(|f| f["name"].as_str())
        .unwrap_or_else(|| panic!("no function {binary}"))
        .to_owned()
}

/// The ended subsegment named `name` of the function `function`'s trace,
/// checked against the invocation segment it belongs to.
fn subsegment<'a>(
    segments: &'a [Value],
    function: &str,
    name: &str,
    id: &str,
) -> Option<&'a Value> {
    let invocations: Vec<&Value> = segments
        .iter()
        .filter(|s| s["origin"] == "AWS::Lambda::Function" && s["name"] == function)
        .collect();
    let sub = segments.iter().find(|s| {
        s["type"] == "subsegment"
            && s["name"] == name
            && s["annotations"]["correlation_id"] == id
            && invocations
                .iter()
                .any(|i| i["id"] == s["parent_id"] && i["trace_id"] == s["trace_id"])
    })?;
    (sub["in_progress"] != true).then_some(sub)
}

#[tokio::test]
async fn a_paid_booking_s_correlation_id_annotates_the_trace_of_every_function_of_its_saga() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 2).await;
    let customer = cloud.customer(20_000).await;
    let correlation = format!("trace-{}", uuid::Uuid::new_v4());

    let body = json!({
        "kind": "counted", "slot_id": slot, "quantity": 1, "payment": { "method": "wallet" },
    });
    let res = book(&cloud, &customer.token, &body, &correlation).await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok()),
        Some(correlation.as_str())
    );
    let booking: Value = res.json().await.expect("a booking");
    let id = booking["id"].as_str().expect("an id");
    cloud
        .wait_for_status(&customer.token, id, &["CONFIRMED"], PATIENCE)
        .await;

    let steps = [
        ("booking-create", "POST /bookings"),
        ("outbox-relay", "relay BookingCreated"),
        ("payment-processor", "BookingCreated"),
        ("outbox-relay", "relay PaymentCompleted"),
        ("booking-confirmation", "PaymentCompleted"),
    ];
    let steps = steps.map(|(binary, name)| (function_name(&cloud, binary), name));
    let segments = eventually("the saga's subsegments", PATIENCE, || async {
        let segments = traced(&cloud, &correlation).await;
        steps
            .iter()
            .all(|(function, name)| subsegment(&segments, function, name, &correlation).is_some())
            .then_some(segments)
    })
    .await;
    for (function, name) in &steps {
        let sub = subsegment(&segments, function, name, &correlation).expect("found above");
        assert!(
            sub["end_time"].as_f64() >= sub["start_time"].as_f64(),
            "{sub}"
        );
        assert_ne!(sub["fault"], true, "{sub}");
        assert_ne!(sub["error"], true, "{sub}");
        let trace = sub["trace_id"].as_str().expect("a trace id");
        assert!(trace.starts_with("1-") && trace.len() == 35, "{trace}");
    }
}

#[tokio::test]
async fn a_refused_request_s_subsegment_is_marked_as_the_caller_s_error() {
    let cloud = Cloud::connect().await;
    let customer = cloud.customer(0).await;
    let correlation = format!("trace-{}", uuid::Uuid::new_v4());
    let body = json!({ "kind": "counted", "slot_id": "no-such-slot", "quantity": 0 });
    let res = book(&cloud, &customer.token, &body, &correlation).await;
    assert_eq!(res.status().as_u16() / 100, 4);
    let function = function_name(&cloud, "booking-create");
    let sub = eventually("the refused request's subsegment", PATIENCE, || async {
        let segments = traced(&cloud, &correlation).await;
        subsegment(&segments, &function, "POST /bookings", &correlation).cloned()
    })
    .await;
    assert_eq!(sub["error"], true, "{sub}");
    assert_ne!(sub["fault"], true, "{sub}");
}

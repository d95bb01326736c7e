//! Metrics through the running local cloud: a booking's steps appear in the
//! functions' logs as CloudWatch Embedded Metric Format lines, the lines
//! CloudWatch Logs turns into metrics on AWS (docs/observability.md).

use serde_json::{Value, json};
use system_tests::{Cloud, PATIENCE, eventually};

/// The EMF documents in `binary`'s log that carry the metric `name`.
async fn documents(cloud: &Cloud, binary: &str, name: &str) -> Vec<Value> {
    cloud
        .log_lines(binary, &format!("\"{name}\""))
        .await
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|doc| doc["_aws"]["CloudWatchMetrics"].is_array())
        .collect()
}

/// Waits for a document of `name` in `binary`'s log with the dimension
/// values of `dimensions`, checks that it is well formed EMF, and returns it.
async fn metric(cloud: &Cloud, binary: &str, name: &str, dimensions: &Value) -> Value {
    let wanted = dimensions.as_object().expect("dimensions");
    let doc = eventually(
        &format!("{binary} to log the metric {name} {dimensions}"),
        PATIENCE,
        || async {
            documents(cloud, binary, name)
                .await
                .into_iter()
                .rev()
                .find(|doc| wanted.iter().all(|(k, v)| &doc[k] == v))
        },
    )
    .await;
    let directive = &doc["_aws"]["CloudWatchMetrics"][0];
    assert!(
        directive["Namespace"]
            .as_str()
            .is_some_and(|ns| ns.starts_with("BookingPlatform")),
        "{doc}"
    );
    let mut keys: Vec<&str> = wanted.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let declared = directive["Dimensions"]
        .as_array()
        .expect("dimension sets")
        .iter()
        .any(|set| {
            let mut set: Vec<&str> = set
                .as_array()
                .expect("a dimension set")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            set.sort_unstable();
            set == keys
        });
    assert!(declared, "{name} is not declared with {keys:?}: {doc}");
    assert!(
        directive["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .any(|m| m["Name"] == name),
        "{doc}"
    );
    assert!(doc["_aws"]["Timestamp"].as_u64().is_some(), "{doc}");
    assert!(doc[name].is_number() || doc[name].is_array(), "{doc}");
    doc
}

/// The unit a document declares for its metric `name`.
fn unit_of(doc: &Value, name: &str) -> Option<Value> {
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()?
        .iter()
        .find(|m| m["Name"] == name)
        .map(|m| m["Unit"].clone())
}

#[tokio::test]
async fn a_paid_booking_logs_its_creation_payment_and_confirmation_as_metrics() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 2).await;
    let customer = cloud.customer(20_000).await;

    let booking = cloud
        .book_paid(&customer, &slot, 2, &json!({ "method": "wallet" }))
        .await;
    let id = booking["id"].as_str().expect("an id");
    let confirmed = cloud
        .wait_for_status(&customer.token, id, &["CONFIRMED"], PATIENCE)
        .await;
    assert_eq!(confirmed["status"], "CONFIRMED");

    let kind = json!({ "Kind": "counted" });
    let created = metric(&cloud, "booking-create", "BookingsCreated", &kind).await;
    assert!(created["BookingsCreated"].as_u64() >= Some(1), "{created}");
    assert_eq!(unit_of(&created, "BookingsCreated"), Some(json!("Count")));
    metric(&cloud, "booking-confirmation", "BookingsConfirmed", &kind).await;
    let paid = json!({ "Method": "wallet", "Outcome": "COMPLETED" });
    metric(&cloud, "payment-processor", "Payments", &paid).await;
    let latency = metric(
        &cloud,
        "payment-processor",
        "PaymentLatency",
        &json!({ "Method": "wallet" }),
    )
    .await;
    assert_eq!(
        unit_of(&latency, "PaymentLatency"),
        Some(json!("Milliseconds")),
        "{latency}"
    );

    // The slot is full now: the next customer is refused, and counted.
    let late = cloud.customer(20_000).await;
    let res = cloud
        .book(&late.token, &slot, 1, &uuid::Uuid::new_v4().to_string())
        .await;
    assert_eq!(res.status(), 409);
    let refused = json!({ "Code": "SOLD_OUT" });
    metric(&cloud, "booking-create", "SoldOutRefusals", &refused).await;

    // Every instance counted its own start, under its function's name.
    let name = cloud.function("booking-create").await["name"].clone();
    let started = documents(&cloud, "booking-create", "ColdStart").await;
    assert!(
        started.iter().any(|doc| doc["Function"] == name),
        "no cold start of {name}: {started:?}"
    );
}

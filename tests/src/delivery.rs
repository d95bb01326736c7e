//! Events as SQS hands them to a consumer: the EventBridge event around
//! an envelope, and a batch delivered straight to a consumer's runtime.

use serde_json::Value;

use crate::Cloud;

/// Delivers `events` (source, envelope) to the consumer `binary` in one
/// batch, straight through its runtime, as SQS would redeliver them after
/// a lost acknowledgement; asserts every message was taken.
pub async fn deliver(cloud: &Cloud, binary: &str, events: &[(String, shared::EventEnvelope)]) {
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(n, (source, envelope))| {
            serde_json::json!({
                "messageId": format!("again-{n}-{}", uuid::Uuid::new_v4()),
                "receiptHandle": format!("rh-{n}"),
                "body": bus_event(source, envelope),
                "attributes": { "ApproximateReceiveCount": "2", "SentTimestamp": "1", "SenderId": "local",
                                "ApproximateFirstReceiveTimestamp": "1" },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:again",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    let res = cloud
        .http
        .post(format!("{}/functions/{binary}/invoke", cloud.admin))
        .json(&serde_json::json!({ "Records": records }))
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.expect("json");
    assert_eq!(answer["outcome"], "ok", "{answer}");
    assert_eq!(
        answer["payload"]["batchItemFailures"],
        serde_json::json!([]),
        "every redelivery taken: {answer}"
    );
}

/// The EventBridge event the bus delivers for an envelope, as a queue body.
pub fn bus_event(source: &str, envelope: &shared::EventEnvelope) -> String {
    serde_json::json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": envelope.event_type.as_str(),
        "source": source,
        "account": "123456789012",
        "time": envelope.occurred_at.to_rfc3339(),
        "region": "us-east-1",
        "resources": [],
        "detail": envelope,
    })
    .to_string()
}

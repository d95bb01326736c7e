//! SES failing, through the running local cloud: the local cloud's SES
//! proxy refuses the sends to one address (`POST /faults/ses`). A
//! throttled send is retried (the SDK's attempts, then SQS's redeliveries)
//! and goes out once; a rejected one is recorded in the send ledger as
//! failed and never tried again. Its own test binary: the faults touch
//! only the addresses made here, but nothing else runs meanwhile.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use system_tests::{Cloud, PATIENCE, TEST_PASSWORD, eventually};

/// Sets a fault (or clears them all with `None`); how many sends the proxy
/// refused before.
async fn fault(cloud: &Cloud, fault: Option<Value>) -> u64 {
    let url = format!("{}/faults/ses", cloud.admin);
    let req = match &fault {
        Some(f) => cloud.http.post(url).json(f),
        None => cloud.http.delete(url),
    };
    let res = req.send().await.expect("the admin API answers");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["refused"]
        .as_u64()
        .unwrap()
}

/// Signs `email` up; the id of its `UserRegistered` event, once logged.
async fn sign_up(cloud: &Cloud, email: &str) -> String {
    let res = cloud
        .post(
            "/auth/signup",
            &json!({ "email": email, "password": TEST_PASSWORD, "name": "Faulty", "phone": "+15555550100" }),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the logged UserRegistered", PATIENCE, || async {
        cloud
            .logged_envelopes_mentioning(&id)
            .await
            .into_iter()
            .find(|(_, e)| e.event_type.as_str() == "UserRegistered")
            .map(|(_, e)| e.id.to_string())
    })
    .await
}

async fn welcomes(cloud: &Cloud, email: &str) -> usize {
    let sent: Value = cloud
        .http
        .get(format!("{}/sent?to={email}", cloud.admin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sent["emails"].as_array().unwrap().len()
}

async fn ledger(cloud: &Cloud, event_id: &str) -> Option<(String, String)> {
    let item = cloud
        .dynamodb
        .get_item()
        .table_name(cloud.table())
        .key("PK", AttributeValue::S(format!("NOTICE#EVENT#{event_id}")))
        .key("SK", AttributeValue::S("CHANNEL#EMAIL".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item?;
    let text = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    Some((text("status"), text("reason")))
}

#[tokio::test]
async fn ses_refusing_for_a_while_is_retried_and_sent_once_and_a_rejection_is_recorded_not_retried()
{
    let cloud = Cloud::connect().await;

    // Throttled five times: three SDK attempts, SQS's redelivery, then through.
    let throttled = format!("throttled-{}@example.com", uuid::Uuid::new_v4());
    let before = fault(
        &cloud,
        Some(json!({ "to": throttled, "count": 5, "code": "Throttling" })),
    )
    .await;
    let event = sign_up(&cloud, &throttled).await;
    eventually("the welcome, after the throttling", PATIENCE, || async {
        (welcomes(&cloud, &throttled).await == 1).then_some(())
    })
    .await;
    assert_eq!(ledger(&cloud, &event).await.unwrap().0, "SENT");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(welcomes(&cloud, &throttled).await, 1, "sent once");
    let after = fault(&cloud, None).await;
    assert_eq!(after - before, 5, "every refusal was retried through");

    // Rejected (a suppressed address): recorded, never tried again.
    let rejected = format!("rejected-{}@example.com", uuid::Uuid::new_v4());
    let before = fault(
        &cloud,
        Some(json!({ "to": rejected, "count": 1000, "code": "MessageRejected" })),
    )
    .await;
    let event = sign_up(&cloud, &rejected).await;
    let (status, reason) = eventually("the rejection recorded", PATIENCE, || async {
        ledger(&cloud, &event)
            .await
            .filter(|(status, _)| status == "FAILED")
    })
    .await;
    assert_eq!(status, "FAILED");
    assert!(reason.contains("MessageRejected"), "{reason}");
    // Two visibility timeouts later: still the one attempt.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = fault(&cloud, None).await;
    assert_eq!(after - before, 1, "a rejection is not retried");
    assert_eq!(welcomes(&cloud, &rejected).await, 0);
}

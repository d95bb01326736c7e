//! Admin alerts through the running local cloud: a message in a
//! dead-letter queue becomes an email to the admins' address.

use serde_json::json;
use system_tests::notifications::sent;
use system_tests::{Cloud, PATIENCE, eventually};

#[tokio::test]
async fn a_message_in_a_dead_letter_queue_is_an_email_to_the_admins() {
    let cloud = Cloud::connect().await;
    let dlq = cloud.reference("NotificationSenderDeadLetterQueue");
    let needle = uuid::Uuid::new_v4().to_string();
    cloud
        .sqs
        .send_message()
        .queue_url(&dlq)
        .message_body(json!({ "poison": needle }).to_string())
        .send()
        .await
        .expect("a dead letter");

    let answer = cloud.run_as_of("admin-alerts", chrono::Utc::now()).await;
    assert_eq!(answer["outcome"], "ok", "{answer}");
    let waiting = answer["payload"]["waiting"].as_array().unwrap();
    assert!(
        waiting
            .iter()
            .any(|w| w[0] == "notification-sender" && w[1].as_u64() >= Some(1)),
        "{answer}"
    );
    // This hour's alert about the queue, from this run or an earlier one.
    let admins = cloud.parameter("AdminAlertEmail");
    let alert = eventually("the admin alert", PATIENCE, || async {
        sent(&cloud, &admins).await["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains("in the notification-sender dead-letter queue"))
            })
            .cloned()
    })
    .await;
    assert!(
        alert["body"]
            .as_str()
            .unwrap()
            .contains("/admin/dead-letters/notification-sender/redrive"),
        "{alert}"
    );

    // Leave the queue as it was.
    let out = cloud
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    for m in out.messages() {
        if m.body().is_some_and(|b| b.contains(&needle)) {
            cloud
                .sqs
                .delete_message()
                .queue_url(&dlq)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

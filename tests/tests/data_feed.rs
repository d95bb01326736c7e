//! The data-platform feed through the running local cloud: every event the
//! bus carried lands in the feed's bucket as newline-delimited JSON under
//! `events/type=<type>/date=<day of occurred_at>/` (the template's
//! Firehose stream, delivered locally by the local cloud), and the events
//! of one booking each appear once, in their own partition.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use system_tests::{Cloud, PATIENCE, eventually};

/// Every record of the bucket: event id -> the object keys it is in.
async fn records(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix("events/")
            .set_continuation_token(token)
            .send()
            .await
            .expect("listing the feed");
        for object in page.contents() {
            let key = object.key().unwrap_or_default().to_owned();
            let body = s3
                .get_object()
                .bucket(bucket)
                .key(&key)
                .send()
                .await
                .expect("an object")
                .body
                .collect()
                .await
                .expect("its body")
                .into_bytes();
            let text = String::from_utf8(body.to_vec()).expect("UTF-8");
            assert!(text.ends_with('\n'), "{key}: every record ends its line");
            for line in text.lines() {
                let record: Value = serde_json::from_str(line).expect("one JSON record per line");
                let id = record["id"].as_str().expect("an envelope's id").to_owned();
                out.entry(id).or_default().push(key.clone());
            }
        }
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            return out;
        }
    }
}

#[tokio::test]
async fn every_event_lands_in_its_partition_and_a_bookings_events_once() {
    let cloud = Cloud::connect().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cloud.sdk)
            .endpoint_url(
                cloud.state["aws"]
                    .as_str()
                    .expect("the AWS emulator's address"),
            )
            .force_path_style(true)
            .build(),
    );
    let bucket = cloud.reference("DataFeedBucket");
    let admin = cloud.admin_token().await;
    let slot = cloud.new_slot(&admin, 4).await;
    let customer = cloud.customer(100_000).await;
    let booking = cloud
        .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
        .await;
    let id = booking["id"].as_str().unwrap().to_owned();
    cloud
        .wait_for_status(&customer.token, &id, &["CONFIRMED"], PATIENCE)
        .await;
    let ours = eventually(
        "the booking's three events in the event log",
        PATIENCE,
        || async {
            let events = cloud.logged_envelopes_mentioning(&id).await;
            (events.len() >= 3).then_some(events)
        },
    )
    .await;
    let logged = cloud.logged_envelopes_mentioning("\"occurred_at\"").await;
    let feed = eventually("every logged event in the feed", PATIENCE, || async {
        let feed = records(&s3, &bucket).await;
        logged
            .iter()
            .all(|(_, e)| feed.contains_key(&e.id.to_string()))
            .then_some(feed)
    })
    .await;
    for (_, event) in &ours {
        let keys = &feed[&event.id.to_string()];
        assert_eq!(
            keys.len(),
            1,
            "{} {} once: {keys:?}",
            event.event_type,
            event.id
        );
        let partition = format!(
            "events/type={}/date={}/",
            event.event_type,
            event.occurred_at.format("%Y-%m-%d")
        );
        assert!(
            keys[0].starts_with(&partition),
            "{} not under {partition}",
            keys[0]
        );
    }
    let repeated = feed.values().filter(|keys| keys.len() > 1).count();
    // Delivery is at least once (a relay retried by a fault test publishes
    // an event again); `id` is the key that removes a repeat.
    eprintln!(
        "data feed: {} events logged, {} in the feed, {repeated} of them more than once",
        logged.len(),
        feed.len()
    );
}

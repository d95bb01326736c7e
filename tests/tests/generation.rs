//! Slot generation and its event, through the running local cloud: a
//! generation is written in parts of up to 99 slots, each part's slots and
//! its `SlotsGenerated` in one transaction, so the events count exactly
//! the slots in the table (the outbox rule has no exceptions).

use serde_json::json;
use system_tests::dates::{Today, iso};
use system_tests::{Cloud, PATIENCE, eventually};

#[tokio::test]
async fn every_part_of_a_generation_is_reported_by_its_own_event() {
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let resource = cloud.new_resource(&admin, "COURSE").await;
    let from = Today::at_venue().far_friday();
    let to = from + chrono::Duration::days(1);
    // 75 tee times a day for two days: 150 slots, two parts.
    let times: Vec<String> = (0..75)
        .map(|i| format!("{:02}:{:02}", 6 + i * 10 / 60, i * 10 % 60))
        .collect();
    let pattern = json!({
        "from": iso(from), "to": iso(to), "start_times": times,
        "duration_minutes": 10, "capacity": 4,
        "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
    });
    let path = format!("/admin/resources/{resource}/slots/generate");
    let res = cloud.post(&path, &pattern, Some(&admin)).await;
    assert_eq!(res.status(), 200);
    let summary: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (summary["created"].as_u64(), summary["skipped"].as_u64()),
        (Some(150), Some(0))
    );

    let parts = eventually("both parts' events in the event log", PATIENCE, || async {
        let events: Vec<_> = cloud
            .logged_envelopes_mentioning(&resource)
            .await
            .into_iter()
            .filter(|(_, e)| e.event_type.as_str() == "SlotsGenerated")
            .collect();
        (events.len() >= 2).then_some(events)
    })
    .await;
    assert_eq!(parts.len(), 2);
    let created: u64 = parts
        .iter()
        .map(|(_, e)| e.data["created"].as_u64().unwrap())
        .sum();
    assert_eq!(created, 150, "the events count exactly the slots written");
    assert!(parts.iter().all(|(_, e)| e.data["parts"] == 2));

    // Again: nothing new, every slot counted as there already.
    let again: serde_json::Value = cloud
        .post(&path, &pattern, Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(150))
    );
}

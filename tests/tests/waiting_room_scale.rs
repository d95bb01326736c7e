//! The waiting room under a crowd, through the running local cloud: 2,000
//! callers entering at once, admission at a configured rate under the cap
//! while the admitter is killed mid-run, and the events admission leaves
//! in the event log (one per admission, the figures once a minute).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use shared::events::EventType;
use shared::waiting_room::admission::{BURST_MICROS, interval_micros};
use system_tests::waiting_room::{create_room, enter, figures, run_admitter, statuses};
use system_tests::{Cloud, eventually};

/// How long an event may take to reach the event log. Patience, not a
/// timing: the events go through the relay, moto and the event log's queue
/// at their pace on a shared machine, slower late in a full run and behind
/// the 2,000 admissions of the test beside; a test fails only if some never
/// arrive.
const EVENT_LOG_PATIENCE: Duration = Duration::from_secs(600);

/// A resource with one slot of `capacity` places and a room over it.
async fn room_over_a_slot(cloud: &Cloud, admin: &str, capacity: u32, settings: Value) -> String {
    let resource = cloud.new_resource(admin, "COURSE").await;
    let date = system_tests::dates::iso(system_tests::dates::Today::at_venue().far_friday());
    cloud
        .slot_of(admin, &resource, capacity, &date, "08:00")
        .await;
    create_room(cloud, admin, &resource, settings).await
}

/// Every caller enters, at most 100 at a time: each answer's code and
/// status, in the order of `tokens`.
async fn enter_all(cloud: &Cloud, room: &str, tokens: &[String]) -> Vec<(u16, Value)> {
    futures::stream::iter(tokens)
        .map(|t| enter(cloud, room, t))
        .buffered(100)
        .collect()
        .await
}

/// The room's `UserAdmitted` events in the event log, by admission number.
async fn admissions_logged(cloud: &Cloud, room: &str) -> BTreeMap<u64, Value> {
    cloud
        .logged_envelopes_mentioning(room)
        .await
        .into_iter()
        .filter(|(_, e)| e.event_type == EventType::UserAdmitted)
        .map(|(_, e)| (e.data["admission_no"].as_u64().expect("a number"), e.data))
        .collect()
}

#[tokio::test]
async fn two_thousand_callers_enter_at_once_and_are_admitted_in_order_without_gaps() {
    const CALLERS: usize = 2_000;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let room = room_over_a_slot(
        &cloud,
        &admin,
        5_000,
        json!({ "rate_per_minute": 12_000, "max_active": 5_000, "abandon_after_seconds": 900 }),
    )
    .await;
    let tokens: Vec<String> = cloud
        .session_tokens(CALLERS)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();

    let first = enter_all(&cloud, &room, &tokens).await;
    assert!(
        first.iter().all(|(code, _)| *code == 201),
        "every caller got a new ticket"
    );
    // Entering again, all at once again, answers each the same ticket.
    let again = enter_all(&cloud, &room, &tokens).await;
    for ((code, s), (_, was)) in again.iter().zip(&first) {
        assert_eq!((*code, &s["entered_at"]), (200, &was["entered_at"]));
    }

    let admitter = run_admitter(&cloud, 50);
    eventually("all 2,000 admitted", Duration::from_secs(240), || async {
        let f = figures(&cloud, &room, &admin).await;
        (f["admitted"] == CALLERS).then_some(())
    })
    .await;
    admitter.abort();

    // 2,000 distinct positions, 1 to 2,000, each admitted, through the API.
    let all = statuses(&cloud, &room, &tokens).await;
    assert!(all.iter().all(|s| s["state"] == "ADMITTED"));
    let positions: BTreeSet<u64> = all
        .iter()
        .map(|s| s["position"].as_u64().expect("a position"))
        .collect();
    assert_eq!(positions, (1..=CALLERS as u64).collect::<BTreeSet<_>>());
    // Admitted once each and in queue order: admission n went to position
    // n, for every n, with nobody skipped.
    let logged = eventually("2,000 admissions logged", EVENT_LOG_PATIENCE, || async {
        let logged = admissions_logged(&cloud, &room).await;
        (logged.len() >= CALLERS).then_some(logged)
    })
    .await;
    assert_eq!(logged.len(), CALLERS, "one UserAdmitted per admission");
    for (n, event) in &logged {
        assert_eq!(event["position"], *n, "admission {n}");
    }
    let users: BTreeSet<&str> = logged
        .values()
        .map(|e| e["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users.len(), CALLERS, "nobody admitted twice");
}

/// When each admitted caller was admitted: its pass's expiry less the
/// room's pass lifetime.
fn admitted_at(all: &[Value], pass_ttl_seconds: i64) -> Vec<DateTime<Utc>> {
    let mut at: Vec<DateTime<Utc>> = all
        .iter()
        .filter(|s| s["state"] == "ADMITTED")
        .map(|s| {
            let expires: DateTime<Utc> = s["pass_expires_at"]
                .as_str()
                .expect("an admitted ticket's pass expiry")
                .parse()
                .expect("a time");
            expires - chrono::Duration::seconds(pass_ttl_seconds)
        })
        .collect();
    at.sort_unstable();
    at
}

#[tokio::test]
async fn admission_keeps_to_the_rate_and_the_cap_when_the_admitter_is_killed_mid_run() {
    const CALLERS: usize = 40;
    const CAP: u64 = 24;
    const RATE: u32 = 120;
    const TTL: i64 = 600;
    let cloud = Cloud::connect().await;
    let admin = cloud.admin_token().await;
    let room = room_over_a_slot(
        &cloud,
        &admin,
        500,
        json!({
            "rate_per_minute": RATE, "max_active": CAP,
            "pass_ttl_seconds": TTL, "abandon_after_seconds": 900
        }),
    )
    .await;
    let tokens: Vec<String> = cloud
        .session_tokens(CALLERS)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert!(
        enter_all(&cloud, &room, &tokens)
            .await
            .iter()
            .all(|(c, _)| *c == 201)
    );

    let admitter = run_admitter(&cloud, 30);
    eventually("a few admitted", Duration::from_secs(60), || async {
        let f = figures(&cloud, &room, &admin).await;
        (f["admitted"].as_u64() >= Some(4)).then_some(())
    })
    .await;
    // Kill every admitter running now, between two of its writes; the
    // next run (the loop's, or the schedule's) carries on from what was
    // written.
    let killed = cloud.kill_running("waiting-room-admitter").await;
    assert!(killed >= 1, "an admitter was running");
    let before = figures(&cloud, &room, &admin).await["admitted"]
        .as_u64()
        .unwrap();
    assert!(before < CAP, "killed before the cap was reached ({before})");

    eventually("the cap reached", Duration::from_secs(90), || async {
        let f = figures(&cloud, &room, &admin).await;
        (f["admitted"] == CAP).then_some(())
    })
    .await;
    // Nobody books, so nobody leaves: the cap holds.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let f = figures(&cloud, &room, &admin).await;
    assert_eq!(
        (f["admitted"].as_u64(), f["active"].as_u64()),
        (Some(CAP), Some(CAP))
    );
    admitter.abort();

    // The first 24 in line admitted, the rest waiting in order behind them.
    let all = statuses(&cloud, &room, &tokens).await;
    let mut admitted: Vec<u64> = all
        .iter()
        .filter(|s| s["state"] == "ADMITTED")
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    admitted.sort_unstable();
    assert_eq!(admitted, (1..=CAP).collect::<Vec<_>>());
    let mut waiting: Vec<u64> = all
        .iter()
        .filter(|s| s["state"] == "WAITING")
        .map(|s| s["position"].as_u64().unwrap())
        .collect();
    waiting.sort_unstable();
    assert_eq!(waiting, (CAP + 1..=CALLERS as u64).collect::<Vec<_>>());

    // The rate held across the kill: in any stretch between two
    // admissions, no more than the rate allows, with one second of banked
    // credit (the admitter's bound) on top.
    let at = admitted_at(&all, TTL);
    let interval = interval_micros(RATE);
    for i in 0..at.len() {
        for j in i..at.len() {
            let span = (at[j] - at[i]).num_microseconds().unwrap();
            let allowed = (span + BURST_MICROS) / interval + 1;
            let count = (j - i + 1) as i64;
            assert!(
                count <= allowed,
                "{count} admissions within {span} us (at most {allowed} at {RATE}/min)"
            );
        }
    }

    // One UserAdmitted per admission, admission n to position n. The event
    // log's patience is the other test's: this room's events queue behind
    // its 2,000 on the way through the relay, moto and the event log.
    let logged = eventually("24 admissions logged", EVENT_LOG_PATIENCE, || async {
        let logged = admissions_logged(&cloud, &room).await;
        (logged.len() as u64 >= CAP).then_some(logged)
    })
    .await;
    assert_eq!(
        logged.keys().copied().collect::<Vec<_>>(),
        (1..=CAP).collect::<Vec<_>>()
    );
    for (n, event) in &logged {
        assert_eq!(event["position"], *n);
    }
    // The figures: once a minute, not once per poll (the test polled the
    // room dozens of times).
    let figures_logged = eventually("the room's figures logged", EVENT_LOG_PATIENCE, || async {
        let found: Vec<Value> = cloud
            .logged_envelopes_mentioning(&room)
            .await
            .into_iter()
            .filter(|(_, e)| e.event_type == EventType::WaitingRoomFigures)
            .map(|(_, e)| e.data)
            .collect();
        found.iter().any(|f| f["admitted"] == CAP).then_some(found)
    })
    .await;
    let minutes: BTreeSet<&str> = figures_logged
        .iter()
        .map(|f| f["minute"].as_str().unwrap())
        .collect();
    assert_eq!(minutes.len(), figures_logged.len(), "one per minute");
    let latest = figures_logged
        .iter()
        .find(|f| f["admitted"] == CAP)
        .unwrap();
    assert_eq!(
        (
            &latest["active"],
            &latest["waiting"],
            &latest["rate_per_minute"],
            &latest["sold_out"]
        ),
        (
            &json!(CAP),
            &json!(CALLERS as u64 - CAP),
            &json!(RATE),
            &json!(false)
        )
    );
}

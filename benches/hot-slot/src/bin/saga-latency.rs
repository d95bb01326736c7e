//! Saga latency benchmark: the time from `POST /bookings` (paid from the
//! wallet) to the booking reading CONFIRMED, at 1 and at 50 concurrent
//! users, through the running local cloud.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//! Each user signs up, tops up its wallet, then books one place at a time,
//! waiting until the booking is CONFIRMED (FAILED or timed-out bookings are
//! counted apart). The bench must not be its own bottleneck: 50 users
//! polling `GET /bookings/{id}` every 25 ms made 72 authorized Lambda
//! invocations per booking and took most of the CPU, so one watcher reads
//! every pending booking's status straight from the table instead, one
//! `BatchGetItem` per 100 pending bookings every `--poll-ms`. The path
//! measured is the whole choreography: booking transaction -> DynamoDB
//! stream -> outbox relay -> EventBridge -> payment queue -> payment
//! processor -> bus -> confirmation queue -> booking confirmation.
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 --gateway-port 3202 \
//!     --count-dynamodb-requests --state-file .local/run/bench-cloud.json &
//! cargo run --release -p hot-slot-bench --bin saga-latency -- \
//!     --state-file .local/run/bench-cloud.json
//! ```
//!
//! Each round also prints the requests made to moto and to DynamoDB Local
//! per confirmed booking, by action, as the local cloud's proxies in front
//! of them counted (everything in the cloud during the round, so run it on
//! a cloud doing nothing else).
//!
//! It then prints a ceiling: the raw rate of the booking's transaction on
//! the same DynamoDB Local, measured first in the same run, divided by the
//! `TransactWriteItems` one confirmed booking made, and the ratio of the
//! achieved rate to it (docs/saga-throughput.md has the figures).
//!
//! The local cloud's SQS pollers long-poll (20 s, as Lambda's do), so a
//! message is taken as soon as it is sent. Everything shares the machine's
//! CPUs; read the figures as rough.

#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use tokio::sync::oneshot;

use clap::Parser;
use hot_slot_bench::{
    Cloud, Error, admin, drive, log_in, new_slot, raw_booking, sign_up, today_at_venue,
};
use serde_json::{Value, json};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::{BookingRequest, fingerprint};
use shared::identity::UserId;

#[derive(Debug, Parser)]
#[command(about = "Time from POST /bookings to CONFIRMED, at several numbers of concurrent users")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    /// Concurrent users of each round.
    #[arg(long, value_delimiter = ',', default_value = "1,50")]
    users: Vec<usize>,
    /// Bookings each user makes, one after the other.
    #[arg(long, default_value_t = 10)]
    bookings_per_user: usize,
    /// How often the watcher reads the pending bookings' status.
    #[arg(long, default_value_t = 25)]
    poll_ms: u64,
    /// Give up on a booking after this long.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// booking-create's transaction run straight against DynamoDB Local
    /// first, at the largest --users in flight: the table's own rate, which
    /// divided by the transactions a confirmed booking takes is the
    /// pipeline's ceiling.
    #[arg(long, default_value_t = 500)]
    raw_transactions: usize,
    #[arg(long, default_value = "target/debug/platform-admin")]
    platform_admin: PathBuf,
}

enum Outcome {
    Confirmed(Duration),
    Failed,
    TimedOut,
}

/// Bookings waited for, and who waits: read from the table in batches.
struct Watcher {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    pending: Mutex<HashMap<String, oneshot::Sender<String>>>,
}

impl Watcher {
    /// The status `id` leaves PENDING for.
    fn watch(&self, id: String) -> oneshot::Receiver<String> {
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("lock").insert(id, tx);
        rx
    }

    async fn run(&self, every: Duration) {
        loop {
            let ids: Vec<String> = self.pending.lock().expect("lock").keys().cloned().collect();
            for chunk in ids.chunks(100) {
                let keys = chunk.iter().map(|id| {
                    HashMap::from([
                        ("PK".to_owned(), AttributeValue::S(format!("BOOKING#{id}"))),
                        ("SK".to_owned(), AttributeValue::S("BOOKING".into())),
                    ])
                });
                let Ok(wanted) = KeysAndAttributes::builder()
                    .set_keys(Some(keys.collect()))
                    .projection_expression("PK, #s")
                    .expression_attribute_names("#s", "status")
                    .build()
                else {
                    continue;
                };
                // A failed or partial read is read again on the next round.
                let Ok(out) = self
                    .dynamo
                    .batch_get_item()
                    .request_items(&self.table, wanted)
                    .send()
                    .await
                else {
                    continue;
                };
                let items = out.responses.and_then(|mut r| r.remove(&self.table));
                for item in items.unwrap_or_default() {
                    let (Some(AttributeValue::S(pk)), Some(AttributeValue::S(status))) =
                        (item.get("PK"), item.get("status"))
                    else {
                        continue;
                    };
                    if status == "PENDING" {
                        continue;
                    }
                    let id = pk.trim_start_matches("BOOKING#");
                    if let Some(tx) = self.pending.lock().expect("lock").remove(id) {
                        let _ = tx.send(status.clone());
                    }
                }
            }
            tokio::time::sleep(every).await;
        }
    }
}

async fn user(cloud: &Cloud, points: u64) -> Result<String, Error> {
    let email = format!("saga-bench-{}@example.com", uuid::Uuid::new_v4());
    sign_up(cloud, &email).await?;
    let token = log_in(cloud, &email).await?;
    let res = cloud
        .http
        .post(cloud.url("/wallet/charge"))
        .bearer_auth(&token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "points": points, "card_token": "tok_visa" }))
        .send()
        .await?;
    if res.status() != 201 {
        return Err(format!("top-up answered {}", res.status()).into());
    }
    Ok(token)
}

async fn one_booking(
    cloud: &Cloud,
    watcher: &Watcher,
    token: &str,
    slot: &str,
    args: &Args,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let res = cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "kind": "counted", "slot_id": slot, "quantity": 1, "payment": { "method": "wallet" } }))
        .send()
        .await?;
    if res.status() != 201 {
        return Err(format!("POST /bookings answered {}", res.status()).into());
    }
    let booking: Value = res.json().await?;
    let id = booking["id"].as_str().ok_or("no booking id")?.to_owned();
    let settled = watcher.watch(id.clone());
    match tokio::time::timeout(Duration::from_secs(args.timeout_secs), settled).await {
        Ok(Ok(status)) if status == "CONFIRMED" => Ok(Outcome::Confirmed(started.elapsed())),
        Ok(_) => Ok(Outcome::Failed),
        Err(_) => {
            watcher.pending.lock().expect("lock").remove(&id);
            Ok(Outcome::TimedOut)
        }
    }
}

/// Both emulators' request counts, keyed `<emulator>/<service>:<action>`.
async fn requests(cloud: &Cloud) -> Result<BTreeMap<String, u64>, Error> {
    let mut all = BTreeMap::new();
    for emulator in ["aws", "dynamodb"] {
        for (action, n) in cloud.emulator_requests(emulator).await? {
            all.insert(format!("{emulator}/{action}"), n);
        }
    }
    Ok(all)
}

/// Waits until the events of the raw phase's bookings are through the
/// pipeline: no event put on the bus for 3 s (at most 2 minutes).
async fn settle(cloud: &Cloud) -> Result<(), Error> {
    let puts = |counts: BTreeMap<String, u64>| counts.get("events:PutEvents").copied();
    let mut last = puts(cloud.emulator_requests("aws").await?);
    let mut quiet = 0;
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = puts(cloud.emulator_requests("aws").await?);
        quiet = if now == last { quiet + 1 } else { 0 };
        if quiet >= 3 {
            break;
        }
        last = now;
    }
    Ok(())
}

/// booking-create's transaction straight against DynamoDB Local:
/// transactions per second, all on one slot (as the rounds book) and on a
/// slot per writer (no transaction conflicts).
async fn raw_rate(
    cloud: &Cloud,
    args: &Args,
    admin_id: &str,
    token: &str,
) -> Result<(f64, f64), Error> {
    let date = (today_at_venue() + chrono::Duration::days(31))
        .format("%Y-%m-%d")
        .to_string();
    let in_flight = args.users.iter().copied().max().unwrap_or(1);
    let capacity = u32::try_from(2 * args.raw_transactions)
        .unwrap_or(u32::MAX)
        .max(1);
    let hot = new_slot(cloud, token, &date, capacity).await?;
    let mut spread = Vec::new();
    for _ in 0..in_flight {
        spread.push(new_slot(cloud, token, &date, capacity).await?);
    }
    let client = cloud.dynamo_client().await;
    let store = (
        DynamoBookings::new(client.clone(), cloud.table.clone()),
        DynamoCatalog::new(client, cloud.table.clone()),
    );
    let user = UserId::parse(admin_id)?;
    let mut rates = Vec::new();
    // The first phase warms DynamoDB Local's JVM up and is not counted.
    for slots in [vec![hot.clone()], vec![hot], spread] {
        let mut requests = Vec::new();
        for slot in slots {
            let body = BookingRequest::Counted {
                slot_id: slot,
                quantity: 1,
                holes: None,
                payment: None,
            };
            let fingerprint = fingerprint(&serde_json::to_vec(&body)?);
            requests.push((body.validate()?, fingerprint));
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (wall, outcomes) = drive(args.raw_transactions, in_flight, || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % requests.len();
            let (request, fingerprint) = &requests[i];
            raw_booking(&store, &user, request, fingerprint)
        })
        .await;
        let done = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
        rates.push(done as f64 / wall.as_secs_f64());
        // Each phase's bookings put events on the pipeline: they are through
        // it before the next phase, so neither competes with them.
        settle(cloud).await?;
    }
    Ok((rates[1], rates[2]))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn run(args: Args) -> Result<(), Error> {
    let cloud = Cloud::load(&args.state_file)?;
    if cloud.emulator_requests("dynamodb").await.is_err() {
        return Err(
            "the ceiling needs DynamoDB Local's request counts: start the local cloud \
                    with --count-dynamodb-requests (see the top of this file)"
                .into(),
        );
    }
    let (admin_id, admin_token) = admin(&cloud, &args.platform_admin, &args.state_file).await?;
    let watcher = Arc::new(Watcher {
        dynamo: cloud.dynamo_client().await,
        table: cloud.table.clone(),
        pending: Mutex::default(),
    });
    let watching = tokio::spawn({
        let watcher = Arc::clone(&watcher);
        let every = Duration::from_millis(args.poll_ms);
        async move { watcher.run(every).await }
    });
    let mut requests_per_round = Vec::new();
    let (hot_rate, spread_rate) = raw_rate(&cloud, &args, &admin_id, &admin_token).await?;
    let date = (today_at_venue() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    println!(
        "| users | bookings | confirmed | failed | timed out | p50 ms | p99 ms | max ms | wall s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &users in &args.users {
        let total = users * args.bookings_per_user;
        let capacity = u32::try_from(total).unwrap_or(u32::MAX).max(1);
        let slot = new_slot(&cloud, &admin_token, &date, capacity).await?;
        let tokens = futures::future::try_join_all(
            // The dearest day's price (a holiday's), for every booking.
            (0..users).map(|_| user(&cloud, 9000 * args.bookings_per_user as u64)),
        )
        .await?;
        let before = requests(&cloud).await?;
        let started = Instant::now();
        let per_user = futures::future::join_all(tokens.iter().map(|token| {
            let (cloud, slot, args, watcher) = (&cloud, &slot, &args, &*watcher);
            async move {
                let mut out = Vec::new();
                for _ in 0..args.bookings_per_user {
                    out.push(one_booking(cloud, watcher, token, slot, args).await);
                }
                out
            }
        }))
        .await;
        let wall = started.elapsed();
        let after = requests(&cloud).await?;
        let (mut times, mut failed, mut timed_out) = (Vec::new(), 0, 0);
        for outcome in per_user.into_iter().flatten() {
            match outcome? {
                Outcome::Confirmed(d) => times.push(d),
                Outcome::Failed => failed += 1,
                Outcome::TimedOut => timed_out += 1,
            }
        }
        times.sort();
        println!(
            "| {users} | {total} | {} | {failed} | {timed_out} | {:.0} | {:.0} | {:.0} | {:.1} |",
            times.len(),
            percentile(&times, 50.0),
            percentile(&times, 99.0),
            times.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
            wall.as_secs_f64()
        );
        let made: BTreeMap<String, u64> = after
            .into_iter()
            .map(|(action, n)| {
                let earlier = before.get(&action).copied().unwrap_or(0);
                (action, n.saturating_sub(earlier))
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        requests_per_round.push((users, times.len(), wall, made));
    }
    watching.abort();
    println!();
    println!("Requests per confirmed booking (the whole cloud, during each round):");
    println!();
    println!("| users | action | per booking |");
    println!("|---|---|---|");
    for (users, confirmed, _, made) in &requests_per_round {
        let per = |n: u64| n as f64 / (*confirmed).max(1) as f64;
        for emulator in ["aws", "dynamodb"] {
            let mine: Vec<_> = made
                .iter()
                .filter(|(k, _)| k.starts_with(emulator))
                .collect();
            let mut by_count = mine.clone();
            by_count.sort_by(|a, b| b.1.cmp(a.1));
            for (action, n) in by_count {
                println!(
                    "| {users} | {} | {:.2} |",
                    action.trim_start_matches(emulator).trim_start_matches('/'),
                    per(*n)
                );
            }
            println!(
                "| {users} | **all {emulator}** | **{:.2}** |",
                per(mine.iter().map(|(_, n)| **n).sum())
            );
        }
    }
    println!();
    println!(
        "The ceiling: DynamoDB Local's rate of booking-create's transaction, {} in flight, on one slot ({hot_rate:.1}/s) and on a slot per writer ({spread_rate:.1}/s), divided by the transactions a confirmed booking takes:",
        args.users.iter().max().unwrap_or(&1)
    );
    println!();
    println!(
        "| users | confirmed/s | transactions per booking | ceiling/s, one slot | achieved/ceiling | ceiling/s, spread | achieved/ceiling |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (users, confirmed, wall, made) in &requests_per_round {
        let transactions = made
            .get("dynamodb/dynamodb:TransactWriteItems")
            .copied()
            .unwrap_or(0);
        let per_booking = (transactions as f64 / (*confirmed).max(1) as f64).max(f64::MIN_POSITIVE);
        let rate = *confirmed as f64 / wall.as_secs_f64();
        let (hot, spread) = (hot_rate / per_booking, spread_rate / per_booking);
        println!(
            "| {users} | {rate:.1} | {per_booking:.2} | {hot:.1} | {:.2} | {spread:.1} | {:.2} |",
            rate / hot,
            rate / spread
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("saga-latency: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

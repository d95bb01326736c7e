//! Hot-slot benchmark: how fast one slot takes counted bookings through the
//! local HTTP API, next to the raw rate of the same DynamoDB transaction
//! against the same DynamoDB Local, measured in the same run.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//!
//! 1. Signs up a fresh account, promotes it with `platform-admin promote`,
//!    logs in, and generates two fresh slots (one per phase) through the
//!    admin API, each with room for every request.
//! 2. HTTP phase: `--requests` `POST /bookings` of one place each (unique
//!    `Idempotency-Key`), `--concurrency` in flight, after `--warmup`
//!    uncounted requests.
//! 3. Raw phase: the same count and concurrency of the booking service's
//!    `create` called in-process over the DynamoDB adapters against the
//!    table in DynamoDB Local: the same GetItem of the slot and the same
//!    TransactWriteItems of seven items the `booking-create` function runs.
//! 4. Prints requests, successes, wall time, bookings/s, p50/p99/max latency
//!    of each phase and the HTTP/raw ratios.
//!
//! # Running it
//!
//! Build everything once (`infra/up.sh` does it, or
//! `cargo build --workspace --bins`), start a local cloud of its own, then
//! run the benchmark against its state file, from the workspace root:
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 \
//!     --state-file .local/run/bench-cloud.json &
//! cargo run --release -p hot-slot-bench -- --state-file .local/run/bench-cloud.json
//! ```
//!
//! A cloud started by `infra/up.sh` works too (the default state file).
//! The functions run as the debug builds the local cloud starts, with 4
//! instances each by default (`--instances`), so with more requests in
//! flight than instances the HTTP phase also measures queueing for an
//! instance. On a small, shared machine (2 cores) all of the cloud, the
//! emulators and this client compete for the same CPUs: read the figures as
//! rough.

// Printing the figures is the whole point of this binary.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::{BookingRequest, IdempotencyKey, fingerprint};
use shared::catalog::MAX_CAPACITY;
use shared::identity::UserId;

use hot_slot_bench::{Cloud, Error, admin, drive, new_slot, raw_booking, today_at_venue};

#[derive(Debug, Parser)]
#[command(about = "Hot-slot bookings/s and latency: local HTTP API vs raw DynamoDB transaction")]
struct Args {
    /// The running local cloud's state file.
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    /// Measured bookings per phase.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Uncounted requests sent before each phase.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Places of each slot; must hold warmup + requests, at most 10000.
    #[arg(long, default_value_t = MAX_CAPACITY)]
    capacity: u32,
    /// The operator command that promotes the benchmark's account.
    #[arg(long, default_value = "target/debug/platform-admin")]
    platform_admin: PathBuf,
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    requests: usize,
    wall: Duration,
    /// Latencies of successful requests, sorted.
    latencies: Vec<Duration>,
    /// Failures by reason.
    failures: BTreeMap<String, usize>,
}

impl Phase {
    fn new(
        name: &'static str,
        wall: Duration,
        outcomes: Vec<(Duration, Result<(), String>)>,
    ) -> Self {
        let requests = outcomes.len();
        let mut latencies = Vec::with_capacity(requests);
        let mut failures = BTreeMap::new();
        for (latency, outcome) in outcomes {
            match outcome {
                Ok(()) => latencies.push(latency),
                Err(reason) => *failures.entry(reason).or_insert(0) += 1,
            }
        }
        latencies.sort();
        Self {
            name,
            requests,
            wall,
            latencies,
            failures,
        }
    }

    fn successes(&self) -> usize {
        self.latencies.len()
    }

    fn rate(&self) -> f64 {
        self.successes() as f64 / self.wall.as_secs_f64()
    }

    /// Nearest-rank percentile of successful requests, in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.latencies.len()) - 1;
        ms(self.latencies[index])
    }

    fn max_ms(&self) -> f64 {
        self.latencies.last().map_or(f64::NAN, |d| ms(*d))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One `POST /bookings` of one place: its latency and whether it made a booking.
async fn http_booking(cloud: &Cloud, token: &str, body: &Value) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let res = cloud
        .http
        .post(cloud.url("/bookings"))
        .bearer_auth(token)
        .header(IdempotencyKey::HEADER, uuid::Uuid::new_v4().to_string())
        .json(body)
        .send()
        .await;
    let outcome = match res {
        Ok(res) => {
            let status = res.status().as_u16();
            // Read the body: the request is done when its answer is in.
            let text = res.text().await.unwrap_or_default();
            if status == 201 {
                Ok(())
            } else {
                let code: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                Err(format!(
                    "HTTP {status} {}",
                    code["code"].as_str().unwrap_or("")
                ))
            }
        }
        Err(e) => Err(format!("transport: {e}")),
    };
    (started.elapsed(), outcome)
}

/// One in-process booking service `create` of one place.
fn print_table(http: &Phase, raw: &Phase, args: &Args) {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    println!();
    println!(
        "hot slot: {} bookings of 1 place per phase, {} in flight, {} warm-up requests, {cores} cores",
        args.requests, args.concurrency, args.warmup
    );
    if cores <= 2 {
        println!(
            "warning: {cores} cores shared by the client, the local cloud and DynamoDB Local: figures are rough"
        );
    }
    println!();
    println!(
        "{:<6} {:>8} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9}",
        "phase", "requests", "successes", "wall s", "bookings/s", "p50 ms", "p99 ms", "max ms"
    );
    for p in [http, raw] {
        println!(
            "{:<6} {:>8} {:>9} {:>9.2} {:>11.1} {:>9.1} {:>9.1} {:>9.1}",
            p.name,
            p.requests,
            p.successes(),
            p.wall.as_secs_f64(),
            p.rate(),
            p.percentile_ms(50.0),
            p.percentile_ms(99.0),
            p.max_ms()
        );
    }
    println!();
    println!(
        "ratio http/raw: bookings/s {:.2}, p50 {:.2}",
        http.rate() / raw.rate(),
        http.percentile_ms(50.0) / raw.percentile_ms(50.0)
    );
    for p in [http, raw] {
        for (reason, count) in &p.failures {
            println!("{} failures: {count} x {reason}", p.name);
        }
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let needed = args.requests + args.warmup;
    if args.capacity > MAX_CAPACITY || needed > args.capacity as usize {
        return Err(format!(
            "--capacity {} must be at most {MAX_CAPACITY} and hold --warmup + --requests ({needed})",
            args.capacity
        )
        .into());
    }
    if args.concurrency == 0 || args.requests == 0 {
        return Err("--requests and --concurrency must be at least 1".into());
    }
    let cloud = Cloud::load(&args.state_file)?;
    // A date well ahead, so the slots are open whatever day it is.
    let date = (today_at_venue() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();

    println!(
        "local cloud: api {}, dynamodb {}, table {}",
        cloud.api, cloud.dynamodb, cloud.table
    );
    let (user_id, token) = admin(&cloud, &args.platform_admin, &args.state_file).await?;
    let http_slot = new_slot(&cloud, &token, &date, args.capacity).await?;
    let raw_slot = new_slot(&cloud, &token, &date, args.capacity).await?;
    println!("slots: http {http_slot}, raw {raw_slot}");

    // HTTP phase.
    let body = json!({ "kind": "counted", "slot_id": http_slot, "quantity": 1 });
    let http_op = || http_booking(&cloud, &token, &body);
    println!("http: warming up ({} requests)", args.warmup);
    drive(args.warmup, args.concurrency, http_op).await;
    println!("http: {} requests", args.requests);
    let (wall, outcomes) = drive(args.requests, args.concurrency, http_op).await;
    let http = Phase::new("http", wall, outcomes);

    // Raw phase: the same transaction, in-process, on a second slot.
    let client = cloud.dynamo_client().await;
    let store = (
        DynamoBookings::new(client.clone(), cloud.table.clone()),
        DynamoCatalog::new(client, cloud.table.clone()),
    );
    let user = UserId::parse(&user_id)?;
    let body = BookingRequest::Counted {
        slot_id: raw_slot,
        quantity: 1,
        holes: None,
        payment: None,
    };
    let request = body.validate()?;
    let fingerprint = fingerprint(&serde_json::to_vec(&body)?);
    let raw_op = || raw_booking(&store, &user, &request, &fingerprint);
    println!("raw: warming up ({} requests)", args.warmup);
    drive(args.warmup, args.concurrency, raw_op).await;
    println!("raw: {} requests", args.requests);
    let (wall, outcomes) = drive(args.requests, args.concurrency, raw_op).await;
    let raw = Phase::new("raw", wall, outcomes);

    print_table(&http, &raw, &args);
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hot-slot-bench: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

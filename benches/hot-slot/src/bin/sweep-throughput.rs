//! Sweeper throughput benchmark: how fast one sweep releases lapsed holds,
//! with the sweeper's own plan (pages of 200, a slot's holds released
//! together in transactions of up to 100 items, 16 slots at once), against the
//! running local cloud's DynamoDB.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//! It takes `--holds` holds of one place (spread over customers, five
//! each, as a sale's would be) on slots of up to 10,000 places, then runs
//! the sweep "an hour later", when every one of them has lapsed, until
//! none is left, and prints holds released per second. A sweep run has the
//! budget of `booking_sweeper::PLAN`; the figure says how many holds one
//! run clears. `--slot-places 1000` spreads the holds over ten slots.
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 --gateway-port 3202 \
//!     --state-file .local/run/bench-cloud.json &
//! cargo run --release -p hot-slot-bench --bin sweep-throughput -- \
//!     --state-file .local/run/bench-cloud.json --holds 10000
//! ```
//!
//! Everything shares the machine's CPUs (DynamoDB Local included); read the
//! figures as rough.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, Utc};
use clap::Parser;
use futures::StreamExt;
use hot_slot_bench::{Cloud, Error, admin, new_slot, today_at_venue};
use shared::CorrelationId;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::service::{self, Attempt, SweepPlan};
use shared::booking::{BookingRequest, IdempotencyKey};
use shared::identity::UserId;

#[derive(Debug, Parser)]
#[command(about = "Holds released per second by one sweep of lapsed holds")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    /// Lapsed holds to release.
    #[arg(long, default_value_t = 2000)]
    holds: usize,
    /// Places of each slot: the holds fill slots of this size, one after
    /// another (10,000: one hot slot; smaller: a sale over several slots,
    /// whose releases run in parallel).
    #[arg(long, default_value_t = 10_000)]
    slot_places: u32,
    /// Holds taken at once while setting up.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Slots whose holds are released at once (the sweeper's own: 16).
    #[arg(long, default_value_t = booking_sweeper::PLAN.parallel)]
    parallel: usize,
    #[arg(long, default_value = "target/debug/platform-admin")]
    platform_admin: PathBuf,
}

async fn run(args: Args) -> Result<(), Error> {
    let cloud = Cloud::load(&args.state_file)?;
    let (_, token) = admin(&cloud, &args.platform_admin, &args.state_file).await?;
    let date = (today_at_venue() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let client = cloud.dynamo_client().await;
    let bookings = DynamoBookings::new(client.clone(), cloud.table.clone());
    let catalog = DynamoCatalog::new(client, cloud.table.clone());
    let mut slots = Vec::new();
    let places = args.slot_places.max(1);
    for _ in 0..args.holds.div_ceil(places as usize) {
        slots.push(new_slot(&cloud, &token, &date, places).await?);
    }
    let users: Vec<UserId> = (0..args.holds.div_ceil(5))
        .map(|_| UserId::generate())
        .collect();
    println!("taking {} holds on {} slot(s)", args.holds, slots.len());
    let started = Instant::now();
    let held = futures::stream::iter(0..args.holds)
        .map(|i| {
            let (bookings, catalog) = (&bookings, &catalog);
            let (user, slot) = (&users[i / 5], &slots[i / places as usize]);
            async move {
                let request = BookingRequest::Counted {
                    slot_id: slot.clone(),
                    quantity: 1,
                    holes: None,
                    payment: None,
                }
                .validate()
                .map_err(|e| e.to_string())?;
                let key = IdempotencyKey::parse(Some(&uuid::Uuid::new_v4().to_string()))
                    .map_err(|e| e.to_string())?;
                let attempt = Attempt {
                    user,
                    key: &key,
                    fingerprint: "sweep-bench",
                    hold: Duration::minutes(15),
                    cutoff: Duration::zero(),
                    correlation_id: &CorrelationId::generate(),
                    now: Utc::now(),
                    payment: None,
                    limits: None,
                    pass_token: None,
                    passes: None,
                };
                service::create(bookings, catalog, &attempt, &request)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(args.concurrency)
        .filter(|r| std::future::ready(r.is_ok()))
        .count()
        .await;
    println!("held {held} in {:.1} s", started.elapsed().as_secs_f64());

    // A budget long enough for any `--holds`.
    let plan = SweepPlan {
        parallel: args.parallel,
        budget: std::time::Duration::from_secs(3600),
        ..booking_sweeper::PLAN
    };
    let later = Utc::now() + Duration::hours(1);
    let started = Instant::now();
    let mut released = 0;
    loop {
        let sweep =
            service::expire_lapsed(&bookings, later, &plan, &CorrelationId::generate()).await?;
        released += sweep.expired;
        if sweep.expired == 0 {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "sweep ({} slots at once): released {released} lapsed holds in {secs:.1} s: {:.0} holds/s; one {} s run clears about {:.0}",
        plan.parallel,
        released as f64 / secs,
        booking_sweeper::PLAN.budget.as_secs(),
        released as f64 / secs * booking_sweeper::PLAN.budget.as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sweep-throughput: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

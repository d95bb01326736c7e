//! Saga latency benchmark: the time from `POST /bookings` (paid from the
//! wallet) to the booking reading CONFIRMED, at 1 and at 50 concurrent
//! users, through the running local cloud.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//! Each user signs up, tops up its wallet, then books one place at a time,
//! polling `GET /bookings/{id}` every `--poll-ms` until the booking is
//! CONFIRMED (FAILED or timed-out bookings are counted apart). The path
//! measured is the whole choreography: booking transaction -> DynamoDB
//! stream -> outbox relay -> EventBridge -> payment queue -> payment
//! processor -> bus -> confirmation queue -> booking confirmation.
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 --gateway-port 3202 \
//!     --state-file .local/run/bench-cloud.json &
//! cargo run --release -p hot-slot-bench --bin saga-latency -- \
//!     --state-file .local/run/bench-cloud.json
//! ```
//!
//! Queue polling is part of the figure: the local cloud's SQS pollers wait
//! up to 1 s on an empty queue (long polling), as Lambda's do up to 20 s.
//! Everything shares the machine's CPUs; read the figures as rough.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use hot_slot_bench::{Cloud, Error, admin, log_in, new_slot, sign_up, today_at_venue};
use serde_json::{Value, json};

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
    #[arg(long, default_value_t = 25)]
    poll_ms: u64,
    /// Give up on a booking after this long.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    #[arg(long, default_value = "target/debug/platform-admin")]
    platform_admin: PathBuf,
}

enum Outcome {
    Confirmed(Duration),
    Failed,
    TimedOut,
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
    let deadline = started + Duration::from_secs(args.timeout_secs);
    loop {
        let res = cloud
            .http
            .get(cloud.url(&format!("/bookings/{id}")))
            .bearer_auth(token)
            .send()
            .await?;
        let booking: Value = res.json().await?;
        match booking["status"].as_str() {
            Some("CONFIRMED") => return Ok(Outcome::Confirmed(started.elapsed())),
            Some("PENDING") => {}
            _ => return Ok(Outcome::Failed),
        }
        if Instant::now() > deadline {
            return Ok(Outcome::TimedOut);
        }
        tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
    }
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
    let (_, admin_token) = admin(&cloud, &args.platform_admin, &args.state_file).await?;
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
            (0..users).map(|_| user(&cloud, 5000 * args.bookings_per_user as u64)),
        )
        .await?;
        let started = Instant::now();
        let per_user = futures::future::join_all(tokens.iter().map(|token| {
            let (cloud, slot, args) = (&cloud, &slot, &args);
            async move {
                let mut out = Vec::new();
                for _ in 0..args.bookings_per_user {
                    out.push(one_booking(cloud, token, slot, args).await);
                }
                out
            }
        }))
        .await;
        let wall = started.elapsed();
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

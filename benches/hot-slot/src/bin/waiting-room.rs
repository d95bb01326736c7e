//! Waiting-room benchmark: entries/s through the local HTTP API next to the
//! raw rate of the same DynamoDB work measured in the same run, status
//! polls/s with their latency, and the admission rate achieved against the
//! configured one.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//!
//! 1. Makes an admin, two fresh slots and a waiting room over each (paused,
//!    so entering is measured apart from admitting), and `--users` callers
//!    of room A, each a session written straight to the table and a token
//!    signed with the cloud's key (no argon2 sign-ups; the authorizer checks
//!    them like any other token).
//! 2. HTTP entry: every caller `POST /waiting-rooms/{A}/ticket`,
//!    `--concurrency` in flight (authorizer, `waiting-room-enter`: the room's
//!    GetItem and the ticket's conditional PutItem).
//!    Then the same callers enter room D, their tokens now in the
//!    authorizer's cache (as a sale's page, loaded before its queue, leaves
//!    them): what the HTTP API and Lambda add to the entry itself.
//! 3. Raw entry: as many callers of room B through the same service call
//!    in-process over the DynamoDB adapter (the same GetItem and PutItem)
//!    against the same DynamoDB Local. Then the same callers into room C,
//!    each first doing the authorizer's two reads (its session's GetItem,
//!    its memberships' Query): all the DynamoDB work one HTTP entry costs,
//!    so the ratio against it is what the HTTP API and Lambda add.
//! 4. Polls: `--polls` `GET /waiting-rooms/{A}/ticket`, callers in turn.
//! 5. Admission: room A opens at `--rate` users a minute; after
//!    `--admit-seconds` the admitted tickets' admission times (pass expiry
//!    less its lifetime) give the rate achieved, from the first admission to
//!    the last, the first second's banked credit left out.
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 --gateway-port 3202 \
//!     --state-file .local/run/bench-cloud.json &
//! cargo run --release -p hot-slot-bench --bin waiting-room -- \
//!     --state-file .local/run/bench-cloud.json --users 10000
//! ```
//!
//! The functions run as the debug builds the local cloud starts (4
//! instances each); the cloud, the emulators and this client share the
//! machine's CPUs. Read the figures as rough.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use clap::Parser;
use futures::StreamExt;
use serde_json::{Value, json};
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::adapters::dynamo::keys;
use shared::adapters::dynamo::waiting_room::DynamoWaitingRooms;
use shared::company::ports::CompanyReader;
use shared::identity::tokens::{AccessTokens, SigningKey, TokenSettings};
use shared::identity::{Caller, Role, UserId};
use shared::ports::{SessionStore, StoredRefreshToken};
use shared::waiting_room::RoomId;
use shared::waiting_room::pass::PassKeys;
use shared::waiting_room::service;

use hot_slot_bench::{Cloud, Error, admin, new_slot, today_at_venue};

#[derive(Debug, Parser)]
#[command(about = "Waiting room: entries/s (HTTP vs raw), polls/s, admission rate achieved")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    /// Callers entering each room.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Status polls measured.
    #[arg(long, default_value_t = 10_000)]
    polls: usize,
    /// The room's admission rate, users a minute.
    #[arg(long, default_value_t = 3_000)]
    rate: u32,
    /// How long admission is watched.
    #[arg(long, default_value_t = 60)]
    admit_seconds: u64,
    #[arg(long, default_value = "target/debug/platform-admin")]
    platform_admin: PathBuf,
}

/// The pass lifetime of the benchmark's rooms: longer than any run, so no
/// pass lapses while admission is measured.
const PASS_TTL_SECONDS: i64 = 3600;

/// A phase's figures: successes, wall time, per-request latencies.
struct Phase {
    ok: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.wall.as_secs_f64()
    }

    fn print(&mut self, name: &str, total: usize) {
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((self.latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
            self.latencies
                .get(i)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{name:<18} {:>6}/{total:<6} ok in {:>6.1} s  {:>7.0}/s  p50 {:>6.1} ms  p99 {:>6.1} ms",
            self.ok,
            self.wall.as_secs_f64(),
            self.rate(),
            at(0.50),
            at(0.99),
        );
    }
}

/// Runs `calls` with `concurrency` in flight; each answers whether it
/// succeeded.
async fn measure<F, Fut>(count: usize, concurrency: usize, call: F) -> Phase
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let results: Vec<(bool, Duration)> = futures::stream::iter(0..count)
        .map(|i| {
            let fut = call(i);
            async move {
                let t = Instant::now();
                (fut.await, t.elapsed())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    Phase {
        ok: results.iter().filter(|(ok, _)| *ok).count(),
        wall: started.elapsed(),
        latencies: results.into_iter().map(|(_, d)| d).collect(),
    }
}

async fn patch(cloud: &Cloud, token: &str, room: &str, body: Value) -> Result<(), Error> {
    let res = cloud
        .http
        .patch(cloud.url(&format!("/admin/waiting-rooms/{room}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    if res.status() != 200 {
        return Err(format!(
            "PATCH room answered {}: {}",
            res.status(),
            res.text().await?
        )
        .into());
    }
    Ok(())
}

/// A paused room over a fresh slot's resource.
async fn paused_room(cloud: &Cloud, token: &str, date: &str, rate: u32) -> Result<String, Error> {
    let slot = new_slot(cloud, token, date, shared::catalog::MAX_CAPACITY).await?;
    let resource = slot.split('@').next().ok_or("a slot id")?;
    let room = cloud
        .post(
            "/admin/waiting-rooms",
            &json!({
                "name": "Bench sale", "resource_ids": [resource], "rate_per_minute": rate,
                "max_active": shared::waiting_room::MAX_ACTIVE,
                "pass_ttl_seconds": PASS_TTL_SECONDS, "abandon_after_seconds": 3600
            }),
            Some(token),
            201,
        )
        .await?;
    let room = room["id"].as_str().ok_or("a room id")?.to_owned();
    patch(cloud, token, &room, json!({ "status": "PAUSED" })).await?;
    Ok(room)
}

/// The cloud's signing key, from SSM as the functions read it, and its
/// token settings.
async fn signing(
    cloud: &Cloud,
    state_file: &PathBuf,
) -> Result<(SigningKey, TokenSettings), Error> {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(state_file)?)?;
    let text = |v: &Value| v.as_str().map(str::to_owned).ok_or("a state field");
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&cloud.sdk_config().await)
            .endpoint_url(&cloud.aws)
            .build(),
    );
    let out = ssm
        .get_parameter()
        .name(text(&state["parameters"]["JwtSigningKeyParameter"])?)
        .with_decryption(true)
        .send()
        .await?;
    let key = out
        .parameter()
        .and_then(|p| p.value())
        .ok_or("the signing key has no value")?;
    let key = SigningKey::new(key.as_bytes().to_vec())?;
    let settings = TokenSettings {
        issuer: text(&state["parameters"]["JwtIssuer"])?,
        audience: text(&state["parameters"]["JwtAudience"])?,
        ..TokenSettings::default()
    };
    Ok((key, settings))
}

/// When each admitted ticket of `room` was admitted, sorted.
async fn admission_times(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    room: &str,
) -> Result<Vec<DateTime<Utc>>, Error> {
    let mut times = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .query()
            .table_name(table)
            .index_name(keys::GSI1)
            .key_condition_expression("GSI1PK = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(format!("ROOM#{room}#ACTIVE")))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items() {
            if let Some(AttributeValue::S(at)) = item.get("pass_expires_at") {
                let expires: DateTime<Utc> = at.parse()?;
                times.push(expires - chrono::Duration::seconds(PASS_TTL_SECONDS));
            }
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    times.sort_unstable();
    Ok(times)
}

async fn run(args: Args) -> Result<(), Error> {
    let cloud = Cloud::load(&args.state_file)?;
    let (_, token) = admin(&cloud, &args.platform_admin, &args.state_file).await?;
    let date = (today_at_venue() + chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let room_a = paused_room(&cloud, &token, &date, args.rate).await?;
    let room_b = paused_room(&cloud, &token, &date, args.rate).await?;
    let room_c = paused_room(&cloud, &token, &date, args.rate).await?;
    let room_d = paused_room(&cloud, &token, &date, args.rate).await?;
    let client = cloud.dynamo_client().await;
    let rooms = DynamoWaitingRooms::new(client.clone(), cloud.table.clone());
    let (key, settings) = signing(&cloud, &args.state_file).await?;
    let issuer = settings.issuer.clone();
    let tokens = AccessTokens::new(&key, settings);
    let passes = PassKeys::new(&key, &issuer);

    println!("making {} callers' sessions", args.users);
    let sessions = DynamoIdentity::new(client.clone(), cloud.table.clone());
    let callers: Vec<(Caller, String, String)> = futures::stream::iter(0..args.users)
        .map(|_| {
            let (sessions, tokens) = (&sessions, &tokens);
            async move {
                let user = UserId::generate();
                let now = Utc::now();
                let session = StoredRefreshToken {
                    hash: uuid::Uuid::new_v4().simple().to_string(),
                    user_id: user.clone(),
                    family_id: uuid::Uuid::new_v4().to_string(),
                    expires_at: now + chrono::Duration::hours(2),
                };
                sessions.start(&session, now).await?;
                let token = tokens
                    .issue(&user, Role::User, &session.family_id, now)?
                    .token;
                Ok::<_, Error>((Caller::new(user, Role::User), session.family_id, token))
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;

    let enter = |room: &str| {
        let path = format!("/waiting-rooms/{room}/ticket");
        let (cloud, callers) = (&cloud, &callers);
        measure(args.users, args.concurrency, move |i| {
            let req = cloud
                .http
                .post(cloud.url(&path))
                .bearer_auth(&callers[i].2)
                .json(&json!({}));
            async move { req.send().await.is_ok_and(|r| r.status() == 201) }
        })
    };
    let mut http = enter(&room_a).await;
    // The same tokens again, within the authorizer's cache lifetime.
    let mut http_seen = enter(&room_d).await;
    let enter_path = format!("/waiting-rooms/{room_a}/ticket");

    let id_b = RoomId::parse(&room_b)?;
    let mut raw = measure(args.users, args.concurrency, |_| {
        let (rooms, passes, id) = (&rooms, &passes, &id_b);
        async move {
            let caller = Caller::new(UserId::generate(), Role::User);
            service::enter(rooms, passes, &caller, id, Utc::now())
                .await
                .is_ok_and(|e| e.new)
        }
    })
    .await;

    let id_c = RoomId::parse(&room_c)?;
    let companies = DynamoCompanies::new(client.clone(), cloud.table.clone());
    let mut raw_all = measure(args.users, args.concurrency, |i| {
        let (rooms, passes, id, sessions, companies) =
            (&rooms, &passes, &id_c, &sessions, &companies);
        let (caller, sid, _) = &callers[i];
        async move {
            sessions.is_active(sid).await.is_ok_and(|active| active)
                && companies.memberships(&caller.user_id).await.is_ok()
                && service::enter(rooms, passes, caller, id, Utc::now())
                    .await
                    .is_ok_and(|e| e.new)
        }
    })
    .await;

    let mut polls = measure(args.polls, args.concurrency, |i| {
        let req = cloud
            .http
            .get(cloud.url(&enter_path))
            .bearer_auth(&callers[i % callers.len()].2);
        async move { req.send().await.is_ok_and(|r| r.status() == 200) }
    })
    .await;

    println!();
    http.print("enter (HTTP)", args.users);
    http_seen.print("enter (HTTP, seen)", args.users);
    raw.print("enter (raw)", args.users);
    raw_all.print("enter (raw+auth)", args.users);
    println!(
        "{:<18} {:.2} against the entry's own DynamoDB work (goal 0.8 or better), {:.2} against all of it",
        "HTTP/raw",
        http.rate() / raw.rate(),
        http.rate() / raw_all.rate()
    );
    println!(
        "{:<18} {:.2} against the entry's own DynamoDB work, the token already authorized",
        "HTTP seen/raw",
        http_seen.rate() / raw.rate()
    );
    polls.print("status poll", args.polls);

    // Admission: open room A and watch it for a while.
    patch(&cloud, &token, &room_a, json!({ "status": "OPEN" })).await?;
    tokio::time::sleep(Duration::from_secs(args.admit_seconds)).await;
    patch(&cloud, &token, &room_a, json!({ "status": "PAUSED" })).await?;
    let times = admission_times(&client, &cloud.table, &room_a).await?;
    for room in [&room_a, &room_b, &room_c, &room_d] {
        patch(&cloud, &token, room, json!({ "status": "CLOSED" })).await?;
    }
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        println!("admission: nobody was admitted in {} s", args.admit_seconds);
        return Ok(());
    };
    if first == last {
        println!("admission: {} admitted, all in one tick", times.len());
        return Ok(());
    }
    // The first tick may spend up to a second of banked credit: count from
    // the first admission, not including the ones made with it.
    let at_first = times.iter().filter(|t| *t == first).count();
    let span = (*last - *first).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let achieved = (times.len() - at_first) as f64 / span * 60.0;
    println!(
        "admission          {} admitted over {span:.1} s: {achieved:.0}/min against {}/min configured ({:+.2} %, goal within 2 %)",
        times.len(),
        args.rate,
        (achieved / f64::from(args.rate) - 1.0) * 100.0
    );
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("waiting-room: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

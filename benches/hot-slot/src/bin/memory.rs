//! Resident memory under sustained load: signs up and logs in `--accounts`
//! users (two invocations each, so 500 make 1,000) through the running
//! local cloud, `--concurrency` at a time, then prints each function
//! instance's resident memory (`VmRSS`) and its peak (`VmHWM`), read from
//! /proc, before and after. auth-signup and auth-login hash passwords with
//! argon2id (19 MiB of working memory per hash): the figures show whether
//! that memory is reused or piles up.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//!
//! ```sh
//! infra/up.sh &        # or any running local cloud; --bin-dir target/local-bench for optimized functions
//! cargo run --release -p hot-slot-bench --bin memory -- --accounts 500
//! ```

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use futures::StreamExt;
use hot_slot_bench::{Cloud, Error, log_in, sign_up, status_kib};

#[derive(Debug, Parser)]
#[command(about = "Resident memory of each function instance after many sign-ups and logins")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    /// Accounts to sign up and log in (two invocations each).
    #[arg(long, default_value_t = 500)]
    accounts: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Functions whose instances are printed (all with an invocation if empty).
    #[arg(long, value_delimiter = ',', default_value = "auth-signup,auth-login")]
    functions: Vec<String>,
}

/// Per function: (invocations, [(pid, rss KiB, peak KiB)]).
type Snapshot = BTreeMap<String, (u64, Vec<(u64, u64, u64)>)>;

async fn snapshot(cloud: &Cloud) -> Result<Snapshot, Error> {
    let mut out = Snapshot::new();
    for pool in cloud.functions().await? {
        let binary = pool["binary"].as_str().unwrap_or_default().to_owned();
        let instances = pool["instances"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i["pid"].as_u64())
            .filter_map(|pid| Some((pid, status_kib(pid, "VmRSS:")?, status_kib(pid, "VmHWM:")?)))
            .collect();
        out.insert(
            binary,
            (pool["invocations"].as_u64().unwrap_or(0), instances),
        );
    }
    Ok(out)
}

async fn sign_up_and_log_in(cloud: &Cloud, n: usize) -> Result<(), Error> {
    let email = format!("memory-bench-{n}-{}@example.com", uuid::Uuid::new_v4());
    sign_up(cloud, &email).await?;
    log_in(cloud, &email).await?;
    Ok(())
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn print(title: &str, snap: &Snapshot, wanted: &[String]) {
    println!("{title}");
    println!(
        "  {:<28} {:>11} {:>9} {:>22} {:>10}",
        "function", "invocations", "instances", "RSS MiB (median, max)", "peak MiB"
    );
    for (binary, (invocations, instances)) in snap {
        let chosen = if wanted.is_empty() {
            *invocations > 0
        } else {
            wanted.contains(binary)
        };
        if !chosen || instances.is_empty() {
            continue;
        }
        let mut rss: Vec<u64> = instances.iter().map(|i| i.1).collect();
        rss.sort_unstable();
        let peak = instances.iter().map(|i| i.2).max().unwrap_or(0);
        println!(
            "  {:<28} {:>11} {:>9} {:>10}, {:>9} {:>10}",
            binary,
            invocations,
            instances.len(),
            mib(rss[rss.len() / 2]),
            mib(*rss.last().unwrap_or(&0)),
            mib(peak)
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let cloud = Arc::new(Cloud::load(&args.state_file)?);
    print("before", &snapshot(&cloud).await?, &args.functions);
    let started = std::time::Instant::now();
    let failures = futures::stream::iter(0..args.accounts)
        .map(|n| {
            let cloud = Arc::clone(&cloud);
            async move { sign_up_and_log_in(&cloud, n).await }
        })
        .buffer_unordered(args.concurrency)
        .filter(|r| std::future::ready(r.is_err()))
        .count()
        .await;
    println!(
        "{} sign-ups and {} logins ({} invocations) at concurrency {} in {:.1} s; {failures} failed",
        args.accounts,
        args.accounts,
        args.accounts * 2,
        args.concurrency,
        started.elapsed().as_secs_f64()
    );
    print("after", &snapshot(&cloud).await?, &args.functions);
    Ok(())
}

//! Cold starts: for every function of the running local cloud, the time
//! from its process's start to its first Runtime API `next` call (the
//! local cloud records it per instance as `ready_ms`) and its resident
//! memory at that point, over `--runs` fresh starts: each run kills one
//! instance of each function in turn (SIGKILL), waits for the local cloud
//! to start its replacement, and reads the new instance's figures. One
//! process starts at a time, so the machine's other cores are idle.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//! The figures are those of the binaries the cloud runs: start it with
//! `--bin-dir target/release` after `cargo build --release --workspace --bins`
//! for the release build Lambda runs (x86_64 here; arm64 needs an arm64 host).
//!
//! ```sh
//! target/debug/local-cloud --bin-dir target/release --instances 1 &
//! cargo run --release -p hot-slot-bench --bin cold-start -- --runs 5
//! ```

#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use hot_slot_bench::{Cloud, Error, status_kib};
use serde_json::Value;

#[derive(Debug, Parser)]
#[command(about = "Start-to-ready time and resident memory of every function, over several starts")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The goal each function's median is compared with.
    #[arg(long, default_value_t = 10.0)]
    goal_ms: f64,
}

/// Slot 0 of `binary`'s pool as the admin API shows it.
async fn first_instance(cloud: &Cloud, binary: &str) -> Result<Value, Error> {
    cloud
        .functions()
        .await?
        .iter()
        .find(|p| p["binary"] == binary)
        .and_then(|p| p["instances"].as_array()?.first().cloned())
        .ok_or_else(|| format!("{binary} has no instance").into())
}

/// Kills `binary`'s first instance and returns its replacement's
/// (start-to-ready ms, resident KiB).
async fn restart(cloud: &Cloud, binary: &str) -> Result<(u64, u64), Error> {
    let old = first_instance(cloud, binary).await?;
    let pid = old["pid"].as_u64().ok_or("no pid")?;
    let generation = old["generation"].as_u64().unwrap_or(0);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    if !killed.success() {
        return Err(format!("could not kill {binary} (pid {pid})").into());
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let new = first_instance(cloud, binary).await?;
        if new["generation"].as_u64().unwrap_or(0) > generation
            && let (Some(ready), Some(pid)) = (new["ready_ms"].as_u64(), new["pid"].as_u64())
        {
            return Ok((ready, status_kib(pid, "VmRSS:").unwrap_or(0)));
        }
        if Instant::now() > deadline {
            return Err(format!("{binary} did not start again within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let cloud = Cloud::load(&args.state_file)?;
    let binaries: Vec<String> = cloud
        .functions()
        .await?
        .iter()
        .filter_map(|p| p["binary"].as_str().map(str::to_owned))
        .collect();
    let mut figures: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for run in 1..=args.runs {
        // A slot restarted within 2 s of its start is backed off: let the
        // previous run's instances age first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        eprintln!("run {run} of {}", args.runs);
        for binary in &binaries {
            let figure = restart(&cloud, binary).await?;
            figures.entry(binary).or_default().push(figure);
        }
    }
    println!(
        "{:<30} {:>16} {:>8} {:>20} {:>6}",
        "function", "ready ms median", "max", "RSS MiB median, max", "goal"
    );
    let mut over = 0;
    for (binary, runs) in &figures {
        let mut ready: Vec<u64> = runs.iter().map(|r| r.0).collect();
        let mut rss: Vec<u64> = runs.iter().map(|r| r.1).collect();
        ready.sort_unstable();
        rss.sort_unstable();
        let median = ready[ready.len() / 2];
        let ok = (median as f64) <= args.goal_ms;
        over += usize::from(!ok);
        println!(
            "{:<30} {:>16} {:>8} {:>12.1}, {:>6.1} {:>6}",
            binary,
            median,
            ready[ready.len() - 1],
            rss[rss.len() / 2] as f64 / 1024.0,
            rss[rss.len() - 1] as f64 / 1024.0,
            if ok { "ok" } else { "over" }
        );
    }
    println!(
        "{} functions x {} starts; {over} with a median over {} ms",
        figures.len(),
        args.runs,
        args.goal_ms
    );
    Ok(())
}

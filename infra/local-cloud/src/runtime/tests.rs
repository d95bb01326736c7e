//! The pool against a real process: a bash Lambda runtime (bash's
//! `/dev/tcp`, nothing installed) that takes an invocation, sleeps the
//! seconds its payload names, then answers `ok`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use tokio::sync::watch;

use super::{FunctionPool, LaunchConfig, Outcome};
use crate::model::FunctionSpec;

const SLEEPER: &str = r#"#!/usr/bin/env bash
host=${AWS_LAMBDA_RUNTIME_API%:*}
port=${AWS_LAMBDA_RUNTIME_API#*:}
while true; do
  exec 3<>"/dev/tcp/$host/$port"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n' >&3
  id=""
  while IFS= read -r line <&3; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    case "${line,,}" in lambda-runtime-aws-request-id:*) id=${line#*: } ;; esac
  done
  seconds=$(cat <&3)
  exec 3>&-
  sleep "$seconds"
  exec 3<>"/dev/tcp/$host/$port"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: local\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' "$id" >&3
  cat <&3 >/dev/null
  exec 3>&-
done
"#;

/// A pool of `instances` sleepers whose timeout is `timeout_secs`.
async fn sleepers(instances: usize, timeout_secs: u64) -> (Arc<FunctionPool>, watch::Sender<bool>) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("local-cloud-runtime-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let binary = dir.join("sleeper");
    std::fs::write(&binary, SLEEPER).expect("the script");
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).expect("executable");
    let spec = FunctionSpec::bare("sleeper", timeout_secs);
    let launch = LaunchConfig {
        bin_dir: dir,
        base_env: Default::default(),
        log_format: None,
        segments: Default::default(),
    };
    let pool = FunctionPool::new(spec, launch);
    let (shutdown, watching) = watch::channel(false);
    pool.start(instances, watching);
    let waited = Instant::now();
    while pool.ready_instances() < instances {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "the sleepers start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (pool, shutdown)
}

fn answered(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Success(body) if body == &Bytes::from_static(b"ok"))
}

#[tokio::test]
async fn time_spent_queued_for_an_instance_is_not_running_time() {
    // One instance, a 3 s timeout, five invocations of 1 s each: the last
    // waits 4 s for the instance, longer than the timeout, and still runs
    // for only 1 s of its own.
    let (pool, _shutdown) = sleepers(1, 3).await;
    let calls = (0..5).map(|_| pool.invoke(Bytes::from_static(b"1")));
    let outcomes = futures::future::join_all(calls).await;
    assert!(outcomes.iter().all(answered), "{outcomes:?}");
    assert_eq!(pool.view().restarts, 0);
}

#[tokio::test]
async fn an_invocation_running_past_its_timeout_ends_as_timeout_and_its_instance_is_replaced() {
    let (pool, _shutdown) = sleepers(1, 1).await;
    let outcome = pool.invoke(Bytes::from_static(b"30")).await;
    assert!(matches!(outcome, Outcome::Timeout), "{outcome:?}");
    // The killed process is replaced and the next invocation is served.
    let next = pool.invoke(Bytes::from_static(b"0")).await;
    assert!(answered(&next), "{next:?}");
    assert_eq!(pool.view().restarts, 1);
}

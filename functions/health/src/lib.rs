//! GET /health: whether the platform's table and event bus answer.
//!
//! 200 when every dependency is reachable, 503 otherwise; the body lists each
//! check with its outcome and latency.

use std::time::{Duration, Instant};

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{correlation_id, json_response};
use shared::ports::Probe;

/// A check that takes longer than this counts as unreachable.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct HealthReport {
    /// `ok` or `degraded`.
    pub status: String,
    pub checks: Vec<Check>,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Check {
    pub name: String,
    pub reachable: bool,
    pub latency_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn run(probe: &impl Probe) -> Check {
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, probe.check())
        .await
        .unwrap_or_else(|_| Err("timeout".to_owned()));
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Check {
        name: probe.name().to_owned(),
        reachable: outcome.is_ok(),
        latency_ms,
        error: outcome.err(),
    }
}

/// Runs both checks at once and reports them.
pub async fn handle(
    table: &impl Probe,
    bus: &impl Probe,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let (table, bus) = tokio::join!(run(table), run(bus));
    let healthy = table.reachable && bus.reachable;
    if !healthy {
        tracing::warn!(%correlation_id, ?table, ?bus, "health check degraded");
    }
    let report = HealthReport {
        status: if healthy { "ok" } else { "degraded" }.to_owned(),
        checks: vec![table, bus],
    };
    Ok(json_response(
        if healthy { 200 } else { 503 },
        &report,
        &correlation_id,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::adapters::memory::StaticProbe;

    fn sample_request() -> Request {
        from_str(include_str!("../../../events/health/get-health.json")).expect("fixture parses")
    }

    fn probe(name: &'static str, result: Result<(), String>) -> StaticProbe {
        StaticProbe { name, result }
    }

    fn report(res: &Response<Body>) -> HealthReport {
        serde_json::from_slice(res.body().as_ref()).expect("json body")
    }

    #[tokio::test]
    async fn both_dependencies_reachable_is_a_200() {
        let res = handle(
            &probe("table", Ok(())),
            &probe("bus", Ok(())),
            sample_request(),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 200);
        let report = report(&res);
        assert_eq!(report.status, "ok");
        assert!(report.checks.iter().all(|c| c.reachable));
    }

    #[tokio::test]
    async fn an_unreachable_bus_is_a_503_naming_it() {
        let res = handle(
            &probe("table", Ok(())),
            &probe("bus", Err("unreachable".into())),
            sample_request(),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 503);
        let report = report(&res);
        assert_eq!(report.status, "degraded");
        let bus = report.checks.iter().find(|c| c.name == "bus").unwrap();
        assert_eq!(
            (bus.reachable, bus.error.as_deref()),
            (false, Some("unreachable"))
        );
    }

    #[tokio::test]
    async fn the_callers_correlation_id_is_echoed() {
        let res = handle(
            &probe("table", Ok(())),
            &probe("bus", Ok(())),
            sample_request(),
        )
        .await
        .unwrap();
        assert_eq!(res.headers()["x-correlation-id"], "health-fixture-1");
    }
}

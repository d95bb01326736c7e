//! Schedules (rate and cron expressions, as EventBridge reads them) that
//! invoke a function with a scheduled event.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use super::REGION;
use crate::model::ScheduleSource;
use crate::runtime::{FunctionPool, Outcome};

/// A parsed schedule expression.
#[derive(Debug, Clone)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<cron::Schedule>),
}

impl FromStr for Schedule {
    type Err = String;

    /// Parses `rate(5 minutes)` or the six-field `cron(0 12 * * ? *)`.
    fn from_str(expr: &str) -> Result<Self, Self::Err> {
        let expr = expr.trim();
        if let Some(inner) = expr.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            let (n, unit) = inner
                .trim()
                .split_once(' ')
                .ok_or_else(|| format!("bad rate: {expr}"))?;
            let n: u64 = n.parse().map_err(|_| format!("bad rate value: {expr}"))?;
            if n == 0 {
                return Err(format!("a rate must be positive: {expr}"));
            }
            let secs = match unit.trim() {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3600,
                "day" | "days" => 86_400,
                other => return Err(format!("bad rate unit {other}")),
            };
            return Ok(Self::Rate(Duration::from_secs(n * secs)));
        }
        if let Some(inner) = expr.strip_prefix("cron(").and_then(|e| e.strip_suffix(')')) {
            let fields: Vec<&str> = inner.split_whitespace().collect();
            if fields.len() != 6 {
                return Err(format!("an AWS cron has six fields: {expr}"));
            }
            // AWS: minutes hours day-of-month month day-of-week year, with `?`.
            // The cron crate: seconds first, `?` not needed.
            let converted = format!(
                "0 {}",
                fields
                    .iter()
                    .map(|f| if *f == "?" { "*" } else { f })
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let schedule = cron::Schedule::from_str(&converted)
                .map_err(|e| format!("bad cron {expr}: {e}"))?;
            return Ok(Self::Cron(Box::new(schedule)));
        }
        Err(format!("a schedule is rate(...) or cron(...): {expr}"))
    }
}

impl Schedule {
    /// The next firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Rate(every) => Some(after + chrono::Duration::from_std(*every).ok()?),
            Self::Cron(schedule) => schedule.after(&after).next(),
        }
    }
}

/// The event a scheduled rule delivers.
pub fn scheduled_event(rule_arn: &str, at: DateTime<Utc>) -> Json {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    })
}

pub fn schedule_rule_arn(pool: &FunctionPool, source: &ScheduleSource) -> String {
    format!(
        "arn:aws:events:{REGION}:123456789012:rule/{}-{}",
        pool.spec.name, source.event_name
    )
}

/// Fires the function on its schedule; a failed invocation is retried twice,
/// as EventBridge's asynchronous invoke does.
pub async fn scheduler(
    pool: Arc<FunctionPool>,
    source: ScheduleSource,
    schedule: Schedule,
    mut shutdown: watch::Receiver<bool>,
) {
    let arn = schedule_rule_arn(&pool, &source);
    let mut from = Utc::now();
    while let Some(next) = schedule.next_after(from) {
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        from = next;
        let payload = match &source.input {
            Some(input) => input.clone(),
            None => scheduled_event(&arn, next).to_string(),
        };
        for attempt in 0..3u64 {
            if matches!(
                pool.invoke(Bytes::from(payload.clone())).await,
                Outcome::Success(_)
            ) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1 + attempt)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rate_expressions_parse() {
        let Ok(Schedule::Rate(d)) = "rate(5 minutes)".parse::<Schedule>() else {
            panic!()
        };
        assert_eq!(d, Duration::from_secs(300));
        assert!("rate(0 minutes)".parse::<Schedule>().is_err());
        assert!("rate(5 fortnights)".parse::<Schedule>().is_err());
    }

    #[test]
    fn aws_cron_expressions_fire_when_aws_would() {
        let daily: Schedule = "cron(0 0 * * ? *)".parse().unwrap();
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 13, 0, 0).unwrap();
        assert_eq!(
            daily.next_after(from),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap())
        );
        let quarter: Schedule = "cron(0/15 * * * ? *)".parse().unwrap();
        assert_eq!(
            quarter.next_after(from),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 13, 15, 0).unwrap())
        );
        assert!("cron(0 0 * *)".parse::<Schedule>().is_err());
    }
}

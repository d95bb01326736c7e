//! How to reach the card gateway, and how hard to try.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use crate::config::{self, ConfigError};
use crate::resilience::BreakerConfig;

/// How to reach the gateway, and how hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The gateway's root; `/v1/charges` and `/v1/refunds` are below it.
    pub base_url: Url,
    /// The limit of one HTTP attempt, from connecting to the last body byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// HTTP attempts per call, the first included.
    pub attempts: u32,
    /// Retry `n` (0-based) waits a random time in `[0, min(backoff_max, backoff_base * 2^n)]`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub breaker: BreakerConfig,
}

impl GatewayConfig {
    /// The default policy for the gateway at `base_url`, an absolute http or
    /// https URL.
    pub fn new(base_url: &str) -> Result<Self, ConfigError> {
        let base_url = parse_base_url(base_url).map_err(|reason| ConfigError::Invalid {
            name: "PAYMENT_GATEWAY_URL",
            reason,
        })?;
        Ok(Self {
            base_url,
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_millis(500),
            attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            breaker: BreakerConfig::default(),
        })
    }

    /// Reads `PAYMENT_GATEWAY_URL` (required) and the optional
    /// `PAYMENT_GATEWAY_TIMEOUT_MS`, `PAYMENT_GATEWAY_ATTEMPTS`,
    /// `PAYMENT_GATEWAY_BREAKER_THRESHOLD` and
    /// `PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut config = Self::new(&config::required("PAYMENT_GATEWAY_URL")?)?;
        let timeout_ms = at_least_one(
            "PAYMENT_GATEWAY_TIMEOUT_MS",
            config::parsed_or("PAYMENT_GATEWAY_TIMEOUT_MS", 2_000u64)?,
        )?;
        config.timeout = Duration::from_millis(timeout_ms);
        config.attempts = at_least_one(
            "PAYMENT_GATEWAY_ATTEMPTS",
            config::parsed_or("PAYMENT_GATEWAY_ATTEMPTS", config.attempts)?,
        )?;
        config.breaker.failure_threshold = at_least_one(
            "PAYMENT_GATEWAY_BREAKER_THRESHOLD",
            config::parsed_or(
                "PAYMENT_GATEWAY_BREAKER_THRESHOLD",
                config.breaker.failure_threshold,
            )?,
        )?;
        let open_seconds = at_least_one(
            "PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS",
            config::parsed_or("PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS", 10u64)?,
        )?;
        config.breaker.open_for = Duration::from_secs(open_seconds);
        Ok(config)
    }
}

/// Accepts absolute http(s) URLs with a host, without credentials (the URL
/// is logged), query or fragment. A refused URL is not echoed.
fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http or https URL, not {}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".to_owned());
    }
    Ok(url)
}

pub(super) fn at_least_one<T>(name: &'static str, value: T) -> Result<T, ConfigError>
where
    T: PartialOrd + From<u8> + fmt::Display,
{
    if value < T::from(1) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be at least 1, got {value}"),
        });
    }
    Ok(value)
}

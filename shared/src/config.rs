//! Typed configuration read once at start-up.
//!
//! Functions fail fast, naming the variable, when their configuration is
//! missing or invalid: a cold start that cannot work should say why at once.

use std::env;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Reads a variable that must be present and non-empty.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// Reads an optional variable and parses it, falling back to `default`.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => {
            raw.trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    name,
                    reason: e.to_string(),
                })
        }
        _ => Ok(default),
    }
}

/// Where a function finds the platform's shared resources.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    /// The single DynamoDB table (`TABLE_NAME`).
    pub table_name: String,
    /// The EventBridge bus the outbox relay publishes to (`EVENT_BUS_NAME`).
    pub event_bus_name: String,
}

impl PlatformConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required("TABLE_NAME")?,
            event_bus_name: required("EVENT_BUS_NAME")?,
        })
    }
}

/// How long before a slot's start its bookings close:
/// `BOOKING_CUTOFF_MINUTES`, 0 (until it starts) by default, at most a week.
pub fn booking_cutoff() -> Result<chrono::Duration, ConfigError> {
    let minutes: i64 = parsed_or("BOOKING_CUTOFF_MINUTES", 0)?;
    if !(0..=7 * 24 * 60).contains(&minutes) {
        return Err(ConfigError::Invalid {
            name: "BOOKING_CUTOFF_MINUTES",
            reason: format!("must be 0 to 10080 minutes, got {minutes}"),
        });
    }
    Ok(chrono::Duration::minutes(minutes))
}

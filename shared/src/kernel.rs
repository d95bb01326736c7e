//! The shared kernel: generic ideas every context uses, so that no context
//! reaches into another for them.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::AppError;

/// A booking's id (UUID v7). In the kernel because the payment context keys
/// its payments by it without depending on the booking context.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingId(String);

impl BookingId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        uuid::Uuid::parse_str(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| AppError::validation("INVALID_BOOKING_ID", "the booking id is not valid"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BookingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client's `Idempotency-Key` header: 8 to 64 letters, digits, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const HEADER: &'static str = "idempotency-key";

    pub fn parse(raw: Option<&str>) -> Result<Self, AppError> {
        let raw = raw.ok_or_else(|| {
            AppError::validation(
                "MISSING_IDEMPOTENCY_KEY",
                "an Idempotency-Key header is required, e.g. a UUID made once per booking attempt",
            )
        })?;
        let ok = (8..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(AppError::validation(
                "INVALID_IDEMPOTENCY_KEY",
                "Idempotency-Key must be 8 to 64 letters, digits, '-' or '_'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A fingerprint of a request body, to tell a replay from a different
/// request under the same key.
pub fn fingerprint(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// One page of a list, ordered, and the opaque cursor of the next page
/// (`None` on the last one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Which page of a list to read: at most `limit` items, from `cursor` (a
/// `next_cursor` a previous page returned) or from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<'a> {
    pub limit: u32,
    pub cursor: Option<&'a str>,
}

impl PageRequest<'_> {
    /// The first page of up to `limit` items.
    pub fn first(limit: u32) -> Self {
        Self {
            limit,
            cursor: None,
        }
    }
}

//! The gate a waiting room puts on a resource: which room, and when its
//! sale opens. It is catalog data (a booking reads it with the resource);
//! the room itself is [`crate::waiting_room`]'s.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::AppError;

fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(code, message)
}

/// A waiting room's id: a UUID v7.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoomId(String);

impl RoomId {
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        uuid::Uuid::parse_str(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| invalid("INVALID_ROOM_ID", "the waiting room id is not a valid id"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What protects a resource: its room and the sale's opening, kept on the
/// resource so a booking learns both from the read it makes anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub room_id: RoomId,
    pub sale_opens_at: Option<DateTime<Utc>>,
}

impl Gate {
    /// 409 `SALE_NOT_OPEN` before the opening.
    pub fn check_open(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        match self.sale_opens_at {
            Some(at) if now < at => Err(AppError::conflict(
                "SALE_NOT_OPEN",
                format!(
                    "the sale opens at {}; enter the waiting room {} for a pass",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    self.room_id
                ),
            )),
            _ => Ok(()),
        }
    }
}

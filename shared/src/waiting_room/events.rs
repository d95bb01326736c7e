//! What the waiting room tells the rest of the platform, through the
//! outbox: each admission, and once a minute a room's figures. Polls emit
//! nothing.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RoomId;
use crate::events::{Event, EventType};
use crate::identity::UserId;

/// A waiting user was admitted and given a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAdmitted {
    pub room_id: RoomId,
    pub user_id: UserId,
    /// Its place in the queue.
    pub position: u64,
    /// The room's admissions so far, this one included.
    pub admission_no: u64,
    pub pass_expires_at: DateTime<Utc>,
}

impl Event for UserAdmitted {
    const TYPE: EventType = EventType::UserAdmitted;
    const VERSION: u32 = 1;
}

/// A room's figures, once a minute while it is not closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingRoomFigures {
    pub room_id: RoomId,
    /// The minute they describe (its start).
    pub minute: DateTime<Utc>,
    pub waiting: u64,
    pub admitted: u64,
    pub active: u64,
    pub sold_out: bool,
    pub status: String,
    pub rate_per_minute: u32,
}

impl Event for WaitingRoomFigures {
    const TYPE: EventType = EventType::WaitingRoomFigures;
    const VERSION: u32 = 1;
}

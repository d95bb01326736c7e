//! The events the catalog context emits.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ResourceId;
use crate::EventType;
use crate::events::Event;

/// A daily pattern of slots was generated for a resource (created ones and
/// ones that already existed alike: generation is idempotent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsGenerated {
    pub resource_id: ResourceId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// How many slots the pattern names.
    pub requested: usize,
    /// Who asked: a user id, or the demo loader.
    pub by: String,
    /// Slots of this part written now, and slots of it that were there
    /// already.
    pub created: usize,
    pub skipped: usize,
    /// A generation is written in parts of up to 98 slots, each in one
    /// transaction with its own event: this is part `part` of `parts`.
    pub part: usize,
    pub parts: usize,
}

impl Event for SlotsGenerated {
    const TYPE: EventType = EventType::SlotsGenerated;
    const VERSION: u32 = 1;
}

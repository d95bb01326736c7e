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
    /// Slots written now, and slots that were there already.
    pub created: usize,
    pub skipped: usize,
}

impl Event for SlotsGenerated {
    const TYPE: EventType = EventType::SlotsGenerated;
    const VERSION: u32 = 1;
}

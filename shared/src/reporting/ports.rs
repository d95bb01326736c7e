//! What reporting needs from storage.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::NaiveDate;

use super::{DateRange, Figures, Subject, Tally};
use crate::AppError;
use crate::catalog::{ResourceId, SlotId};

/// Whether a tally was written now or had been before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    New,
    Duplicate,
}

/// The kept figures.
pub trait FiguresStore: Send + Sync {
    /// Writes `tally` to its resources' days, its venue's days and its
    /// slots, with the marker of its event, all or nothing: a tally whose
    /// event was counted before changes nothing (`Duplicate`).
    fn apply(&self, tally: &Tally) -> impl Future<Output = Result<Counted, AppError>> + Send;

    /// The kept figures of `subject` per day of `range` (days with nothing
    /// counted are absent).
    fn days(
        &self,
        subject: &Subject,
        range: DateRange,
    ) -> impl Future<Output = Result<BTreeMap<NaiveDate, Figures>, AppError>> + Send;

    /// Places used per slot of `resource` in `range` (slots with none are
    /// absent).
    fn slot_places(
        &self,
        resource: &ResourceId,
        range: DateRange,
    ) -> impl Future<Output = Result<BTreeMap<SlotId, i64>, AppError>> + Send;
}

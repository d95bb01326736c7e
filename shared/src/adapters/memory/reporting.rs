//! The kept figures in memory, with the adapter's guarantee: a tally is
//! written once, all of it, with its marker.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use chrono::NaiveDate;

use crate::AppError;
use crate::catalog::{ResourceId, SlotId};
use crate::reporting::ports::{Counted, FiguresStore};
use crate::reporting::{DateRange, Figures, Subject, Tally};

#[derive(Debug, Default)]
struct Kept {
    counted: HashSet<String>,
    days: BTreeMap<(Subject, NaiveDate), Figures>,
    slots: BTreeMap<SlotId, i64>,
}

/// Figures in memory.
#[derive(Debug, Default)]
pub struct MemoryFigures {
    kept: Mutex<Kept>,
}

impl MemoryFigures {
    /// How many events were counted.
    pub fn counted(&self) -> usize {
        self.kept.lock().unwrap().counted.len()
    }
}

impl FiguresStore for MemoryFigures {
    async fn apply(&self, tally: &Tally) -> Result<Counted, AppError> {
        let mut kept = self.kept.lock().unwrap();
        if !kept.counted.insert(tally.event_id.clone()) {
            return Ok(Counted::Duplicate);
        }
        for day in &tally.days {
            for subject in [
                Subject::Resource(day.resource_id.clone()),
                Subject::Venue(tally.venue_id.clone()),
            ] {
                kept.days
                    .entry((subject, day.date))
                    .or_default()
                    .add(&day.figures);
            }
        }
        for (slot, places) in &tally.slots {
            *kept.slots.entry(slot.clone()).or_default() += places;
        }
        Ok(Counted::New)
    }

    async fn days(
        &self,
        subject: &Subject,
        range: DateRange,
    ) -> Result<BTreeMap<NaiveDate, Figures>, AppError> {
        let kept = self.kept.lock().unwrap();
        Ok(range
            .days()
            .filter_map(|d| {
                kept.days
                    .get(&(subject.clone(), d))
                    .map(|f| (d, f.trimmed()))
            })
            .filter(|(_, f)| *f != Figures::default())
            .collect())
    }

    async fn slot_places(
        &self,
        resource: &ResourceId,
        range: DateRange,
    ) -> Result<BTreeMap<SlotId, i64>, AppError> {
        let kept = self.kept.lock().unwrap();
        Ok(kept
            .slots
            .iter()
            .filter(|(s, p)| {
                &s.resource_id == resource && s.date >= range.from && s.date <= range.to && **p != 0
            })
            .map(|(s, p)| (s.clone(), *p))
            .collect())
    }
}

//! The reporting use cases over in-memory twins.

use crate::adapters::memory::{MemoryBookings, MemoryCatalog, MemoryFigures};
use crate::clock::FixedClock;
use crate::reporting::service::Reporting;

/// The reporting use cases over twins.
pub type Twin = Reporting<MemoryFigures, MemoryBookings, MemoryCatalog, FixedClock>;

/// [`Twin`] over the catalog fixtures' course with its two tee times on
/// 2027-01-15 ([`super::catalog::course_with_slots`]), no bookings, the
/// clock at the booking fixtures' `at(0)`.
pub async fn twin() -> Twin {
    let catalog = MemoryCatalog::default();
    super::catalog::course_with_slots(&catalog).await;
    Reporting {
        figures: MemoryFigures::default(),
        bookings: MemoryBookings::default(),
        catalog,
        clock: FixedClock::at(super::booking::at(0)),
    }
}

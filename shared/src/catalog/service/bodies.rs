//! The catalog routes' request and answer bodies.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::{
    Availability, BackNine, CatalogStatus, RangeRules, Resource, ResourceId, ResourceKind, Seat,
    SlotId, SlotStatus, TimeZone, Venue, VenueKind,
};

/// POST /admin/venues
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVenueRequest {
    /// The company that owns it, within the caller's scope.
    pub company_id: String,
    pub name: String,
    pub kind: VenueKind,
    pub city: String,
    /// The venue's IANA time zone, e.g. `Asia/Seoul`: its slots' times are
    /// wall-clock times there.
    pub time_zone: String,
}

/// PATCH /admin/venues/{venue_id}: any of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateVenueRequest {
    pub name: Option<String>,
    pub city: Option<String>,
    pub status: Option<CatalogStatus>,
}

/// POST /admin/venues/{venue_id}/resources
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateResourceRequest {
    pub name: String,
    pub kind: ResourceKind,
    /// Rooms only: how the room is booked by time range.
    pub range: Option<RangeRules>,
    /// Courses only: the back nine an 18-hole round continues on.
    pub back_nine: Option<BackNine>,
}

/// PATCH /admin/resources/{resource_id}: any of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateResourceRequest {
    pub name: Option<String>,
    pub status: Option<CatalogStatus>,
}

/// A venue and one page of its resources, as
/// `GET /venues/{venue_id}/resources` shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueResources {
    pub venue: Venue,
    pub resources: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// One page of venues, as `GET /venues` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VenueList {
    pub venues: Vec<Venue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// PATCH /admin/slots/{slot_id}: any of the fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSlotRequest {
    pub status: Option<SlotStatus>,
    pub capacity: Option<i64>,
}

/// One slot of a day, as the availability route shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotView {
    pub slot_id: SlotId,
    /// Wall-clock `HH:MM` at the venue.
    pub start: String,
    pub end: String,
    /// The same instants in RFC 3339 with the venue's UTC offset that day.
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: u32,
    pub remaining: u32,
    pub availability: Availability,
    pub premium: bool,
    pub unit_price_cents: u64,
}

/// `GET /resources/{resource_id}/availability?date=`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayAvailability {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub time_zone: TimeZone,
    pub slots: Vec<SlotView>,
}

/// A free stretch of a room's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeRange {
    pub start: String,
    pub end: String,
}

/// `GET /resources/{resource_id}/free-ranges?date=`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeRanges {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub unit_minutes: u32,
    pub unit_price_cents: u64,
    pub free: Vec<FreeRange>,
}

/// `GET /slots/{slot_id}/seats`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatMapView {
    pub slot_id: SlotId,
    pub seated: bool,
    pub remaining: u32,
    pub seats: Vec<Seat>,
}

/// A slot after `PATCH /admin/slots/{slot_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotUpdated {
    pub slot_id: SlotId,
    pub capacity: u32,
    pub booked: u32,
    pub remaining: u32,
    pub availability: Availability,
}

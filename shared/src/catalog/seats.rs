//! Seat maps: the seats of a seated slot, their tiers and prices.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{MAX_PRICE_CENTS, invalid, parse_name};
use crate::AppError;

/// The most seats one slot's map may hold.
pub const MAX_SEATS: usize = 2_000;
/// The largest body of `PUT /admin/slots/{slot_id}/seats`: room for
/// [`MAX_SEATS`] seats with the longest ids, sections and tiers.
pub const MAX_SEAT_MAP_BYTES: usize = 1024 * 1024;

/// One seat of a seated slot, as an admin defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatSpec {
    pub id: String,
    pub section: String,
    pub tier: String,
}

/// PUT /admin/slots/{slot_id}/seats: the seats of a slot and the price of
/// each tier, in cents.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatMapRequest {
    pub tiers: std::collections::BTreeMap<String, u64>,
    pub seats: Vec<SeatSpec>,
}

/// A seat as stored and shown: its tier's price and whether it is free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seat {
    pub seat_id: String,
    pub section: String,
    pub tier: String,
    pub price_cents: u64,
    pub status: SeatStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatStatus {
    Available,
    /// Taken by a booking (held or confirmed).
    Taken,
}

/// A seat id: 1 to 16 letters, digits or `-` (e.g. `A-12`).
pub fn parse_seat_id(raw: &str) -> Result<String, AppError> {
    let ok = (1..=16).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(invalid(
            "INVALID_SEAT_ID",
            format!("{raw:?} is not a seat id (1 to 16 letters, digits or '-')"),
        ))
    }
}

impl SeatMapRequest {
    /// The seats, validated: unique ids, known tiers, bounded prices.
    pub fn seats(&self) -> Result<Vec<Seat>, AppError> {
        if self.seats.is_empty() || self.seats.len() > MAX_SEATS {
            return Err(invalid(
                "INVALID_SEAT_MAP",
                format!("a seat map holds 1 to {MAX_SEATS} seats"),
            ));
        }
        if self.tiers.values().any(|p| *p > MAX_PRICE_CENTS) {
            return Err(invalid(
                "INVALID_PRICE",
                format!("prices are cents from 0 to {MAX_PRICE_CENTS}"),
            ));
        }
        let mut ids = BTreeSet::new();
        self.seats
            .iter()
            .map(|spec| {
                let seat_id = parse_seat_id(&spec.id)?;
                if !ids.insert(seat_id.clone()) {
                    return Err(invalid(
                        "DUPLICATE_SEAT",
                        format!("seat {seat_id} appears twice"),
                    ));
                }
                let price_cents = *self.tiers.get(&spec.tier).ok_or_else(|| {
                    invalid(
                        "UNKNOWN_TIER",
                        format!(
                            "seat {seat_id} has the tier {:?}, which has no price",
                            spec.tier
                        ),
                    )
                })?;
                Ok(Seat {
                    seat_id,
                    section: parse_name(&spec.section)?,
                    tier: spec.tier.clone(),
                    price_cents,
                    status: SeatStatus::Available,
                })
            })
            .collect()
    }
}

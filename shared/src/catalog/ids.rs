//! The catalog's ids: venues and resources by UUID v7, slots by their
//! resource, date and start time.

use std::fmt;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::invalid;
use crate::AppError;

/// An id of a venue or resource: a UUID v7.
macro_rules! uuid_id {
    ($name:ident, $code:literal, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn parse(raw: &str) -> Result<Self, AppError> {
                uuid::Uuid::parse_str(raw)
                    .map(|id| Self(id.to_string()))
                    .map_err(|_| invalid($code, concat!($what, " is not a valid id")))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(VenueId, "INVALID_VENUE_ID", "the venue id");
uuid_id!(ResourceId, "INVALID_RESOURCE_ID", "the resource id");

/// A slot's key: resource, date and start time. Written
/// `<resource id>@<yyyy-mm-dd>T<hh:mm>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId {
    pub resource_id: ResourceId,
    pub date: NaiveDate,
    pub start: NaiveTime,
}

impl SlotId {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = || {
            invalid(
                "INVALID_SLOT_ID",
                "slot_id must look like <resource id>@2026-12-01T08:00",
            )
        };
        let (resource, when) = raw.split_once('@').ok_or_else(bad)?;
        let (date, start) = when.split_once('T').ok_or_else(bad)?;
        Ok(Self {
            resource_id: ResourceId::parse(resource).map_err(|_| bad())?,
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?,
            start: NaiveTime::parse_from_str(start, "%H:%M").map_err(|_| bad())?,
        })
    }

    /// The slot's sort key within its resource: `SLOT#<date>T<hh:mm>`.
    pub fn sort_key(&self) -> String {
        format!("SLOT#{}T{}", self.date, self.start.format("%H:%M"))
    }
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}T{}",
            self.resource_id,
            self.date,
            self.start.format("%H:%M")
        )
    }
}

impl Serialize for SlotId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SlotId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::generation::tests::request;

    #[test]
    fn a_slot_id_round_trips_and_bad_ones_are_refused() {
        let id = request().slots(&ResourceId::generate()).unwrap()[0]
            .id
            .clone();
        assert_eq!(SlotId::parse(&id.to_string()).unwrap(), id);
        for bad in [
            "",
            "x@2026-12-01T08:00",
            "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10@2026-13-01T08:00",
            "0195f0a4-6c1e-7cc3-9a51-3f2d8e1b7a10@2026-12-01T25:00",
        ] {
            assert_eq!(
                SlotId::parse(bad).unwrap_err().code(),
                "INVALID_SLOT_ID",
                "{bad}"
            );
        }
    }
}

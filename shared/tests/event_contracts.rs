//! The contract of every event type: `events/types/` holds a real payload of
//! each, and each round-trips through the Rust type its producer writes and
//! its consumers read. A field left out is refused (never defaulted), an
//! unknown field is tolerated, and `docs/events.md` lists exactly the fields
//! the payload has.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;
use shared::EventEnvelope;
use shared::EventType;
use shared::booking::events::{
    BookingCancelled, BookingConfirmed, BookingCreated, BookingExpired, BookingModified,
};
use shared::catalog::events::SlotsGenerated;
use shared::events::{Event, Ping};
use shared::identity::events::{AdminActivity, UserDeleted, UserRegistered, UserUpdated};
use shared::payment::events::{PaymentCompleted, PaymentFailed, PaymentRefunded, WalletCharged};
use shared::waiting_room::events::{UserAdmitted, WaitingRoomFigures};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every fixture of `events/types/`, by file name.
fn fixtures() -> BTreeMap<String, EventEnvelope> {
    let dir = root().join("events/types");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let envelope = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not an envelope: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                envelope,
            )
        })
        .collect()
}

/// Checks one fixture against its type; returns its top-level fields.
fn check<E: Event + std::fmt::Debug>(name: &str, envelope: &EventEnvelope) -> BTreeSet<String> {
    let event: E = envelope
        .decode()
        .unwrap_or_else(|e| panic!("{name} does not decode: {e}"));
    assert_eq!(
        serde_json::to_value(&event).unwrap(),
        envelope.data,
        "{name}: what the producer writes differs from the fixture"
    );
    let fields = envelope.data.as_object().expect("data is an object");
    for field in fields.keys() {
        let mut without = envelope.clone();
        without.data.as_object_mut().unwrap().remove(field);
        assert!(
            without.decode::<E>().is_err(),
            "{name}: a payload without `{field}` is accepted; it must be refused"
        );
    }
    let mut extended = envelope.clone();
    extended
        .data
        .as_object_mut()
        .unwrap()
        .insert("added_later".into(), Value::from(1));
    assert!(
        extended.decode::<E>().is_ok(),
        "{name}: an unknown field is refused; it must be tolerated"
    );
    fields.keys().cloned().collect()
}

/// The fields of each event type's fixtures, checked against its type.
fn fields_by_type() -> BTreeMap<String, BTreeSet<String>> {
    let mut by_type: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, envelope) in fixtures() {
        let fields = match envelope.event_type {
            EventType::BookingCreated => check::<BookingCreated>(&name, &envelope),
            EventType::BookingConfirmed => check::<BookingConfirmed>(&name, &envelope),
            EventType::BookingCancelled => check::<BookingCancelled>(&name, &envelope),
            EventType::BookingExpired => check::<BookingExpired>(&name, &envelope),
            EventType::BookingModified => check::<BookingModified>(&name, &envelope),
            EventType::PaymentCompleted => check::<PaymentCompleted>(&name, &envelope),
            EventType::PaymentFailed => check::<PaymentFailed>(&name, &envelope),
            EventType::PaymentRefunded => check::<PaymentRefunded>(&name, &envelope),
            EventType::WalletCharged => check::<WalletCharged>(&name, &envelope),
            EventType::UserRegistered => check::<UserRegistered>(&name, &envelope),
            EventType::UserUpdated => check::<UserUpdated>(&name, &envelope),
            EventType::UserDeleted => check::<UserDeleted>(&name, &envelope),
            EventType::SlotsGenerated => check::<SlotsGenerated>(&name, &envelope),
            EventType::AdminActivity => check::<AdminActivity>(&name, &envelope),
            EventType::UserAdmitted => check::<UserAdmitted>(&name, &envelope),
            EventType::WaitingRoomFigures => check::<WaitingRoomFigures>(&name, &envelope),
            EventType::Ping => check::<Ping>(&name, &envelope),
            EventType::Other(ref other) => panic!("{name}: {other} is not an event type"),
        };
        assert!(
            name.starts_with(envelope.event_type.as_str()),
            "{name} holds a {} event",
            envelope.event_type
        );
        by_type
            .entry(envelope.event_type.to_string())
            .or_default()
            .extend(fields);
    }
    by_type
}

#[test]
fn every_event_type_has_a_fixture_that_round_trips_through_its_type() {
    let by_type = fields_by_type();
    for known in EventType::KNOWN {
        assert!(
            by_type.contains_key(known.as_str()),
            "no fixture of {known} in events/types/"
        );
    }
}

/// The fields `docs/events.md` lists under each `### <EventType>` heading:
/// the first column of its table, in backticks.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("docs/events.md")).unwrap();
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            let name = heading.split_whitespace().next().unwrap_or_default();
            current = Some(name.to_owned());
            out.entry(name.to_owned()).or_default();
        } else if let (Some(event), Some(row)) = (&current, line.strip_prefix("| `")) {
            let field = row.split('`').next().unwrap_or_default();
            out.get_mut(event).unwrap().insert(field.to_owned());
        }
    }
    out
}

#[test]
fn the_event_docs_list_exactly_the_fields_of_every_event() {
    assert_eq!(
        documented(),
        fields_by_type(),
        "docs/events.md and the payloads in events/types/ disagree"
    );
}

//! The catalog use cases' rules, without a store.

use super::*;
use crate::identity::{Caller, UserId};

fn room_rules() -> RangeRules {
    serde_json::from_str(
        r#"{"unit_minutes":15,"opens":"08:00","closes":"20:00","unit_price_cents":500}"#,
    )
    .unwrap()
}

fn back() -> BackNine {
    BackNine {
        resource_id: ResourceId::generate(),
        turn_minutes: 120,
    }
}

fn code(result: Result<(Option<RangeRules>, Option<BackNine>), AppError>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn rooms_and_only_rooms_take_range_rules() {
    let (range, _) = resource_rules(ResourceKind::Room, Some(room_rules()), None).unwrap();
    assert!(range.is_some());
    assert_eq!(
        code(resource_rules(ResourceKind::Room, None, None)),
        "MISSING_RANGE_RULES"
    );
    for kind in [ResourceKind::Course, ResourceKind::Performance] {
        assert_eq!(
            code(resource_rules(kind, Some(room_rules()), None)),
            "UNEXPECTED_RANGE_RULES"
        );
    }
}

#[test]
fn courses_and_only_courses_take_a_back_nine() {
    let (_, back_nine) = resource_rules(ResourceKind::Course, None, Some(back())).unwrap();
    assert!(back_nine.is_some());
    assert_eq!(
        resource_rules(ResourceKind::Course, None, None).unwrap(),
        (None, None)
    );
    assert_eq!(
        code(resource_rules(
            ResourceKind::Performance,
            None,
            Some(back())
        )),
        "UNEXPECTED_BACK_NINE"
    );
    assert_eq!(
        code(resource_rules(
            ResourceKind::Room,
            Some(room_rules()),
            Some(back())
        )),
        "UNEXPECTED_BACK_NINE"
    );
}

#[test]
fn a_back_nine_is_a_course_of_the_same_venue() {
    let venue = VenueId::generate();
    let course = |kind, venue_id: &VenueId| Resource {
        id: ResourceId::generate(),
        venue_id: venue_id.clone(),
        name: "Back nine".into(),
        kind,
        status: CatalogStatus::Open,
        range: None,
        back_nine: None,
        waiting_room: None,
    };
    assert!(check_back_nine(Some(&course(ResourceKind::Course, &venue)), &venue).is_ok());
    for wrong in [
        Some(course(ResourceKind::Course, &VenueId::generate())),
        Some(course(ResourceKind::Performance, &venue)),
        None,
    ] {
        assert_eq!(
            check_back_nine(wrong.as_ref(), &venue).unwrap_err().code(),
            "INVALID_BACK_NINE"
        );
    }
}

#[test]
fn only_catalog_writers_may_write() {
    let caller = |role| Caller::new(UserId::generate(), role);
    assert!(CatalogWriter::of(&caller(crate::identity::Role::Admin)).is_ok());
    assert_eq!(
        CatalogWriter::of(&caller(crate::identity::Role::User))
            .unwrap_err()
            .code(),
        "FORBIDDEN"
    );
}

/// Every catalog write records one `AdminActivity`, with its company and
/// its actor, and a refused write records none.
#[tokio::test]
async fn every_catalog_write_is_recorded_as_admin_activity() {
    use crate::adapters::memory::{MemoryCatalog, MemoryCompanies};
    use crate::identity::events::AdminActivity;
    use crate::testing::catalog::{company, company_id};
    let (catalog, companies) = (MemoryCatalog::default(), MemoryCompanies::default());
    company(&companies).await;
    let admin = Caller::new(UserId::generate(), crate::identity::Role::Admin);
    let writer = CatalogWriter::of(&admin).unwrap();
    let correlation = CorrelationId::generate();
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap();
    let venue = create_venue(
        &catalog,
        &companies,
        &writer,
        serde_json::from_value(json(&format!(
            r#"{{"company_id":"{}","name":"Hall","kind":"CONCERT_HALL","city":"Vienna",
                "time_zone":"Europe/Vienna"}}"#,
            company_id()
        )))
        .unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    update_venue(
        &catalog,
        &writer,
        &venue.id,
        serde_json::from_value(json(r#"{"city":"Graz"}"#)).unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    let resource = create_resource(
        &catalog,
        &writer,
        venue.id.clone(),
        serde_json::from_value(json(r#"{"name":"Evening","kind":"PERFORMANCE"}"#)).unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    update_resource(
        &catalog,
        &writer,
        &resource.id,
        serde_json::from_value(json(r#"{"status":"CLOSED"}"#)).unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    let pattern = json(
        r#"{"from":"2027-03-01","to":"2027-03-02","start_times":["19:30"],"duration_minutes":120,
            "capacity":100,"prices":{"weekday":5000,"weekend":7000,"holiday":9000}}"#,
    );
    let deadline = crate::catalog::Deadline {
        now: "2027-01-15T10:00:00Z".parse().unwrap(),
        cutoff: chrono::Duration::zero(),
    };
    generate_slots(
        &catalog,
        &writer,
        &resource.id,
        serde_json::from_value(pattern).unwrap(),
        &correlation,
        &deadline,
    )
    .await
    .unwrap();
    let slot = SlotId::parse(&format!("{}@2027-03-01T19:30", resource.id)).unwrap();
    update_slot(
        &catalog,
        &writer,
        &slot,
        serde_json::from_value(json(r#"{"capacity":80}"#)).unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    set_seats(
        &catalog,
        &writer,
        &slot,
        serde_json::from_value(json(
            r#"{"tiers":{"A":9000},"seats":[{"id":"A-1","section":"Stalls","tier":"A"}]}"#,
        ))
        .unwrap(),
        &correlation,
    )
    .await
    .unwrap();
    let below = update_slot(
        &catalog,
        &writer,
        &SlotId::parse(&format!("{}@2027-04-01T19:30", resource.id)).unwrap(),
        serde_json::from_value(json(r#"{"capacity":80}"#)).unwrap(),
        &correlation,
    )
    .await;
    assert_eq!(below.unwrap_err().code(), "SLOT_NOT_FOUND");

    let activities: Vec<AdminActivity> = catalog
        .events()
        .iter()
        .filter(|e| e.event_type == crate::EventType::AdminActivity)
        .map(|e| e.decode().unwrap())
        .collect();
    let actions: Vec<&str> = activities.iter().map(AdminActivity::action).collect();
    assert_eq!(
        actions,
        [
            "venue_created",
            "venue_changed",
            "resource_created",
            "resource_changed",
            "slots_generated",
            "slot_changed",
            "seat_map_set",
        ]
    );
    for activity in &activities {
        let json = serde_json::to_value(activity).unwrap();
        assert_eq!(json["company_id"], company_id().to_string(), "{json}");
        assert_eq!(json["actor"], admin.user_id.to_string(), "{json}");
    }
    assert!(matches!(
        &activities[4],
        AdminActivity::SlotsGenerated {
            created: 2,
            skipped: 0,
            ..
        }
    ));
}

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

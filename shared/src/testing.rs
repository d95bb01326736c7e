//! Helpers for handler tests: an `events/` fixture with one thing changed,
//! and what a response says. Compiled for this crate's tests and for the
//! function crates' tests (feature `test-support`), never into a function.

use lambda_http::{Body, Request, Response};
use serde_json::Value;

fn fixture_json(fixture: &str) -> Value {
    serde_json::from_str(fixture).expect("the fixture is JSON")
}

fn request_of(json: &Value) -> Request {
    lambda_http::request::from_str(&json.to_string()).expect("the fixture is an HTTP API event")
}

/// The fixture as the request a function receives.
pub fn request(fixture: &str) -> Request {
    request_of(&fixture_json(fixture))
}

/// The fixture with another body.
pub fn with_body(fixture: &str, body: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["body"] = body.into();
    request_of(&json)
}

/// The fixture as sent by a caller of another role (`USER`, `ADMIN`).
pub fn with_role(fixture: &str, role: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["requestContext"]["authorizer"]["lambda"]["role"] = role.into();
    request_of(&json)
}

/// The fixture with one path parameter changed.
pub fn with_path_param(fixture: &str, name: &str, value: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["pathParameters"][name] = value.into();
    request_of(&json)
}

/// The fixture with one query parameter set, or removed (`None`).
pub fn with_query(fixture: &str, name: &str, value: Option<&str>) -> Request {
    let mut json = fixture_json(fixture);
    let mut query = json["queryStringParameters"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    match value {
        Some(value) => query.insert(name.to_owned(), value.into()),
        None => query.remove(name),
    };
    json["rawQueryString"] = query
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("&")
        .into();
    json["queryStringParameters"] = Value::Object(query);
    request_of(&json)
}

/// The response's JSON body.
pub fn body(res: &Response<Body>) -> Value {
    serde_json::from_slice(res.body().as_ref()).expect("a JSON body")
}

/// The stable code of an error response.
pub fn code(res: &Response<Body>) -> String {
    body(res)["code"].as_str().unwrap_or_default().to_owned()
}

/// Status and code of an error response, to compare in one assertion.
pub fn refusal(res: &Response<Body>) -> (u16, String) {
    (res.status().as_u16(), code(res))
}

/// A catalog to test against, matching the `events/catalog-*` fixtures.
pub mod catalog {
    use crate::CorrelationId;
    use crate::adapters::memory::MemoryCatalog;
    use crate::catalog::events::SlotsGenerated;
    use crate::catalog::ports::{ResourceStore, SlotStore, VenueStore};
    use crate::catalog::{
        CatalogStatus, GenerationRequest, Resource, ResourceId, ResourceKind, SeatMapRequest,
        SlotId, Venue, VenueId, VenueKind,
    };

    /// The venue the fixtures name.
    pub const VENUE: &str = "0195f0a4-0000-7000-8000-000000000001";

    pub fn venue_id() -> VenueId {
        VenueId::parse(VENUE).expect("an id")
    }

    /// The fixtures' venue, a golf club called Royal Links.
    pub async fn venue(store: &MemoryCatalog) {
        let venue = Venue {
            id: venue_id(),
            name: "Royal Links".into(),
            kind: VenueKind::GolfClub,
            city: "St Andrews".into(),
            status: CatalogStatus::Open,
        };
        store.create_venue(&venue).await.expect("a venue");
    }

    /// The course the fixtures name.
    pub const RESOURCE: &str = "0195f0a4-0000-7000-8000-000000000012";
    /// Its 08:00 tee time on 2027-01-15, the slot the fixtures name.
    pub const SLOT: &str = "0195f0a4-0000-7000-8000-000000000012@2027-01-15T08:00";

    pub fn slot() -> SlotId {
        SlotId::parse(SLOT).expect("a slot id")
    }

    /// The fixtures' course, of the fixtures' venue, with no slots yet.
    pub async fn course(store: &MemoryCatalog) {
        let course = Resource {
            id: ResourceId::parse(RESOURCE).expect("an id"),
            venue_id: venue_id(),
            name: "Old Course".into(),
            kind: ResourceKind::Course,
            status: CatalogStatus::Open,
            range: None,
            back_nine: None,
        };
        store.create_resource(&course).await.expect("a resource");
    }

    /// The course with tee times at 08:00 (premium) and 08:10 on
    /// 2027-01-15, 4 places each, 5000 cents on weekdays.
    pub async fn course_with_slots(store: &MemoryCatalog) {
        course(store).await;
        let id = ResourceId::parse(RESOURCE).expect("an id");
        let pattern: GenerationRequest = serde_json::from_str(
            r#"{"from":"2027-01-15","to":"2027-01-15","start_times":["08:00","08:10"],
                "duration_minutes":10,"capacity":4,
                "prices":{"weekday":5000,"weekend":7000,"holiday":9000},
                "premium_start_times":["08:00"]}"#,
        )
        .expect("a pattern");
        let slots = pattern.slots(&id).expect("slots");
        let announce = SlotsGenerated {
            resource_id: id,
            from: pattern.from,
            to: pattern.to,
            requested: slots.len(),
            by: "test".into(),
            created: 0,
            skipped: 0,
        };
        store
            .generate(&slots, &announce, &CorrelationId::generate())
            .await
            .expect("generated");
    }

    /// [`course_with_slots`], with the 08:00 slot seated: A-1 and A-2 in
    /// tier A (9000 cents), B-1 in tier B (5000).
    pub async fn seated_slot(store: &MemoryCatalog) {
        course_with_slots(store).await;
        let map: SeatMapRequest = serde_json::from_str(
            r#"{"tiers":{"A":9000,"B":5000},"seats":[
                {"id":"A-1","section":"Stalls","tier":"A"},
                {"id":"A-2","section":"Stalls","tier":"A"},
                {"id":"B-1","section":"Balcony","tier":"B"}]}"#,
        )
        .expect("a seat map");
        store
            .set_seat_map(&slot(), &map.seats().expect("seats"))
            .await
            .expect("seated");
    }
}

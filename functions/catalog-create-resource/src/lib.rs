//! POST /admin/venues/{venue_id}/resources (catalog:write): adds a bookable
//! resource (a course, a performance, a room) to a venue.

use lambda_http::{Body, Request, Response};
use shared::catalog::VenueId;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter, CreateResourceRequest};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

pub async fn handle<S: VenueStore + ResourceStore>(
    store: &S,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let venue_id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let body: CreateResourceRequest = parse_json(&req)?;
        service::create_resource(store, &writer, venue_id, body, &correlation_id).await
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{Resource, ResourceKind};
    use shared::testing::catalog::{venue, venue_id};
    use shared::testing::{refusal, request, with_body, with_path_param, with_role};

    const FIXTURE: &str =
        include_str!("../../../events/catalog-create-resource/post-resource.json");
    async fn store() -> MemoryCatalog {
        let store = MemoryCatalog::default();
        venue(&store).await;
        store
    }

    #[tokio::test]
    async fn an_admin_adds_a_room_with_its_range_rules() {
        let store = store().await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 201);
        let room: Resource = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(room.kind, ResourceKind::Room);
        assert_eq!(room.range.unwrap().unit_minutes, 15);
        assert_eq!(store.resources_of(&venue_id()), vec![room]);
    }

    #[tokio::test]
    async fn a_back_nine_must_be_a_course_of_the_same_venue() {
        let store = store().await;
        let course = r#"{"name":"Back nine","kind":"COURSE"}"#;
        let back: Resource = serde_json::from_slice(
            handle(&store, with_body(FIXTURE, course))
                .await
                .unwrap()
                .body()
                .as_ref(),
        )
        .unwrap();
        let front = format!(
            r#"{{"name":"Front nine","kind":"COURSE","back_nine":{{"resource_id":"{}","turn_minutes":120}}}}"#,
            back.id
        );
        let res = handle(&store, with_body(FIXTURE, &front)).await.unwrap();
        assert_eq!(res.status(), 201);
        let stranger = format!(
            r#"{{"name":"Front nine","kind":"COURSE","back_nine":{{"resource_id":"{}","turn_minutes":120}}}}"#,
            shared::catalog::ResourceId::generate()
        );
        let res = handle(&store, with_body(FIXTURE, &stranger)).await.unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_BACK_NINE".into()));
        assert_eq!(store.resources_of(&venue_id()).len(), 2);
    }

    #[tokio::test]
    async fn refusals_write_nothing() {
        let store = store().await;
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let other = VenueId::generate().to_string();
        let res = handle(&store, with_path_param(FIXTURE, "venue_id", &other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "VENUE_NOT_FOUND".into()));
        for (body, expected) in [
            (r#"{"name":"Room","kind":"ROOM"}"#, "MISSING_RANGE_RULES"),
            (
                r#"{"name":"Hall","kind":"PERFORMANCE","range":{"unit_minutes":15,"opens":"08:00","closes":"20:00","unit_price_cents":500}}"#,
                "UNEXPECTED_RANGE_RULES",
            ),
            (
                r#"{"name":"Room","kind":"ROOM","back_nine":{"resource_id":"0195f0a4-0000-7000-8000-000000000011","turn_minutes":120},"range":{"unit_minutes":15,"opens":"08:00","closes":"20:00","unit_price_cents":500}}"#,
                "UNEXPECTED_BACK_NINE",
            ),
            (r#"{"name":"Room","kind":"SPACESHIP"}"#, "INVALID_BODY"),
        ] {
            let res = handle(&store, with_body(FIXTURE, body)).await.unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        assert!(store.resources_of(&venue_id()).is_empty());
    }
}

//! GET /resources/{resource_id}/free-ranges?date=YYYY-MM-DD (public): a
//! room's free stretches of the day, on its unit grid.

use lambda_http::{Body, Request, Response};
use shared::catalog::ResourceId;
use shared::catalog::ports::{ResourceStore, SlotStore};
use shared::catalog::service;
use shared::http::{correlation_id, date_query, path_param, respond};

pub async fn handle<S: ResourceStore + SlotStore>(
    store: &S,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let date = date_query(&req)?;
        service::free_ranges(store, &resource_id, date).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, NaiveTime};
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Resource, ResourceKind, VenueId};
    use shared::testing::{body, refusal, request, with_path_param, with_query};

    const FIXTURE: &str = include_str!("../../../events/catalog-free-ranges/get-free-ranges.json");
    const ROOM: &str = "0195f0a4-0000-7000-8000-000000000031";

    fn resource(id: ResourceId, kind: ResourceKind) -> Resource {
        let range = (kind == ResourceKind::Room).then(|| {
            serde_json::from_str(
                r#"{"unit_minutes":15,"opens":"08:00","closes":"20:00","unit_price_cents":500}"#,
            )
            .unwrap()
        });
        Resource {
            id,
            venue_id: VenueId::generate(),
            name: "Room 1".into(),
            kind,
            status: CatalogStatus::Open,
            range,
            back_nine: None,
            waiting_room: None,
        }
    }

    #[tokio::test]
    async fn the_free_stretches_leave_out_the_taken_units() {
        let store = MemoryCatalog::default();
        let room = ResourceId::parse(ROOM).unwrap();
        store
            .create_resource(
                &resource(room.clone(), ResourceKind::Room),
                &shared::testing::catalog::activity(),
            )
            .await
            .unwrap();
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let date = NaiveDate::from_ymd_opt(2027, 1, 15).unwrap();
        store.take_units(&room, date, &[t(9, 0), t(9, 15)]);
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            body(&res)["free"],
            serde_json::json!([
                { "start": "08:00", "end": "09:00" },
                { "start": "09:30", "end": "20:00" }
            ])
        );
    }

    #[tokio::test]
    async fn a_course_is_not_a_room_and_bad_requests_are_refused() {
        let store = MemoryCatalog::default();
        let course = ResourceId::generate();
        store
            .create_resource(
                &resource(course.clone(), ResourceKind::Course),
                &shared::testing::catalog::activity(),
            )
            .await
            .unwrap();
        let res = handle(
            &store,
            with_path_param(FIXTURE, "resource_id", course.as_str()),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (409, "NOT_A_ROOM".into()));
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(refusal(&res), (404, "RESOURCE_NOT_FOUND".into()));
        let res = handle(&store, with_query(FIXTURE, "date", Some("2027-13-01")))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_DATE".into()));
    }
}

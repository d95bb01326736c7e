//! GET /resources/{resource_id}/availability?date=YYYY-MM-DD (public): the
//! slots of that day with what is left of each and its price.

use lambda_http::{Body, Request, Response};
use shared::catalog::ResourceId;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::service;
use shared::http::{correlation_id, date_query, path_param, respond};

pub async fn handle<S: VenueStore + ResourceStore + SlotStore>(
    store: &S,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let date = date_query(&req)?;
        service::availability(store, &resource_id, date).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::testing::catalog::{RESOURCE, course_with_slots};
    use shared::testing::{body, refusal, request, with_path_param, with_query};

    const FIXTURE: &str =
        include_str!("../../../events/catalog-availability/get-availability.json");
    async fn store() -> MemoryCatalog {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        store
    }

    #[tokio::test]
    async fn a_day_shows_each_slot_with_what_is_left_and_its_price() {
        let store = store().await;
        let slot = shared::catalog::SlotId::parse(&format!("{RESOURCE}@2027-01-15T08:10")).unwrap();
        store.book(&slot, 4);
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let day = body(&res);
        assert_eq!(day["date"], "2027-01-15");
        let slots = day["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(
            (
                &slots[0]["start"],
                &slots[0]["premium"],
                &slots[0]["remaining"]
            ),
            (&"08:00".into(), &true.into(), &4.into())
        );
        assert_eq!(slots[0]["unit_price_cents"], 6250, "a premium weekday");
        assert_eq!(
            (&slots[1]["availability"], &slots[1]["remaining"]),
            (&"FULLY_BOOKED".into(), &0.into())
        );
    }

    #[tokio::test]
    async fn a_day_without_slots_is_empty_and_an_unknown_resource_a_404() {
        let store = store().await;
        let res = handle(&store, with_query(FIXTURE, "date", Some("2027-01-16")))
            .await
            .unwrap();
        assert_eq!(body(&res)["slots"], serde_json::json!([]));
        let other = ResourceId::generate().to_string();
        let res = handle(&store, with_path_param(FIXTURE, "resource_id", &other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "RESOURCE_NOT_FOUND".into()));
    }

    #[tokio::test]
    async fn a_missing_or_malformed_date_is_a_400() {
        let store = store().await;
        for (query, expected) in [(None, "MISSING_DATE"), (Some("tomorrow"), "INVALID_DATE")] {
            let res = handle(&store, with_query(FIXTURE, "date", query))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{query:?}");
        }
    }
}

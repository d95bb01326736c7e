//! GET /venues?limit=&cursor= (public): one page of the venues by name
//! (limit 1 to 100, 50 by default).

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::VenueStore;
use shared::catalog::service;
use shared::http::{correlation_id, limit_param, query_param, respond};
use shared::kernel::PageRequest;

pub async fn handle(
    venues: &impl VenueStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let limit = limit_param(&req, 50, 100)?;
        let cursor = query_param(&req, "cursor");
        let page = PageRequest {
            limit,
            cursor: cursor.as_deref(),
        };
        service::list_venues(venues, page).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Venue, VenueId, VenueKind};
    use shared::testing::{body, refusal, request, with_queries, with_query};

    const FIXTURE: &str = include_str!("../../../events/catalog-list-venues/get-venues.json");

    fn venue(name: &str) -> Venue {
        Venue {
            id: VenueId::generate(),
            company_id: Some(shared::testing::catalog::company_id()),
            name: name.into(),
            kind: VenueKind::Other,
            city: "Town".into(),
            time_zone: shared::testing::catalog::zone(),
            status: CatalogStatus::Open,
        }
    }

    #[tokio::test]
    async fn anyone_lists_every_venue_by_name() {
        let store = MemoryCatalog::default();
        for name in ["musikverein", "Canal Hub", "Royal Links"] {
            store
                .create_venue(&venue(name), &shared::testing::catalog::activity())
                .await
                .unwrap();
        }
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let names: Vec<String> = body(&res)["venues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Canal Hub", "musikverein", "Royal Links"]);
    }

    #[tokio::test]
    async fn venues_come_a_page_at_a_time_and_a_bad_limit_is_a_400() {
        let store = MemoryCatalog::default();
        for name in ["c", "a", "b"] {
            store
                .create_venue(&venue(name), &shared::testing::catalog::activity())
                .await
                .unwrap();
        }
        let first = body(
            &handle(&store, with_query(FIXTURE, "limit", Some("2")))
                .await
                .unwrap(),
        );
        assert_eq!(first["venues"].as_array().unwrap().len(), 2);
        let cursor = first["next_cursor"].as_str().unwrap();
        let rest = body(
            &handle(
                &store,
                with_queries(FIXTURE, &[("limit", "2"), ("cursor", cursor)]),
            )
            .await
            .unwrap(),
        );
        assert_eq!(rest["venues"][0]["name"], "c");
        assert!(rest.get("next_cursor").is_none());
        for bad in ["0", "101", "x"] {
            let res = handle(&store, with_query(FIXTURE, "limit", Some(bad)))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, "INVALID_LIMIT".into()), "{bad}");
        }
    }

    #[tokio::test]
    async fn no_venues_is_an_empty_list() {
        let res = handle(&MemoryCatalog::default(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(body(&res)["venues"], serde_json::json!([]));
    }
}

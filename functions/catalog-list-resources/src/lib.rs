//! GET /venues/{venue_id}/resources?limit=&cursor= (public): a venue and
//! one page of its resources by name (limit 1 to 100, 50 by default).

use lambda_http::{Body, Request, Response};
use shared::catalog::VenueId;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::catalog::service;
use shared::http::{correlation_id, limit_param, path_param, query_param, respond};
use shared::kernel::PageRequest;

pub async fn handle<S: VenueStore + ResourceStore>(
    store: &S,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let venue_id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let limit = limit_param(&req, 50, 100)?;
        let cursor = query_param(&req, "cursor");
        let page = PageRequest {
            limit,
            cursor: cursor.as_deref(),
        };
        service::venue_resources(store, &venue_id, page).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Resource, ResourceId, ResourceKind, Venue, VenueKind};
    use shared::testing::{body, refusal, request, with_path_param, with_queries, with_query};

    const FIXTURE: &str =
        include_str!("../../../events/catalog-list-resources/get-venue-resources.json");
    const VENUE: &str = "0195f0a4-0000-7000-8000-000000000001";

    #[tokio::test]
    async fn a_venue_is_shown_with_its_own_resources_only() {
        let store = MemoryCatalog::default();
        let ours = VenueId::parse(VENUE).unwrap();
        let other = VenueId::generate();
        for id in [&ours, &other] {
            let venue = Venue {
                company_id: Some(shared::testing::catalog::company_id()),
                id: id.clone(),
                name: "Links".into(),
                kind: VenueKind::GolfClub,
                city: "Fife".into(),
                time_zone: shared::testing::catalog::zone(),
                status: CatalogStatus::Open,
            };
            store
                .create_venue(&venue, &shared::testing::catalog::activity())
                .await
                .unwrap();
            let resource = Resource {
                id: ResourceId::generate(),
                venue_id: id.clone(),
                name: "Old Course".into(),
                kind: ResourceKind::Course,
                status: CatalogStatus::Open,
                range: None,
                back_nine: None,
                waiting_room: None,
            };
            store
                .create_resource(&resource, &shared::testing::catalog::activity())
                .await
                .unwrap();
        }
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["venue"]["id"], VENUE);
        let resources = json["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 1);
        assert_eq!(resources[0]["venue_id"], VENUE);
    }

    #[tokio::test]
    async fn resources_come_a_page_at_a_time_by_name() {
        let store = MemoryCatalog::default();
        shared::testing::catalog::venue(&store).await;
        for name in ["Delta", "alpha", "Charlie", "bravo", "Echo"] {
            let resource = Resource {
                id: ResourceId::generate(),
                venue_id: VenueId::parse(VENUE).unwrap(),
                name: name.into(),
                kind: ResourceKind::Room,
                status: CatalogStatus::Open,
                range: None,
                back_nine: None,
                waiting_room: None,
            };
            store
                .create_resource(&resource, &shared::testing::catalog::activity())
                .await
                .unwrap();
        }
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "2".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let json = body(&handle(&store, with_queries(FIXTURE, &pairs)).await.unwrap());
            let page = json["resources"].as_array().unwrap();
            assert!(page.len() <= 2);
            names.extend(page.iter().map(|r| r["name"].as_str().unwrap().to_owned()));
            match json["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!(names, ["alpha", "bravo", "Charlie", "Delta", "Echo"]);
        let res = handle(&store, with_query(FIXTURE, "limit", Some("101")))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_LIMIT".into()));
    }

    #[tokio::test]
    async fn an_unknown_venue_is_a_404_and_a_bad_id_a_400() {
        let store = MemoryCatalog::default();
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(refusal(&res), (404, "VENUE_NOT_FOUND".into()));
        let res = handle(&store, with_path_param(FIXTURE, "venue_id", "x"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_VENUE_ID".into()));
    }
}

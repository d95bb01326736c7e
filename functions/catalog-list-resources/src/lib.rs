//! GET /venues/{venue_id}/resources (public): the resources of a venue.

use lambda_http::{Body, Request, Response};
use shared::catalog::VenueId;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::catalog::service;
use shared::http::{correlation_id, path_param, respond};

pub async fn handle<S: VenueStore + ResourceStore>(
    store: &S,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let venue_id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        service::venue_resources(store, &venue_id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Resource, ResourceId, ResourceKind, Venue, VenueKind};
    use shared::testing::{body, refusal, request, with_path_param};

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
                id: id.clone(),
                name: "Links".into(),
                kind: VenueKind::GolfClub,
                city: "Fife".into(),
                time_zone: shared::testing::catalog::zone(),
                status: CatalogStatus::Open,
            };
            store.create_venue(&venue).await.unwrap();
            let resource = Resource {
                id: ResourceId::generate(),
                venue_id: id.clone(),
                name: "Old Course".into(),
                kind: ResourceKind::Course,
                status: CatalogStatus::Open,
                range: None,
                back_nine: None,
            };
            store.create_resource(&resource).await.unwrap();
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

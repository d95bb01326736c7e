//! GET /venues (public): every venue, by name.

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::VenueStore;
use shared::catalog::service;
use shared::http::{correlation_id, respond};

pub async fn handle(
    venues: &impl VenueStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = service::list_venues(venues)
        .await
        .map(|venues| serde_json::json!({ "venues": venues }));
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Venue, VenueId, VenueKind};
    use shared::testing::{body, request};

    const FIXTURE: &str = include_str!("../../../events/catalog-list-venues/get-venues.json");

    fn venue(name: &str) -> Venue {
        Venue {
            id: VenueId::generate(),
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
            store.create_venue(&venue(name)).await.unwrap();
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
    async fn no_venues_is_an_empty_list() {
        let res = handle(&MemoryCatalog::default(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(body(&res)["venues"], serde_json::json!([]));
    }
}

//! PATCH /admin/venues/{venue_id} (catalog:write): `{"name","city","status"}`,
//! any of them. A CLOSED venue is hidden from nothing but says so; its
//! resources are closed one by one (PATCH /admin/resources/{id}).

use lambda_http::{Body, Request, Response};
use shared::catalog::VenueId;
use shared::catalog::ports::VenueStore;
use shared::catalog::service::{self, CatalogWriter, UpdateVenueRequest};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

pub async fn handle(
    venues: &impl VenueStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let body: UpdateVenueRequest = parse_json(&req)?;
        service::update_venue(venues, &writer, &id, body, &correlation_id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::CatalogStatus;
    use shared::testing::catalog::{venue, venue_id};
    use shared::testing::{body, refusal, request, with_body, with_path_param, with_role};

    const FIXTURE: &str = include_str!("../../../events/catalog-update-venue/patch-venue.json");
    async fn store() -> MemoryCatalog {
        let store = MemoryCatalog::default();
        venue(&store).await;
        store
    }

    #[tokio::test]
    async fn an_admin_renames_and_closes_a_venue() {
        let store = store().await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["name"], "The Royal Links");
        let stored = store.get_venue(&venue_id()).await.unwrap().unwrap();
        assert_eq!(
            (stored.name.as_str(), stored.city.as_str(), stored.status),
            ("The Royal Links", "St Andrews", CatalogStatus::Closed)
        );
    }

    #[tokio::test]
    async fn a_customer_may_not_change_a_venue_and_an_unknown_one_is_a_404() {
        let store = store().await;
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let other = VenueId::generate().to_string();
        let res = handle(&store, with_path_param(FIXTURE, "venue_id", &other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "VENUE_NOT_FOUND".into()));
    }

    #[tokio::test]
    async fn an_empty_or_bad_change_is_a_400_and_changes_nothing() {
        let store = store().await;
        for (body, expected) in [
            ("{}", "NOTHING_TO_CHANGE"),
            (r#"{"name":""}"#, "INVALID_NAME"),
            (r#"{"status":"GONE"}"#, "INVALID_BODY"),
        ] {
            let res = handle(&store, with_body(FIXTURE, body)).await.unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        let res = handle(&store, with_path_param(FIXTURE, "venue_id", "not-an-id"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_VENUE_ID".into()));
        let stored = store.venues();
        assert_eq!(stored[0].name, "Royal Links");
    }
}

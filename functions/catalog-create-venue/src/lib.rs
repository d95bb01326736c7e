//! POST /admin/venues (catalog:write in the company named): creates a
//! venue of that company. A company outside the caller's scope is the same
//! 404 as one that does not exist.

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::VenueStore;
use shared::catalog::service::{self, CatalogWriter, CreateVenueRequest};
use shared::company::ports::CompanyReader;
use shared::http::{caller, correlation_id, parse_json, respond};

pub async fn handle(
    venues: &impl VenueStore,
    companies: &impl CompanyReader,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let body: CreateVenueRequest = parse_json(&req)?;
        service::create_venue(venues, companies, &writer, body, &correlation_id).await
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCatalog, MemoryCompanies};
    use shared::catalog::{CatalogStatus, Venue};
    use shared::testing::{refusal, request, with_body, with_role};

    const FIXTURE: &str = include_str!("../../../events/catalog-create-venue/post-venue.json");

    async fn companies() -> MemoryCompanies {
        let companies = MemoryCompanies::default();
        shared::testing::catalog::company(&companies).await;
        companies
    }

    #[tokio::test]
    async fn an_admin_creates_an_open_venue() {
        let store = MemoryCatalog::default();
        let res = handle(&store, &companies().await, request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let venue: Venue = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(
            (venue.name.as_str(), venue.city.as_str(), venue.status),
            ("Royal Links", "St Andrews", CatalogStatus::Open)
        );
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(res.body().as_ref()).unwrap()["time_zone"],
            "Europe/London"
        );
        assert_eq!(store.venues(), vec![venue]);
    }

    #[tokio::test]
    async fn a_customer_may_not_create_a_venue_whatever_the_body() {
        let store = MemoryCatalog::default();
        let res = handle(&store, &companies().await, with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        assert!(store.venues().is_empty());
    }

    #[tokio::test]
    async fn a_blank_name_an_unknown_kind_or_zone_is_a_400_and_writes_nothing() {
        let store = MemoryCatalog::default();
        for (body, expected) in [
            (
                r#"{"company_id":"0195f0a4-5000-7000-8000-000000000001","name":"  ","kind":"GOLF_CLUB","city":"Fife","time_zone":"Europe/London"}"#,
                "INVALID_NAME",
            ),
            (
                r#"{"company_id":"0195f0a4-5000-7000-8000-000000000001","name":"Links","kind":"CASINO","city":"Fife","time_zone":"Europe/London"}"#,
                "INVALID_BODY",
            ),
            (
                r#"{"company_id":"0195f0a4-5000-7000-8000-000000000001","name":"Links","kind":"GOLF_CLUB","city":"Fife","time_zone":"GMT+1"}"#,
                "INVALID_TIME_ZONE",
            ),
            (
                r#"{"company_id":"0195f0a4-5000-7000-8000-000000000001","name":"Links","kind":"GOLF_CLUB","city":"Fife"}"#,
                "INVALID_BODY",
            ),
            (
                r#"{"company_id":"0195f0a4-5000-7000-8000-000000000001","name":"Links","kind":"GOLF_CLUB"}"#,
                "INVALID_BODY",
            ),
        ] {
            let res = handle(&store, &companies().await, with_body(FIXTURE, body))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        assert!(store.venues().is_empty());
    }

    #[tokio::test]
    async fn a_company_that_does_not_exist_or_is_not_the_callers_is_a_404() {
        let store = MemoryCatalog::default();
        let other = r#"{"company_id":"0195f0a4-5000-7000-8000-000000000002","name":"Links","kind":"GOLF_CLUB","city":"Fife","time_zone":"Europe/London"}"#;
        let res = handle(&store, &companies().await, with_body(FIXTURE, other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "COMPANY_NOT_FOUND".into()));
        let res = handle(&store, &MemoryCompanies::default(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "COMPANY_NOT_FOUND".into()));
        assert!(store.venues().is_empty());
    }
}

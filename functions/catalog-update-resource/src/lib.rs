//! PATCH /admin/resources/{resource_id} (catalog:write): `{"name","status"}`.
//! A CLOSED resource refuses new bookings of any of its slots or ranges
//! (409 RESOURCE_CLOSED, checked inside the booking's transaction) and keeps
//! the bookings it has.

use lambda_http::{Body, Request, Response};
use shared::catalog::ResourceId;
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter, UpdateResourceRequest};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

pub async fn handle(
    resources: &(impl VenueStore + ResourceStore),
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let body: UpdateResourceRequest = parse_json(&req)?;
        service::update_resource(resources, &writer, &id, body, &correlation_id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::catalog::{CatalogStatus, Resource, ResourceKind};
    use shared::testing::{body, refusal, request, with_body, with_path_param, with_role};

    const FIXTURE: &str =
        include_str!("../../../events/catalog-update-resource/patch-resource.json");
    const RESOURCE: &str = "0195f0a4-0000-7000-8000-000000000012";

    async fn store() -> MemoryCatalog {
        let store = MemoryCatalog::default();
        let resource = Resource {
            id: ResourceId::parse(RESOURCE).unwrap(),
            venue_id: shared::testing::catalog::venue_id(),
            name: "Front nine".into(),
            kind: ResourceKind::Course,
            status: CatalogStatus::Open,
            range: None,
            back_nine: None,
            waiting_room: None,
        };
        shared::testing::catalog::venue(&store).await;
        store
            .create_resource(&resource, &shared::testing::catalog::activity())
            .await
            .unwrap();
        store
    }

    async fn stored(store: &MemoryCatalog) -> Resource {
        store
            .get_resource(&ResourceId::parse(RESOURCE).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn an_admin_closes_a_resource() {
        let store = store().await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["status"], "CLOSED");
        assert_eq!(stored(&store).await.status, CatalogStatus::Closed);
        assert_eq!(stored(&store).await.name, "Front nine");
    }

    #[tokio::test]
    async fn refusals_change_nothing() {
        let store = store().await;
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let other = ResourceId::generate().to_string();
        let res = handle(&store, with_path_param(FIXTURE, "resource_id", &other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "RESOURCE_NOT_FOUND".into()));
        for (body, expected) in [
            ("{}", "NOTHING_TO_CHANGE"),
            (r#"{"name":"\u0007"}"#, "INVALID_NAME"),
            (r#"{"capacity":4}"#, "INVALID_BODY"),
        ] {
            let res = handle(&store, with_body(FIXTURE, body)).await.unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        assert_eq!(stored(&store).await.status, CatalogStatus::Open);
    }
}

//! POST /admin/venues (catalog:write): creates a venue.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{CatalogStatus, Venue, VenueId, VenueKind, parse_name};
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::identity::Permission;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateVenue {
    name: String,
    kind: VenueKind,
    city: String,
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let body: CreateVenue = parse_json(&req)?;
        let venue = Venue {
            id: VenueId::generate(),
            name: parse_name(&body.name)?,
            kind: body.kind,
            city: parse_name(&body.city)?,
            status: CatalogStatus::Open,
        };
        store.create_venue(&venue).await?;
        Ok(venue)
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

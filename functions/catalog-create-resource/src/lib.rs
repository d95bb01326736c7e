//! POST /admin/venues/{venue_id}/resources (catalog:write): adds a bookable
//! resource (a course, a performance, a room) to a venue.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{
    CatalogStatus, RangeRules, Resource, ResourceId, ResourceKind, VenueId, parse_name,
};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateResource {
    name: String,
    kind: ResourceKind,
    /// Rooms only: how the room is booked by time range.
    range: Option<RangeRules>,
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let venue_id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let body: CreateResource = parse_json(&req)?;
        let range = match (body.kind, body.range) {
            (ResourceKind::Room, Some(rules)) => Some(rules.validate()?),
            (ResourceKind::Room, None) => {
                return Err(AppError::validation(
                    "MISSING_RANGE_RULES",
                    "a room needs range rules: unit_minutes, opens, closes, unit_price_cents",
                ));
            }
            (_, Some(_)) => {
                return Err(AppError::validation(
                    "UNEXPECTED_RANGE_RULES",
                    "only rooms are booked by time range",
                ));
            }
            (_, None) => None,
        };
        let name = parse_name(&body.name)?;
        if store.get_venue(&venue_id).await?.is_none() {
            return Err(AppError::NotFound {
                code: "VENUE_NOT_FOUND",
                what: format!("the venue {venue_id}"),
            });
        }
        let resource = Resource {
            range,
            id: ResourceId::generate(),
            venue_id,
            name,
            kind: body.kind,
            status: CatalogStatus::Open,
        };
        store.create_resource(&resource).await?;
        Ok(resource)
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

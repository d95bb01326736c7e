//! POST /admin/venues/{venue_id}/resources (catalog:write): adds a bookable
//! resource (a course, a performance, a room) to a venue.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{
    BackNine, CatalogStatus, RangeRules, Resource, ResourceId, ResourceKind, VenueId, parse_name,
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
    /// Courses only: the back nine an 18-hole round continues on.
    back_nine: Option<BackNine>,
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
        let back_nine = match (body.kind, body.back_nine) {
            (ResourceKind::Course, Some(back)) => Some(back.validate()?),
            (_, Some(_)) => {
                return Err(AppError::validation(
                    "UNEXPECTED_BACK_NINE",
                    "only courses have a back nine",
                ));
            }
            (_, None) => None,
        };
        if store.get_venue(&venue_id).await?.is_none() {
            return Err(AppError::NotFound {
                code: "VENUE_NOT_FOUND",
                what: format!("the venue {venue_id}"),
            });
        }
        if let Some(back) = &back_nine {
            let course = store.get_resource(&back.resource_id).await?;
            if !course.is_some_and(|c| c.kind == ResourceKind::Course && c.venue_id == venue_id) {
                return Err(AppError::validation(
                    "INVALID_BACK_NINE",
                    "the back nine must be a course of the same venue",
                ));
            }
        }
        let resource = Resource {
            back_nine,
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

//! GET /venues/{venue_id}/resources (public): the resources of a venue.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::VenueId;
use shared::http::{correlation_id, path_param, respond};

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let venue_id = VenueId::parse(&path_param(&req, "venue_id")?)?;
        let Some(venue) = store.get_venue(&venue_id).await? else {
            return Err(AppError::NotFound {
                code: "VENUE_NOT_FOUND",
                what: format!("the venue {venue_id}"),
            });
        };
        let resources = store.list_resources(&venue_id).await?;
        Ok(serde_json::json!({ "venue": venue, "resources": resources }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

//! GET /resources/{resource_id}/free-ranges?date=YYYY-MM-DD (public): the
//! free stretches of a room on a day, within its opening hours, on its grid.

use chrono::NaiveDate;
use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::ResourceId;
use shared::catalog::ports::ResourceStore;
use shared::http::{correlation_id, path_param, query_param, respond};

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let date = query_param(&req, "date")
            .ok_or_else(|| AppError::validation("MISSING_DATE", "the date query parameter is required (YYYY-MM-DD)"))?;
        let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))?;
        let Some(resource) = store.get_resource(&resource_id).await? else {
            return Err(AppError::NotFound { code: "RESOURCE_NOT_FOUND", what: format!("the resource {resource_id}") });
        };
        let Some(rules) = resource.range else {
            return Err(AppError::conflict("NOT_A_ROOM", "this resource is not booked by time range"));
        };
        let taken = store.taken_units(&resource_id, date).await?;
        let free: Vec<serde_json::Value> = rules
            .free_ranges(&taken)
            .into_iter()
            .map(|(start, end)| serde_json::json!({ "start": start.format("%H:%M").to_string(), "end": end.format("%H:%M").to_string() }))
            .collect();
        Ok(serde_json::json!({
            "resource_id": resource_id, "date": date, "unit_minutes": rules.unit_minutes,
            "unit_price_cents": rules.unit_price_cents, "free": free,
        }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

//! GET /resources/{resource_id}/availability?date=YYYY-MM-DD (public): the
//! slots of a resource on a date, with remaining capacity, state and price.

use chrono::NaiveDate;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::ports::ResourceStore;
use shared::catalog::{Availability, ResourceId, SlotId};
use shared::http::{correlation_id, path_param, query_param, respond};

#[derive(Debug, Serialize)]
struct SlotView {
    slot_id: SlotId,
    start: String,
    end: String,
    capacity: u32,
    remaining: u32,
    availability: Availability,
    premium: bool,
    unit_price_cents: u64,
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let resource_id = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let date = query_param(&req, "date").ok_or_else(|| {
            AppError::validation(
                "MISSING_DATE",
                "the date query parameter is required (YYYY-MM-DD)",
            )
        })?;
        let date = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))?;
        if store.get_resource(&resource_id).await?.is_none() {
            return Err(AppError::NotFound {
                code: "RESOURCE_NOT_FOUND",
                what: format!("the resource {resource_id}"),
            });
        }
        let slots: Vec<SlotView> = store
            .slots_on(&resource_id, date)
            .await?
            .into_iter()
            .map(|s| SlotView {
                start: s.id.start.format("%H:%M").to_string(),
                end: s.end.format("%H:%M").to_string(),
                capacity: s.capacity,
                remaining: s.remaining(),
                availability: s.availability(),
                premium: s.premium,
                unit_price_cents: s.unit_price(),
                slot_id: s.id,
            })
            .collect();
        Ok(serde_json::json!({ "resource_id": resource_id, "date": date, "slots": slots }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

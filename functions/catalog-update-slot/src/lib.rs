//! PATCH /admin/slots/{slot_id} (catalog:write): closes or reopens a slot,
//! or changes its capacity. A closed slot refuses new bookings (409
//! SLOT_CLOSED) and keeps the ones it has; a capacity below what is already
//! booked is refused (409 CAPACITY_BELOW_BOOKED) by the write's condition.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{MAX_CAPACITY, SlotId, SlotStatus};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateSlot {
    status: Option<SlotStatus>,
    capacity: Option<i64>,
}

/// A slot id from the path, accepting `@` and `:` percent-encoded.
fn slot_id(raw: &str) -> Result<SlotId, AppError> {
    SlotId::parse(
        &raw.replace("%40", "@")
            .replace("%3A", ":")
            .replace("%3a", ":"),
    )
}

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let id = slot_id(&path_param(&req, "slot_id")?)?;
        let body: UpdateSlot = parse_json(&req)?;
        let capacity = body
            .capacity
            .map(|c| {
                u32::try_from(c)
                    .ok()
                    .filter(|c| (1..=MAX_CAPACITY).contains(c))
                    .ok_or_else(|| {
                        AppError::validation(
                            "INVALID_CAPACITY",
                            format!("capacity must be 1 to {MAX_CAPACITY}"),
                        )
                    })
            })
            .transpose()?;
        let slot = store.update_slot(&id, body.status, capacity).await?;
        tracing::info!(slot_id = %id, "slot updated");
        Ok(serde_json::json!({
            "slot_id": slot.id, "capacity": slot.capacity, "booked": slot.booked,
            "remaining": slot.remaining(), "availability": slot.availability(),
        }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

//! GET /slots/{slot_id}/seats (public): the seat map of a slot: each seat's
//! section, tier, price and whether it is still available.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::SlotId;
use shared::http::{correlation_id, path_param, respond};

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = SlotId::parse(&path_param(&req, "slot_id")?)?;
        let Some(slot) = store.get_slot(&id).await? else {
            return Err(AppError::NotFound {
                code: "SLOT_NOT_FOUND",
                what: format!("the slot {id}"),
            });
        };
        let seats = store.seats_of(&id).await?;
        Ok(serde_json::json!({
            "slot_id": id, "seated": slot.seated, "remaining": slot.remaining(), "seats": seats,
        }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

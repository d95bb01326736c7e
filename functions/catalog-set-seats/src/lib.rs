//! PUT /admin/slots/{slot_id}/seats (catalog:write): the seats of a slot,
//! each with a section and a price tier. Seats already there are kept as
//! they are (taken ones stay taken), so re-sending a map is safe; the slot
//! becomes seated and its capacity is its number of seats.

use lambda_http::{Body, Request, Response};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::catalog::{SeatMapRequest, SlotId};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::identity::Permission;

pub async fn handle(
    store: &DynamoCatalog,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::CatalogWrite)?;
        let id = SlotId::parse(&path_param(&req, "slot_id")?)?;
        let body: SeatMapRequest = parse_json(&req)?;
        let seats = body.seats()?;
        store.set_seat_map(&id, &seats).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

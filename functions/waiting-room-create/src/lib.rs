//! POST /admin/waiting-rooms (`waiting-room:manage` in the resources'
//! company): a room in front of one or more resources, with its rate, cap,
//! pass TTL, abandonment and optional sale opening. The room, the gate on
//! each resource and the `AdminActivity` are one transaction; a resource
//! already behind a room is 409 `RESOURCE_PROTECTED`.

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::waiting_room::CreateRoomRequest;
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::service;

pub async fn handle(
    rooms: &impl WaitingRooms,
    catalog: &(impl VenueStore + ResourceStore),
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let body: CreateRoomRequest = parse_json(&req)?;
        service::create(
            rooms,
            catalog,
            &caller,
            body,
            &correlation_id,
            chrono::Utc::now(),
        )
        .await
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

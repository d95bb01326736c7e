//! PATCH /admin/waiting-rooms/{room_id} (`waiting-room:manage`): any of
//! `name`, `rate_per_minute` (also while it runs), `max_active`,
//! `pass_ttl_seconds`, `abandon_after_seconds`, `status` (`PAUSED`,
//! `OPEN`, `CLOSED`: for good, and its resources are unprotected).
//! Conditional on the room's version; recorded as `AdminActivity`.

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::{RoomId, UpdateRoomRequest, service};

pub async fn handle(
    rooms: &impl WaitingRooms,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = RoomId::parse(&path_param(&req, "room_id")?)?;
        let body: UpdateRoomRequest = parse_json(&req)?;
        service::update(
            rooms,
            &caller,
            &id,
            &body,
            &correlation_id,
            chrono::Utc::now(),
        )
        .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

//! GET /admin/waiting-rooms/{room_id} (`waiting-room:manage`): the room,
//! its settings and its figures (waiting, admitted, active, sold out).

use lambda_http::{Body, Request, Response};
use shared::http::{caller, correlation_id, path_param, respond};
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::{RoomId, service};

pub async fn handle(
    rooms: &impl WaitingRooms,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = RoomId::parse(&path_param(&req, "room_id")?)?;
        service::get(rooms, &caller, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

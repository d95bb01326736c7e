//! GET /waiting-rooms/{room_id}/ticket: the caller's status: `WAITING`
//! (position, ahead, estimated wait), `ADMITTED` (with the pass token),
//! `EXPIRED`, `SOLD_OUT` or `CLOSED`, and `Retry-After`. A poll keeps the
//! place; a ticket silent for longer than the room allows has lost it.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{
    caller, correlation_id, error_response, json_response, path_param, with_retry_after,
};
use shared::waiting_room::pass::PassKeys;
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::{RoomId, Status, service};

pub async fn handle(
    rooms: &impl WaitingRooms,
    passes: &PassKeys,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = RoomId::parse(&path_param(&req, "room_id")?)?;
        service::status(rooms, passes, &caller, &id, clock.now()).await
    }
    .await;
    Ok(match result {
        Ok(status) => answer(200, &status, &correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

/// The status, with its advice on when to poll as `Retry-After`.
fn answer(
    status_code: u16,
    status: &Status,
    correlation_id: &shared::CorrelationId,
) -> Response<Body> {
    let response = json_response(status_code, status, correlation_id);
    with_retry_after(response, status.retry_after_seconds)
}

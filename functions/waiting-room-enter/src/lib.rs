//! POST /waiting-rooms/{room_id}/ticket: the caller enters the room. One
//! ticket per account and room: entering again answers the same ticket
//! (200, not 201). Before the sale opens the ticket is in the pre-queue.
//! The answer is the ticket's status, with `Retry-After`.

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
        service::enter(rooms, passes, &caller, &id, clock.now()).await
    }
    .await;
    Ok(match result {
        Ok(entered) => {
            let code = if entered.new { 201 } else { 200 };
            answer(code, &entered.status, &correlation_id)
        }
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

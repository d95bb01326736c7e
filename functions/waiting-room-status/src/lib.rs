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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::clock::FixedClock;
    use shared::identity::{Caller, Role, UserId};
    use shared::testing::booking::OWNER;
    use shared::testing::waiting_room::{correlation, fixture_room, passes};
    use shared::testing::{body, refusal, request};

    const FIXTURE: &str = include_str!("../../../events/waiting-room-status/get-ticket.json");

    #[tokio::test]
    async fn a_caller_without_a_ticket_is_404_and_one_with_a_ticket_sees_it_move() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, room) = fixture_room(clock.now()).await;
        let res = handle(&rooms, &passes(), &clock, request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "TICKET_NOT_FOUND".into()));

        // Two callers ahead of the fixture's, then the fixture's.
        for user in [
            UserId::generate(),
            UserId::generate(),
            UserId::parse(OWNER).unwrap(),
        ] {
            let caller = Caller::new(user, Role::User);
            service::enter(&rooms, &passes(), &caller, &room.id, clock.now())
                .await
                .unwrap();
            clock.advance(chrono::Duration::milliseconds(1));
        }
        clock.advance(chrono::Duration::seconds(1));
        // One a second with a second of credit: the first tick admits two.
        service::tick(&rooms, &correlation(), clock.now())
            .await
            .unwrap();
        let res = handle(&rooms, &passes(), &clock, request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let waiting = body(&res);
        assert_eq!(
            (&waiting["state"], &waiting["position"], &waiting["ahead"]),
            (&"WAITING".into(), &3.into(), &0.into())
        );
        assert!(waiting["pass_token"].is_null());
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(retry, waiting["retry_after_seconds"].as_u64().unwrap());

        clock.advance(chrono::Duration::seconds(1));
        service::tick(&rooms, &correlation(), clock.now())
            .await
            .unwrap();
        let admitted = body(
            &handle(&rooms, &passes(), &clock, request(FIXTURE))
                .await
                .unwrap(),
        );
        assert_eq!(admitted["state"], "ADMITTED");
        // The pass verifies for this caller and this room.
        let owner = UserId::parse(OWNER).unwrap();
        let pass = passes()
            .verify(
                admitted["pass_token"].as_str(),
                &owner,
                &room.id,
                clock.now(),
            )
            .unwrap();
        assert_eq!((pass.user_id, pass.room_id), (owner, room.id));
    }
}

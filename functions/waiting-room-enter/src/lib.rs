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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::testing::waiting_room::{ROOM, fixture_room, passes};
    use shared::testing::{body, refusal, with_path_param, with_user};

    const FIXTURE: &str = include_str!("../../../events/waiting-room-enter/post-ticket.json");

    #[tokio::test]
    async fn entering_answers_201_then_200_with_the_same_ticket_and_when_to_poll() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, _) = fixture_room(clock.now()).await;
        let first = handle(&rooms, &passes(), &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(first.status(), 201);
        assert!(first.headers().contains_key("retry-after"));
        let ticket = body(&first);
        assert_eq!(
            (&ticket["room_id"], &ticket["state"]),
            (&ROOM.into(), &"WAITING".into())
        );
        clock.advance(chrono::Duration::seconds(3));
        let again = handle(&rooms, &passes(), &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(body(&again)["entered_at"], ticket["entered_at"]);
        // Another account gets a ticket of its own.
        let other = UserId::generate().to_string();
        let res = handle(
            &rooms,
            &passes(),
            &clock,
            with_user(FIXTURE, &other, "USER"),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 201);
        assert_eq!(
            rooms
                .tickets(&shared::waiting_room::RoomId::parse(ROOM).unwrap())
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn an_unknown_room_or_a_bad_id_is_refused_and_writes_nothing() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, _) = fixture_room(clock.now()).await;
        let unknown = shared::waiting_room::RoomId::generate().to_string();
        let res = handle(
            &rooms,
            &passes(),
            &clock,
            with_path_param(FIXTURE, "room_id", &unknown),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res).0, 404);
        let res = handle(
            &rooms,
            &passes(),
            &clock,
            with_path_param(FIXTURE, "room_id", "nope"),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res).0, 400);
        assert!(
            rooms
                .tickets(&shared::waiting_room::RoomId::parse(ROOM).unwrap())
                .is_empty()
        );
    }
}

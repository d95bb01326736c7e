//! PATCH /admin/waiting-rooms/{room_id} (`waiting-room:manage`): any of
//! `name`, `rate_per_minute` (also while it runs), `max_active`,
//! `pass_ttl_seconds`, `abandon_after_seconds`, `status` (`PAUSED`,
//! `OPEN`, `CLOSED`: for good, and its resources are unprotected).
//! Conditional on the room's version; recorded as `AdminActivity`.

use lambda_http::{Body, Request, Response};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::{RoomId, UpdateRoomRequest, service};

pub async fn handle(
    rooms: &impl WaitingRooms,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let id = RoomId::parse(&path_param(&req, "room_id")?)?;
        let body: UpdateRoomRequest = parse_json(&req)?;
        service::update(rooms, &caller, &id, &body, &correlation_id, clock.now()).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::clock::FixedClock;
    use shared::testing::waiting_room::{ROOM, fixture_room};
    use shared::testing::{body, refusal, with_body, with_path_param, with_role};
    use shared::waiting_room::RoomStatus;

    const FIXTURE: &str = include_str!("../../../events/waiting-room-update/patch-room.json");

    #[tokio::test]
    async fn a_change_is_stamped_with_the_clocks_instant_and_applied() {
        let opened = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, _) = fixture_room(opened.now()).await;
        let clock = FixedClock::at_rfc3339("2027-03-01T10:05:00Z");
        let res = handle(&rooms, &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let view = body(&res);
        assert_eq!(
            (&view["status"], &view["updated_at"], &view["created_at"]),
            (
                &"PAUSED".into(),
                &"2027-03-01T10:05:00Z".into(),
                &"2027-03-01T10:00:00Z".into()
            )
        );
        let (room, _) = rooms
            .get(&RoomId::parse(ROOM).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (room.status, room.settings.rate_per_minute),
            (RoomStatus::Paused, 120)
        );
    }

    #[tokio::test]
    async fn bad_input_an_unknown_room_and_a_caller_without_the_permission_change_nothing() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, before) = fixture_room(clock.now()).await;
        let unknown = RoomId::generate().to_string();
        let cases = [
            (with_body(FIXTURE, r#"{"rate_per_minute":0}"#), 400),
            (with_body(FIXTURE, r#"{"status":"SOLD"}"#), 400),
            (with_path_param(FIXTURE, "room_id", "nope"), 400),
            (with_path_param(FIXTURE, "room_id", &unknown), 404),
            (with_role(FIXTURE, "USER"), 403),
        ];
        for (req, status) in cases {
            let res = handle(&rooms, &clock, req).await.unwrap();
            assert_eq!(refusal(&res).0, status);
        }
        let (room, _) = rooms
            .get(&RoomId::parse(ROOM).unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(room, before);
    }
}

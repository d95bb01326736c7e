//! POST /admin/waiting-rooms (`waiting-room:manage` in the resources'
//! company): a room in front of one or more resources, with its rate, cap,
//! pass TTL, abandonment and optional sale opening. The room, the gate on
//! each resource and the `AdminActivity` are one transaction; a resource
//! already behind a room is 409 `RESOURCE_PROTECTED`.

use lambda_http::{Body, Request, Response};
use shared::catalog::ports::{ResourceStore, VenueStore};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, respond};
use shared::waiting_room::CreateRoomRequest;
use shared::waiting_room::ports::WaitingRooms;
use shared::waiting_room::service;

pub async fn handle(
    rooms: &impl WaitingRooms,
    catalog: &(impl VenueStore + ResourceStore),
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let body: CreateRoomRequest = parse_json(&req)?;
        service::create(rooms, catalog, &caller, body, &correlation_id, clock.now()).await
    }
    .await;
    Ok(respond(201, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryCatalog, MemoryWaitingRooms};
    use shared::clock::FixedClock;
    use shared::testing::{body, refusal, with_body, with_role};
    use shared::waiting_room::RoomId;

    const FIXTURE: &str = include_str!("../../../events/waiting-room-create/post-room.json");

    async fn course() -> MemoryCatalog {
        let catalog = MemoryCatalog::default();
        shared::testing::catalog::course(&catalog).await;
        catalog
    }

    #[tokio::test]
    async fn a_room_is_created_at_the_clocks_instant_and_its_resource_is_then_protected() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, catalog) = (MemoryWaitingRooms::default(), course().await);
        let res = handle(&rooms, &catalog, &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let view = body(&res);
        assert_eq!(view["created_at"], "2027-03-01T10:00:00Z");
        assert_eq!(view["sale_opens_at"], "2027-03-01T11:00:00Z");
        let id = RoomId::parse(view["id"].as_str().unwrap()).unwrap();
        let (room, _) = rooms.get(&id).await.unwrap().expect("the room is stored");
        assert_eq!(room.settings.rate_per_minute, 120);
        // A second room over the same resource is refused.
        clock.advance(chrono::Duration::seconds(1));
        let again = handle(&rooms, &catalog, &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(refusal(&again), (409, "RESOURCE_PROTECTED".into()));
    }

    #[tokio::test]
    async fn bad_settings_and_a_caller_without_the_permission_are_refused_and_write_nothing() {
        let clock = FixedClock::at_rfc3339("2027-03-01T10:00:00Z");
        let (rooms, catalog) = (MemoryWaitingRooms::default(), course().await);
        let zero_rate = r#"{"name":"Spring tour","resource_ids":["0195f0a4-0000-7000-8000-000000000012"],"rate_per_minute":0,"max_active":50}"#;
        let res = handle(&rooms, &catalog, &clock, with_body(FIXTURE, zero_rate))
            .await
            .unwrap();
        assert_eq!(refusal(&res).0, 400);
        let res = handle(&rooms, &catalog, &clock, with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res).0, 403);
        // Nothing was written: the resource is still free to protect.
        let res = handle(&rooms, &catalog, &clock, shared::testing::request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
}

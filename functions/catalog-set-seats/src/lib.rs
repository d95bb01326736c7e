//! PUT /admin/slots/{slot_id}/seats (catalog:write): makes a slot seated
//! with this seat map; seats it has already are kept as they are, and its
//! capacity becomes its number of seats (never below what is booked).

use lambda_http::{Body, Request, Response};
use shared::catalog::MAX_SEAT_MAP_BYTES;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter};
use shared::catalog::{SeatMapRequest, SlotId};
use shared::http::{caller, correlation_id, parse_json_up_to, path_param, respond};

pub async fn handle(
    slots: &(impl VenueStore + ResourceStore + SlotStore),
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let id = SlotId::parse(&path_param(&req, "slot_id")?)?;
        let body: SeatMapRequest = parse_json_up_to(&req, MAX_SEAT_MAP_BYTES)?;
        service::set_seats(slots, &writer, &id, body, &correlation_id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::testing::catalog::{course_with_slots, slot};
    use shared::testing::{body, refusal, request, with_body, with_role};

    const FIXTURE: &str = include_str!("../../../events/catalog-set-seats/put-seats.json");

    #[tokio::test]
    async fn a_seat_map_makes_the_slot_seated_and_sending_it_again_keeps_the_seats() {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            body(&res),
            serde_json::json!({ "created": 3, "skipped": 0, "capacity": 3 })
        );
        let again = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(body(&again)["skipped"], 3);
        let seated = store.get_slot(&slot()).await.unwrap().unwrap();
        assert!(seated.seated);
        assert_eq!(seated.capacity, 3);
    }

    #[tokio::test]
    async fn a_map_smaller_than_what_is_booked_is_refused_and_writes_nothing() {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        store.book(&slot(), 4);
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(refusal(&res), (409, "CAPACITY_BELOW_BOOKED".into()));
        assert!(store.seats_of(&slot()).await.unwrap().is_empty());
        assert!(!store.get_slot(&slot()).await.unwrap().unwrap().seated);
    }

    #[tokio::test]
    async fn customers_bad_maps_and_unknown_slots_are_refused() {
        let store = MemoryCatalog::default();
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(refusal(&res), (404, "SLOT_NOT_FOUND".into()));
        course_with_slots(&store).await;
        let res = handle(&store, with_body(FIXTURE, r#"{"tiers":{},"seats":[]}"#))
            .await
            .unwrap();
        assert_eq!(refusal(&res).0, 400);
        assert!(store.seats_of(&slot()).await.unwrap().is_empty());
    }
}

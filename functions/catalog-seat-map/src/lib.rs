//! GET /slots/{slot_id}/seats (public): a slot's seat map, every seat with
//! its section, tier, price and whether it is taken.

use lambda_http::{Body, Request, Response};
use shared::catalog::SlotId;
use shared::catalog::ports::SlotStore;
use shared::catalog::service;
use shared::http::{correlation_id, path_param, respond};

pub async fn handle(
    slots: &impl SlotStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = SlotId::parse(&path_param(&req, "slot_id")?)?;
        service::seat_map(slots, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::testing::catalog::seated_slot;
    use shared::testing::{body, refusal, request, with_path_param};

    const FIXTURE: &str = include_str!("../../../events/catalog-seat-map/get-seats.json");

    #[tokio::test]
    async fn the_map_shows_every_seat_and_what_is_left() {
        let store = MemoryCatalog::default();
        seated_slot(&store).await;
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let map = body(&res);
        assert_eq!(
            (&map["seated"], &map["remaining"]),
            (&true.into(), &3.into())
        );
        let seats = map["seats"].as_array().unwrap();
        assert_eq!(seats.len(), 3);
        assert_eq!(
            (&seats[0]["seat_id"], &seats[0]["price_cents"]),
            (&"A-1".into(), &9000.into())
        );
    }

    #[tokio::test]
    async fn an_unknown_slot_is_a_404_and_a_malformed_id_a_400() {
        let store = MemoryCatalog::default();
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(refusal(&res), (404, "SLOT_NOT_FOUND".into()));
        let res = handle(&store, with_path_param(FIXTURE, "slot_id", "nope"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_SLOT_ID".into()));
    }
}

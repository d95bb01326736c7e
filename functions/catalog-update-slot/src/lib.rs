//! PATCH /admin/slots/{slot_id} (catalog:write): `{"status","capacity"}`.
//! Closing a slot stops new bookings of it; a capacity below what is
//! already booked is refused by the write's condition (409
//! CAPACITY_BELOW_BOOKED), not by a read.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::catalog::SlotId;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::catalog::service::{self, CatalogWriter, UpdateSlotRequest};
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

/// A slot id from the path, accepting `@` and `:` percent-encoded.
fn slot_id(raw: &str) -> Result<SlotId, AppError> {
    SlotId::parse(
        &raw.replace("%40", "@")
            .replace("%3A", ":")
            .replace("%3a", ":"),
    )
}

pub async fn handle(
    slots: &(impl VenueStore + ResourceStore + SlotStore),
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let writer = CatalogWriter::of(&caller(&req)?)?;
        let id = slot_id(&path_param(&req, "slot_id")?)?;
        let body: UpdateSlotRequest = parse_json(&req)?;
        let slot = service::update_slot(slots, &writer, &id, body, &correlation_id).await?;
        tracing::info!(slot_id = %id, "slot updated");
        Ok(slot)
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryCatalog;
    use shared::testing::catalog::{SLOT, course_with_slots, slot};
    use shared::testing::{body, refusal, request, with_body, with_path_param, with_role};

    const FIXTURE: &str = include_str!("../../../events/catalog-update-slot/patch-slot.json");

    #[tokio::test]
    async fn an_admin_shrinks_a_slot_down_to_what_is_booked_and_no_further() {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        store.book(&slot(), 2);
        let res = handle(&store, request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            body(&res),
            serde_json::json!({
                "slot_id": SLOT, "capacity": 2, "booked": 2, "remaining": 0,
                "availability": "FULLY_BOOKED"
            })
        );
        let res = handle(&store, with_body(FIXTURE, r#"{"capacity":1}"#))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (409, "CAPACITY_BELOW_BOOKED".into()));
        assert_eq!(store.get_slot(&slot()).await.unwrap().unwrap().capacity, 2);
    }

    #[tokio::test]
    async fn a_percent_encoded_slot_id_is_read_and_closing_shows_closed() {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        let encoded = SLOT.replace('@', "%40").replace(':', "%3A");
        let mut json: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        json["pathParameters"]["slot_id"] = encoded.into();
        json["body"] = r#"{"status":"CLOSED"}"#.into();
        let req = lambda_http::request::from_str(&json.to_string()).unwrap();
        let res = handle(&store, req).await.unwrap();
        assert_eq!(body(&res)["availability"], "CLOSED");
    }

    #[tokio::test]
    async fn refusals_change_nothing() {
        let store = MemoryCatalog::default();
        course_with_slots(&store).await;
        let res = handle(&store, with_role(FIXTURE, "USER")).await.unwrap();
        assert_eq!(refusal(&res), (403, "FORBIDDEN".into()));
        for (body, expected) in [
            ("{}", "NOTHING_TO_CHANGE"),
            (r#"{"capacity":0}"#, "INVALID_CAPACITY"),
            (r#"{"capacity":2.5}"#, "INVALID_BODY"),
        ] {
            let res = handle(&store, with_body(FIXTURE, body)).await.unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{body}");
        }
        let other = format!("{}@2027-01-15T09:00", shared::testing::catalog::RESOURCE);
        let res = handle(&store, with_path_param(FIXTURE, "slot_id", &other))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "SLOT_NOT_FOUND".into()));
        assert_eq!(store.get_slot(&slot()).await.unwrap().unwrap().capacity, 4);
    }
}

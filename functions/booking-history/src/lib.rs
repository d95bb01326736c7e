//! GET /bookings/{booking_id}/history: every transition of a booking the
//! caller may see (its owner, or an admin with `bookings:manage`), oldest
//! first. Entries whose `from` equals `to` are notes of the payment saga.

use lambda_http::{Body, Request, Response};
use shared::booking::BookingId;
use shared::booking::ports::BookingReader;
use shared::booking::service;
use shared::http::{caller, correlation_id, path_param, respond};

pub async fn handle(
    bookings: &impl BookingReader,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = BookingId::parse(&path_param(&req, "booking_id")?)?;
        service::history(bookings, &caller(&req)?, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryBookings;
    use shared::booking::BookingStatus;
    use shared::testing::booking::{BOOKING, booking, cancelled_history};
    use shared::testing::{body, refusal, request, with_path_param, with_user};

    const FIXTURE: &str = include_str!("../../../events/booking-history/get-history.json");

    fn store() -> MemoryBookings {
        let store = MemoryBookings::default();
        let cancelled = shared::booking::Booking {
            status: BookingStatus::Cancelled,
            ..booking()
        };
        store.insert(cancelled, cancelled_history());
        store
    }

    #[tokio::test]
    async fn the_owner_reads_every_transition_oldest_first() {
        let res = handle(&store(), request(FIXTURE)).await.unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(
            (&json["booking_id"], &json["status"]),
            (&BOOKING.into(), &"CANCELLED".into())
        );
        let steps: Vec<&str> = json["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["to"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["PENDING", "CANCELLED"]);
    }

    #[tokio::test]
    async fn no_one_else_reads_it_and_a_bad_id_is_a_400() {
        let store = store();
        let stranger = shared::identity::UserId::generate().to_string();
        let res = handle(&store, with_user(FIXTURE, &stranger, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (404, "BOOKING_NOT_FOUND".into()));
        let res = handle(&store, with_path_param(FIXTURE, "booking_id", "nope"))
            .await
            .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_BOOKING_ID".into()));
    }
}

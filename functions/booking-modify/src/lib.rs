//! PATCH /bookings/{booking_id}: `{"quantity"}` changes how many places a
//! counted booking holds; `{"slot_id"}` (with or without a quantity) moves
//! it to another slot. Places are given back and taken in one transaction,
//! conditional on the booking being as it was read and on the new slot
//! having room, so a change never oversells and never loses a booking.

use lambda_http::{Body, Request, Response};
use shared::booking::ports::BookingStore;
use shared::booking::rules::{Policy, Terms};
use shared::booking::{BookingId, ChangeRequest, service};
use shared::catalog::Deadline;
use shared::catalog::ports::{ResourceStore, SlotStore};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

pub async fn handle(
    bookings: &impl BookingStore,
    catalog: &(impl SlotStore + ResourceStore),
    clock: &impl Clock,
    policy: &Policy,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let change = parse_json::<ChangeRequest>(&req)?.validate()?;
        let id = BookingId::parse(&path_param(&req, "booking_id")?)?;
        let caller = caller(&req)?;
        service::modify(
            bookings,
            catalog,
            &caller,
            &id,
            &change,
            &correlation_id,
            &Terms {
                deadline: Deadline {
                    now: clock.now(),
                    cutoff: policy.cutoff,
                },
                limits: policy.limits.for_caller(&caller),
            },
        )
        .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryBookings;
    use shared::booking::Booking;
    use shared::booking::ports::BookingReader;
    use shared::catalog::SlotId;
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::testing::booking::{OWNER, at, booked, hold, over_course};
    use shared::testing::catalog::slot;
    use shared::testing::{body, edit, refusal, request};

    const FIXTURE: &str = include_str!("../../../events/booking-modify/patch-booking.json");

    /// The 08:10 tee time beside the fixtures' 08:00 one.
    fn later() -> SlotId {
        SlotId::parse(&slot().to_string().replace("T08:00", "T08:10")).unwrap()
    }

    async fn held(bookings: &MemoryBookings, quantity: i64) -> Booking {
        hold(
            bookings,
            &UserId::parse(OWNER).unwrap(),
            &slot(),
            quantity,
            at(0),
        )
        .await
    }

    fn policy() -> Policy {
        Policy {
            hold: chrono::Duration::minutes(15),
            cutoff: chrono::Duration::zero(),
            limits: shared::booking::rules::Limits::default(),
        }
    }

    fn patch(booking: &Booking, body: &str) -> Request {
        request(&edit(FIXTURE, |e| {
            e["pathParameters"]["booking_id"] = booking.id.as_str().into();
            e["body"] = body.into();
        }))
    }

    async fn send(bookings: &MemoryBookings, req: Request) -> Response<Body> {
        handle(
            bookings,
            bookings.catalog(),
            &FixedClock::at(at(2)),
            &policy(),
            req,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn more_places_are_taken_and_priced_in_one_change() {
        let bookings = over_course().await;
        let booking = held(&bookings, 2).await;
        let res = send(&bookings, patch(&booking, r#"{"quantity":3}"#)).await;
        assert_eq!(res.status(), 200);
        let json = body(&res);
        let unit = booking.unit_price_cents.unwrap();
        assert_eq!(
            (&json["quantity"], &json["price_cents"]),
            (&3.into(), &(unit * 3).into())
        );
        assert_eq!(json["status"], "PENDING");
        assert_eq!(booked(&bookings, &slot()).await, 3);
        assert_eq!(
            bookings.events().pop().unwrap().event_type.as_str(),
            "BookingModified"
        );
    }

    #[tokio::test]
    async fn a_move_gives_the_old_places_back_and_takes_the_new_ones() {
        let bookings = over_course().await;
        let booking = held(&bookings, 2).await;
        let body_ = format!(r#"{{"slot_id":"{}"}}"#, later());
        let res = send(&bookings, patch(&booking, &body_)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["slot_id"], later().to_string());
        assert_eq!(
            (
                booked(&bookings, &slot()).await,
                booked(&bookings, &later()).await
            ),
            (0, 2)
        );
    }

    #[tokio::test]
    async fn a_change_beyond_what_is_left_is_sold_out_and_changes_nothing() {
        let bookings = over_course().await;
        let booking = held(&bookings, 2).await;
        hold(&bookings, &UserId::generate(), &slot(), 2, at(0)).await;
        let res = send(&bookings, patch(&booking, r#"{"quantity":3}"#)).await;
        assert_eq!(refusal(&res), (409, "SOLD_OUT".into()));
        assert!(
            body(&res)["message"]
                .as_str()
                .unwrap()
                .contains("only 0 of 1")
        );
        assert_eq!(booked(&bookings, &slot()).await, 4);
        let stored = bookings.get(&booking.id).await.unwrap().unwrap();
        assert_eq!(stored.quantity, 2);
    }

    #[tokio::test]
    async fn an_empty_or_unknown_change_is_a_400_and_the_same_booking_a_400() {
        let bookings = over_course().await;
        let booking = held(&bookings, 2).await;
        for (body_, code) in [
            ("{}", "NOTHING_TO_CHANGE"),
            (r#"{"quantity":2}"#, "NOTHING_TO_CHANGE"),
            (r#"{"quantity":0}"#, "INVALID_QUANTITY"),
            (r#"{"price_cents":1}"#, "INVALID_BODY"),
        ] {
            let res = send(&bookings, patch(&booking, body_)).await;
            assert_eq!(refusal(&res), (400, code.into()), "{body_}");
        }
        assert_eq!(bookings.events().len(), 1, "only the hold's event");
    }

    #[tokio::test]
    async fn a_change_onto_a_slot_that_started_is_closed() {
        let bookings = over_course().await;
        let booking = held(&bookings, 2).await;
        let body_ = format!(r#"{{"slot_id":"{}"}}"#, later());
        let started = FixedClock::at(shared::testing::catalog::zone().starts_at(&later()));
        let res = handle(
            &bookings,
            bookings.catalog(),
            &started,
            &policy(),
            patch(&booking, &body_),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (409, "BOOKING_CLOSED".into()));
        assert_eq!(booked(&bookings, &later()).await, 0);
    }
}

//! POST /bookings/{booking_id}/cancel: cancels a PENDING or CONFIRMED
//! booking and gives its places back, in one transaction conditional on the
//! booking's status, so a cancel racing the hold's expiry releases once.
//!
//! `BookingCancelled` carries the share of the price to refund: all of it for
//! a hold that was never confirmed, else what the refund policy gives for the
//! notice before the start. The payment context makes the refund.
//!
//! Staff of the venue's company with `bookings:manage` may cancel for the
//! customer, with an optional `{"reason": "..."}` kept in the history.

use lambda_http::{Body, Request, Response};
use shared::booking::BookingId;
use shared::booking::ports::BookingStore;
use shared::booking::service;
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};
use shared::payment::RefundPolicy;

pub async fn handle(
    bookings: &impl BookingStore,
    clock: &impl Clock,
    policy: &RefundPolicy,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = BookingId::parse(&path_param(&req, "booking_id")?)?;
        let caller = caller(&req)?;
        // The body is optional: `{"reason": "..."}`, or nothing.
        let request: service::CancelRequest = if req.body().is_empty() {
            service::CancelRequest::default()
        } else {
            parse_json(&req)?
        };
        let note = request
            .reason
            .as_deref()
            .map(service::CancelNote::parse)
            .transpose()?;
        service::cancel(
            bookings,
            &caller,
            &id,
            policy,
            note.as_ref(),
            &correlation_id,
            clock.now(),
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
    use shared::clock::FixedClock;
    use shared::identity::UserId;
    use shared::testing::booking::{OWNER, at, booked, hold, over_course};
    use shared::testing::catalog::slot;
    use shared::testing::{body, refusal, request, with_path_param, with_user};

    const FIXTURE: &str = include_str!("../../../events/booking-cancel/post-cancel.json");

    fn owner() -> UserId {
        UserId::parse(OWNER).unwrap()
    }

    async fn held(bookings: &MemoryBookings) -> Booking {
        hold(bookings, &owner(), &slot(), 2, at(0)).await
    }

    fn cancel_of(booking: &Booking) -> Request {
        with_path_param(FIXTURE, "booking_id", booking.id.as_str())
    }

    async fn cancel(bookings: &MemoryBookings, req: Request, minutes: i64) -> Response<Body> {
        handle(
            bookings,
            &FixedClock::at(at(minutes)),
            &RefundPolicy::default(),
            req,
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn the_owner_cancels_a_hold_its_places_go_back_and_all_of_it_is_refundable() {
        let bookings = over_course().await;
        let booking = held(&bookings).await;
        assert_eq!(booked(&bookings, &slot()).await, 2);
        let res = cancel(&bookings, cancel_of(&booking), 5).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res)["status"], "CANCELLED");
        assert_eq!(booked(&bookings, &slot()).await, 0);
        let last = bookings.events().pop().unwrap();
        assert_eq!(last.event_type.as_str(), "BookingCancelled");
        assert_eq!(last.data["refund_percent"], 100);
    }

    #[tokio::test]
    async fn a_reason_is_kept_in_the_history_and_a_bad_one_changes_nothing() {
        let bookings = over_course().await;
        let booking = held(&bookings).await;
        let with = |body: &str| {
            let fixture = shared::testing::edit(FIXTURE, |json| {
                json["pathParameters"]["booking_id"] = booking.id.as_str().into();
                json["body"] = body.into();
            });
            shared::testing::request(&fixture)
        };
        for bad in [r#"{"reason":"x"}"#, r#"{"why":"because"}"#] {
            let res = cancel(&bookings, with(bad), 5).await;
            assert_eq!(res.status(), 400, "{bad}");
        }
        assert_eq!(booked(&bookings, &slot()).await, 2, "nothing changed");
        let res = cancel(&bookings, with(r#"{"reason":"plans changed"}"#), 5).await;
        assert_eq!(res.status(), 200);
        use shared::booking::ports::BookingReader;
        let history = bookings.history(&booking.id).await.unwrap();
        assert_eq!(
            history.last().unwrap().reason,
            "cancelled by the customer: plans changed"
        );
    }

    #[tokio::test]
    async fn a_confirmed_booking_a_day_and_a_half_ahead_gets_the_policys_half() {
        let bookings = over_course().await;
        let booking = held(&bookings).await;
        bookings
            .confirm(&booking, "paid", &shared::CorrelationId::generate(), at(1))
            .await
            .unwrap();
        // 2027-01-14T00:00Z, 32 hours before the 08:00 start on the 15th.
        let day_before = "2027-01-14T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>();
        let minutes = (day_before.unwrap() - at(0)).num_minutes();
        let res = cancel(&bookings, cancel_of(&booking), minutes).await;
        assert_eq!(res.status(), 200);
        assert_eq!(bookings.events().pop().unwrap().data["refund_percent"], 50);
    }

    #[tokio::test]
    async fn a_second_cancel_is_a_409_that_gives_nothing_back_twice() {
        let bookings = over_course().await;
        let booking = held(&bookings).await;
        hold(&bookings, &UserId::generate(), &slot(), 1, at(0)).await;
        assert_eq!(
            cancel(&bookings, cancel_of(&booking), 5).await.status(),
            200
        );
        let events = bookings.events().len();
        let again = cancel(&bookings, cancel_of(&booking), 6).await;
        assert_eq!(refusal(&again), (409, "INVALID_TRANSITION".into()));
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (1, events)
        );
    }

    #[tokio::test]
    async fn another_customers_booking_is_a_404_and_a_malformed_id_a_400() {
        let bookings = over_course().await;
        let booking = held(&bookings).await;
        let stranger = with_user(
            &shared::testing::edit(FIXTURE, |e| {
                e["pathParameters"]["booking_id"] = booking.id.as_str().into();
            }),
            &UserId::generate().to_string(),
            "USER",
        );
        assert_eq!(
            refusal(&cancel(&bookings, stranger, 5).await),
            (404, "BOOKING_NOT_FOUND".into())
        );
        assert_eq!(booked(&bookings, &slot()).await, 2);
        let bad = with_path_param(FIXTURE, "booking_id", "BK-1");
        assert_eq!(cancel(&bookings, bad, 5).await.status(), 400);
        let missing = request(FIXTURE);
        assert_eq!(
            refusal(&cancel(&bookings, missing, 5).await),
            (404, "BOOKING_NOT_FOUND".into())
        );
    }
}

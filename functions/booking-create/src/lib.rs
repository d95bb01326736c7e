//! POST /bookings: takes places of a slot as a PENDING hold. Requires an
//! `Idempotency-Key` header: the same key with the same body answers the
//! first response again (201, `idempotent-replayed: true`); with another
//! body, 422. Capacity, the booking, its idempotency record, number,
//! history and BookingCreated are one transaction, so a slot is never
//! oversold however many requests race for it.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::booking::ports::BookingStore;
use shared::booking::rules::Policy;
use shared::booking::service::{self, Attempt, Created};
use shared::booking::{BookingRequest, fingerprint};
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::clock::Clock;
use shared::waiting_room::pass::PassKeys;

/// The header a waiting room's pass travels in.
pub const PASS_HEADER: &str = "x-pass-token";

use shared::http::{
    caller, correlation_id, error_response, idempotency_key, json_response, parse_json, replayed,
};

pub async fn handle(
    bookings: &impl BookingStore,
    catalog: &(impl VenueStore + SlotStore + ResourceStore),
    clock: &impl Clock,
    policy: &Policy,
    passes: Option<&PassKeys>,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let key = idempotency_key(&req)?;
        let body: BookingRequest = parse_json(&req)?;
        let request = body.validate()?;
        let canonical =
            serde_json::to_vec(&body).map_err(|e| AppError::internal("encoding the request", e))?;
        let fingerprint = fingerprint(&canonical);
        let attempt = Attempt {
            user: &caller.user_id,
            key: &key,
            fingerprint: &fingerprint,
            hold: policy.hold,
            cutoff: policy.cutoff,
            correlation_id: &correlation_id,
            now: clock.now(),
            payment: body.payment(),
            limits: policy.limits.for_caller(&caller),
            pass_token: req.headers().get(PASS_HEADER).and_then(|v| v.to_str().ok()),
            passes,
        };
        service::create(bookings, catalog, &attempt, &request).await
    }
    .await;
    Ok(match result {
        Ok(Created::New(booking)) => {
            tracing::info!(booking_id = %booking.id, slot_id = %booking.slot_id, quantity = booking.quantity, "booking held");
            json_response(201, &booking, &correlation_id)
        }
        Ok(Created::Replayed(first)) => replayed(&first, &correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryBookings;
    use shared::booking::ports::BookingReader;
    use shared::catalog::CatalogStatus;
    use shared::catalog::ports::{ResourceChange, ResourceStore, SlotStore};
    use shared::clock::FixedClock;
    use shared::testing::booking::{at, booked, over_course};
    use shared::testing::catalog::{seated_slot, slot};
    use shared::testing::{body, edit, refusal, request, with_body, with_header};
    use std::sync::Arc;

    const FIXTURE: &str = include_str!("../../../events/booking-create/post-booking.json");

    use chrono::Duration;
    use shared::booking::rules::Limits;

    fn policy(cutoff: Duration) -> Policy {
        Policy {
            hold: Duration::minutes(15),
            cutoff,
            limits: Limits::default(),
        }
    }

    async fn post(bookings: &MemoryBookings, req: Request) -> Response<Body> {
        post_at(bookings, req, &FixedClock::at(at(0)), Duration::zero()).await
    }

    async fn post_at(
        bookings: &MemoryBookings,
        req: Request,
        clock: &FixedClock,
        cutoff: Duration,
    ) -> Response<Body> {
        handle(
            bookings,
            bookings.catalog(),
            clock,
            &policy(cutoff),
            None,
            req,
        )
        .await
        .unwrap()
    }

    /// The fixture's request with another idempotency key.
    fn keyed(key: &str, body: &str) -> Request {
        let fixture = edit(FIXTURE, |e| {
            e["headers"]["idempotency-key"] = key.into();
            e["body"] = body.into();
        });
        request(&fixture)
    }

    #[tokio::test]
    async fn a_counted_booking_holds_its_places_at_the_slots_price_with_its_event() {
        let bookings = over_course().await;
        let res = post(&bookings, request(FIXTURE)).await;
        assert_eq!(res.status(), 201);
        let json = body(&res);
        let unit = bookings
            .catalog()
            .get_slot(&slot())
            .await
            .unwrap()
            .unwrap()
            .unit_price();
        assert_eq!(
            (&json["status"], &json["quantity"], &json["price_cents"]),
            (&"PENDING".into(), &2.into(), &(unit * 2).into())
        );
        assert_eq!(json["hold_expires_at"], "2027-01-10T09:45:00Z");
        assert_eq!(booked(&bookings, &slot()).await, 2);
        let events = bookings.events();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type.as_str(), "BookingCreated");
        assert_eq!(events[0].data["booking_id"], json["id"]);
    }

    #[tokio::test]
    async fn a_customer_is_held_to_the_limits_and_staff_are_not() {
        let bookings = over_course().await;
        let strict = Policy {
            limits: Limits {
                places_per_slot: 3,
                unpaid_holds: 2,
            },
            ..policy(Duration::zero())
        };
        let clock = FixedClock::at(at(0));
        let send = |key: &str, quantity: u32, slot: &str| {
            let body = format!(r#"{{"kind":"counted","slot_id":"{slot}","quantity":{quantity}}}"#);
            handle(
                &bookings,
                bookings.catalog(),
                &clock,
                &strict,
                None,
                keyed(key, &body),
            )
        };
        let eight = slot().to_string();
        let ten = eight.replace("08:00", "08:10");
        assert_eq!(
            send("limit-key-0001", 2, &eight).await.unwrap().status(),
            201
        );
        let over = send("limit-key-0002", 2, &eight).await.unwrap();
        assert_eq!(refusal(&over), (409, "PLACES_LIMIT".into()));
        assert_eq!(
            send("limit-key-0003", 1, &eight).await.unwrap().status(),
            201
        );
        let third = send("limit-key-0004", 1, &ten).await.unwrap();
        assert_eq!(refusal(&third), (409, "TOO_MANY_HOLDS".into()));
        assert_eq!(booked(&bookings, &slot()).await, 3, "refusals take nothing");
        let staff = edit(FIXTURE, |e| {
            e["headers"]["idempotency-key"] = "limit-key-0005".into();
            e["requestContext"]["authorizer"]["lambda"]["role"] = "ADMIN".into();
            e["body"] = format!(r#"{{"kind":"counted","slot_id":"{ten}","quantity":4}}"#).into();
        });
        let res = handle(
            &bookings,
            bookings.catalog(),
            &clock,
            &strict,
            None,
            request(&staff),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 201, "staff book past the customer limits");
    }

    #[tokio::test]
    async fn the_same_key_and_body_answer_the_first_booking_and_another_body_is_a_422() {
        let bookings = over_course().await;
        let first = body(&post(&bookings, request(FIXTURE)).await);
        let again = post(&bookings, request(FIXTURE)).await;
        assert_eq!(again.status(), 201);
        assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
        assert_eq!(body(&again)["id"], first["id"]);
        let other = with_body(
            FIXTURE,
            &format!(
                r#"{{"kind":"counted","slot_id":"{}","quantity":1}}"#,
                slot()
            ),
        );
        assert_eq!(
            refusal(&post(&bookings, other).await),
            (422, "IDEMPOTENCY_KEY_REUSED".into())
        );
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (2, 1)
        );
    }

    #[tokio::test]
    async fn more_than_is_left_is_sold_out_and_takes_nothing() {
        let bookings = over_course().await;
        let body3 = format!(
            r#"{{"kind":"counted","slot_id":"{}","quantity":3}}"#,
            slot()
        );
        assert_eq!(
            post(&bookings, keyed("key-one-000001", &body3))
                .await
                .status(),
            201
        );
        let res = post(&bookings, keyed("key-two-000002", &body3)).await;
        assert_eq!(refusal(&res), (409, "SOLD_OUT".into()));
        assert!(
            body(&res)["message"]
                .as_str()
                .unwrap()
                .contains("only 1 of 3")
        );
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (3, 1)
        );
    }

    #[tokio::test]
    async fn many_racing_bookings_take_exactly_the_capacity() {
        let bookings = Arc::new(over_course().await);
        let one = format!(
            r#"{{"kind":"counted","slot_id":"{}","quantity":1}}"#,
            slot()
        );
        let results = futures::future::join_all((0..10).map(|i| {
            let (bookings, one) = (bookings.clone(), one.clone());
            tokio::spawn(async move {
                post(&bookings, keyed(&format!("race-key-{i:06}"), &one))
                    .await
                    .status()
                    .as_u16()
            })
        }))
        .await;
        let made = results
            .iter()
            .filter(|r| *r.as_ref().unwrap() == 201)
            .count();
        let refused = results
            .iter()
            .filter(|r| *r.as_ref().unwrap() == 409)
            .count();
        assert_eq!((made, refused), (4, 6));
        assert_eq!(booked(&bookings, &slot()).await, 4);
    }

    #[tokio::test]
    async fn a_seat_is_taken_once() {
        let bookings = over_course().await;
        seated_slot_only(&bookings).await;
        let seats = format!(
            r#"{{"kind":"seated","slot_id":"{}","seat_ids":["A-1"]}}"#,
            slot()
        );
        let first = post(&bookings, keyed("seat-key-000001", &seats)).await;
        assert_eq!(first.status(), 201);
        assert_eq!(body(&first)["price_cents"], 9000);
        let second = post(&bookings, keyed("seat-key-000002", &seats)).await;
        assert_eq!(refusal(&second), (409, "SEAT_TAKEN".into()));
        let counted = post(&bookings, request(FIXTURE)).await;
        assert_eq!(refusal(&counted), (409, "SEATS_REQUIRED".into()));
    }

    /// Gives the fixtures' 08:00 slot its seat map.
    async fn seated_slot_only(bookings: &MemoryBookings) {
        let fresh = shared::adapters::memory::MemoryCatalog::default();
        seated_slot(&fresh).await;
        let seats = fresh.seats_of(&slot()).await.unwrap();
        bookings
            .catalog()
            .set_seat_map(&slot(), &seats, &|_| {
                Ok(shared::testing::catalog::activity())
            })
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_closed_course_and_an_unknown_slot_refuse_and_write_nothing() {
        let bookings = over_course().await;
        bookings
            .catalog()
            .update_resource(
                &slot().resource_id,
                &ResourceChange {
                    status: Some(CatalogStatus::Closed),
                    ..ResourceChange::default()
                },
                &shared::testing::catalog::activity(),
            )
            .await
            .unwrap();
        assert_eq!(
            refusal(&post(&bookings, request(FIXTURE)).await),
            (409, "RESOURCE_CLOSED".into())
        );
        let unknown = with_body(
            FIXTURE,
            &format!(
                r#"{{"kind":"counted","slot_id":"{}@2027-01-15T09:00","quantity":1}}"#,
                slot().resource_id
            ),
        );
        assert_eq!(
            refusal(&post(&bookings, unknown).await),
            (404, "SLOT_NOT_FOUND".into())
        );
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (0, 0)
        );
    }

    #[tokio::test]
    async fn bad_input_is_a_400_that_writes_nothing() {
        let bookings = over_course().await;
        let zero = with_body(
            FIXTURE,
            &format!(
                r#"{{"kind":"counted","slot_id":"{}","quantity":0}}"#,
                slot()
            ),
        );
        assert_eq!(
            refusal(&post(&bookings, zero).await),
            (400, "INVALID_QUANTITY".into())
        );
        let no_key = with_header(FIXTURE, "idempotency-key", None);
        assert_eq!(
            refusal(&post(&bookings, no_key).await),
            (400, "MISSING_IDEMPOTENCY_KEY".into())
        );
        let priced = with_body(
            FIXTURE,
            &format!(
                r#"{{"kind":"counted","slot_id":"{}","quantity":1,"price_cents":0}}"#,
                slot()
            ),
        );
        assert_eq!(post(&bookings, priced).await.status(), 400);
        assert_eq!(bookings.events().len(), 0);
        assert!(
            bookings
                .get(&shared::booking::BookingId::generate())
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_slot_that_started_or_is_inside_the_cutoff_is_closed_to_bookings() {
        let bookings = over_course().await;
        let start = shared::testing::catalog::zone().starts_at(&slot());
        let started = FixedClock::at(start);
        let res = post_at(&bookings, request(FIXTURE), &started, Duration::zero()).await;
        assert_eq!(refusal(&res), (409, "BOOKING_CLOSED".into()));
        let almost = FixedClock::at(start - Duration::minutes(20));
        let res = post_at(&bookings, request(FIXTURE), &almost, Duration::minutes(30)).await;
        assert_eq!(refusal(&res), (409, "BOOKING_CLOSED".into()));
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (0, 0)
        );
        let res = post_at(&bookings, request(FIXTURE), &almost, Duration::minutes(10)).await;
        assert_eq!(res.status(), 201);
    }

    #[tokio::test]
    async fn a_closed_venue_refuses_bookings_and_writes_nothing() {
        use shared::catalog::ports::{VenueChange, VenueStore};
        let bookings = over_course().await;
        bookings
            .catalog()
            .update_venue(
                &shared::testing::catalog::venue_id(),
                &VenueChange {
                    status: Some(CatalogStatus::Closed),
                    ..VenueChange::default()
                },
                &shared::testing::catalog::activity(),
            )
            .await
            .unwrap();
        assert_eq!(
            refusal(&post(&bookings, request(FIXTURE)).await),
            (409, "VENUE_CLOSED".into())
        );
        assert_eq!(
            (booked(&bookings, &slot()).await, bookings.events().len()),
            (0, 0)
        );
    }
}

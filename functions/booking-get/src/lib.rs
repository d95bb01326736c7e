//! GET /bookings/{booking_id}: the booking, to its owner or staff with
//! `bookings:read` in its venue's company (the platform administrator
//! everywhere); anyone else gets 404, as for a booking that does not exist.
//! Staff whose role has `customers:read` there see the customer's contact
//! (`customer`) too.

use lambda_http::{Body, Request, Response};
use shared::booking::BookingId;
use shared::booking::ports::BookingReader;
use shared::booking::service;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::ports::UserStore;

pub async fn handle(
    bookings: &impl BookingReader,
    users: &impl UserStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = BookingId::parse(&path_param(&req, "booking_id")?)?;
        service::get_detail(bookings, users, &caller(&req)?, &id).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::{MemoryBookings, MemoryIdentity};
    use shared::testing::booking::{BOOKING, OWNER, booking};
    use shared::testing::{body, refusal, request, with_path_param, with_user};

    const FIXTURE: &str = include_str!("../../../events/booking-get/get-booking.json");

    fn store() -> MemoryBookings {
        let store = MemoryBookings::default();
        store.insert(booking(), Vec::new());
        store
    }

    #[tokio::test]
    async fn the_owner_sees_their_booking() {
        let res = handle(&store(), &MemoryIdentity::default(), request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(
            (&json["id"], &json["user_id"]),
            (&BOOKING.into(), &OWNER.into())
        );
    }

    #[tokio::test]
    async fn another_customer_gets_the_404_of_a_booking_that_does_not_exist_and_an_admin_sees_it() {
        let store = store();
        let stranger = shared::identity::UserId::generate().to_string();
        let theirs = handle(
            &store,
            &MemoryIdentity::default(),
            with_user(FIXTURE, &stranger, "USER"),
        )
        .await
        .unwrap();
        let missing = handle(
            &store,
            &MemoryIdentity::default(),
            with_path_param(FIXTURE, "booking_id", &BookingId::generate().to_string()),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&theirs), (404, "BOOKING_NOT_FOUND".into()));
        assert_eq!(body(&theirs)["code"], body(&missing)["code"]);
        let admin = handle(
            &store,
            &MemoryIdentity::default(),
            with_user(FIXTURE, &stranger, "ADMIN"),
        )
        .await
        .unwrap();
        assert_eq!(admin.status(), 200);
    }

    #[tokio::test]
    async fn a_malformed_id_is_a_400() {
        let res = handle(
            &store(),
            &MemoryIdentity::default(),
            with_path_param(FIXTURE, "booking_id", "BK-1"),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "INVALID_BOOKING_ID".into()));
    }

    #[tokio::test]
    async fn staff_see_the_contact_only_with_customers_read() {
        let store = store();
        let users = MemoryIdentity::default();
        let owner = shared::identity::UserId::parse(OWNER).unwrap();
        shared::testing::identity::account(&users, &owner).await;
        let company = shared::testing::catalog::company_id();
        let staff = shared::identity::UserId::generate().to_string();
        let as_staff = |role: &str| {
            let fixture = shared::testing::edit(FIXTURE, |json| {
                let context = &mut json["requestContext"]["authorizer"]["lambda"];
                context["user_id"] = staff.as_str().into();
                context["staff"] = format!("{company}:{role}").into();
            });
            request(&fixture)
        };
        let manager = handle(&store, &users, as_staff("MANAGER")).await.unwrap();
        assert_eq!(manager.status(), 200);
        assert_eq!(
            body(&manager)["customer"]["email"],
            format!("{owner}@example.com")
        );
        let viewer = handle(&store, &users, as_staff("VIEWER")).await.unwrap();
        assert_eq!(viewer.status(), 200);
        assert!(body(&viewer).get("customer").is_none());
        let own = handle(&store, &users, request(FIXTURE)).await.unwrap();
        assert!(
            body(&own).get("customer").is_none(),
            "the owner knows who they are"
        );
    }
}

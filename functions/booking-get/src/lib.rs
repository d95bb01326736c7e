//! GET /bookings/{booking_id}: the booking, to its owner or staff with
//! `bookings:read` in its venue's company (the platform administrator
//! everywhere); anyone else gets 404, as for a booking that does not exist.
//! Staff whose role has `customers:read` see the customer's contact
//! (`customer`) too. While the booking can be cancelled, `cancellation`
//! quotes what cancelling it now would refund, by the same policy
//! (`REFUND_POLICY`) and the same arithmetic as the cancel and the refund.

use lambda_http::{Body, Request, Response};
use shared::booking::BookingId;
use shared::booking::ports::BookingReader;
use shared::booking::service;
use shared::clock::Clock;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::payment::RefundPolicy;
use shared::payment::ports::PaymentStore;
use shared::ports::UserStore;

pub async fn handle(
    bookings: &impl BookingReader,
    users: &impl UserStore,
    payments: &impl PaymentStore,
    clock: &impl Clock,
    policy: &RefundPolicy,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let id = BookingId::parse(&path_param(&req, "booking_id")?)?;
        service::get_detail(
            bookings,
            users,
            payments,
            &caller(&req)?,
            &id,
            policy,
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
    use chrono::{DateTime, Utc};
    use shared::CorrelationId;
    use shared::adapters::memory::{MemoryBookings, MemoryIdentity, MemoryWallets};
    use shared::booking::{Booking, BookingStatus};
    use shared::clock::FixedClock;
    use shared::payment::{PaymentMethod, new_payment};
    use shared::testing::booking::{BOOKING, OWNER, at, booking};
    use shared::testing::{body, refusal, request, with_path_param, with_user};

    const FIXTURE: &str = include_str!("../../../events/booking-get/get-booking.json");

    fn store() -> MemoryBookings {
        let store = MemoryBookings::default();
        store.insert(booking(), Vec::new());
        store
    }

    /// The fixture's request answered at `now`, by `policy`.
    async fn get_at(
        bookings: &MemoryBookings,
        payments: &MemoryWallets,
        now: DateTime<Utc>,
        policy: &str,
    ) -> Response<Body> {
        let policy: RefundPolicy = policy.parse().unwrap();
        handle(
            bookings,
            &MemoryIdentity::default(),
            payments,
            &FixedClock::at(now),
            &policy,
            request(FIXTURE),
        )
        .await
        .unwrap()
    }

    /// `req` answered at the fixtures' "now", by the default policy, with
    /// no payment recorded.
    async fn get(
        bookings: &MemoryBookings,
        users: &MemoryIdentity,
        req: Request,
    ) -> Response<Body> {
        handle(
            bookings,
            users,
            &MemoryWallets::default(),
            &FixedClock::at(at(0)),
            &RefundPolicy::default(),
            req,
        )
        .await
        .unwrap()
    }

    /// The fixtures' booking as `status`, paid `paid_cents` by card an
    /// hour after it was held, in a store of its own.
    async fn paid(status: BookingStatus, paid_cents: u64) -> (MemoryBookings, MemoryWallets) {
        let booking = Booking {
            status,
            payment: Some(PaymentMethod::Card),
            price_cents: paid_cents,
            confirmed_at: Some(at(60)),
            ..booking()
        };
        let payments = MemoryWallets::default();
        let payment = new_payment(
            &booking.id,
            &booking.user_id,
            PaymentMethod::Card,
            paid_cents,
            at(60),
        );
        payments
            .record_completed(&payment, &CorrelationId::generate())
            .await
            .unwrap();
        let bookings = MemoryBookings::default();
        bookings.insert(booking, Vec::new());
        (bookings, payments)
    }

    #[tokio::test]
    async fn the_owner_sees_their_booking() {
        let res = get(&store(), &MemoryIdentity::default(), request(FIXTURE)).await;
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(
            (&json["id"], &json["user_id"]),
            (&BOOKING.into(), &OWNER.into())
        );
        // A hold that asked for no payment: all of nothing comes back.
        assert_eq!(
            json["cancellation"],
            serde_json::json!({"refund_percent": 100, "refund_cents": 0, "policy": "72h=100,24h=50"})
        );
    }

    #[tokio::test]
    async fn a_confirmed_paid_booking_days_ahead_quotes_all_of_its_payment() {
        let (bookings, payments) = paid(BookingStatus::Confirmed, 10_000).await;
        // 2027-01-10T11:30Z, almost five days before the 08:00 start on the 15th.
        let res = get_at(&bookings, &payments, at(120), "72h=100,24h=50").await;
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["status"], "CONFIRMED");
        assert_eq!(
            json["cancellation"],
            serde_json::json!({"refund_percent": 100, "refund_cents": 10_000, "policy": "72h=100,24h=50"})
        );
    }

    #[tokio::test]
    async fn inside_the_policys_last_tier_the_quote_is_its_share_rounded_down() {
        let (bookings, payments) = paid(BookingStatus::Confirmed, 9_999).await;
        // 2027-01-14T12:00Z, 20 hours before the start: the 12h=25 tier.
        let now = "2027-01-14T12:00:00Z".parse().unwrap();
        let res = get_at(&bookings, &payments, now, "48h=100,12h=25").await;
        assert_eq!(
            body(&res)["cancellation"],
            serde_json::json!({"refund_percent": 25, "refund_cents": 2_499, "policy": "48h=100,12h=25"})
        );
    }

    #[tokio::test]
    async fn a_cancelled_booking_quotes_no_cancellation() {
        let (bookings, payments) = paid(BookingStatus::Cancelled, 10_000).await;
        let res = get_at(&bookings, &payments, at(120), "72h=100,24h=50").await;
        assert_eq!(res.status(), 200);
        let json = body(&res);
        assert_eq!(json["status"], "CANCELLED");
        assert!(json.get("cancellation").is_none(), "{json}");
    }

    #[tokio::test]
    async fn another_customer_gets_the_404_of_a_booking_that_does_not_exist_and_an_admin_sees_it() {
        let store = store();
        let users = MemoryIdentity::default();
        let stranger = shared::identity::UserId::generate().to_string();
        let theirs = get(&store, &users, with_user(FIXTURE, &stranger, "USER")).await;
        let missing = get(
            &store,
            &users,
            with_path_param(FIXTURE, "booking_id", &BookingId::generate().to_string()),
        )
        .await;
        assert_eq!(refusal(&theirs), (404, "BOOKING_NOT_FOUND".into()));
        assert_eq!(body(&theirs)["code"], body(&missing)["code"]);
        let admin = get(&store, &users, with_user(FIXTURE, &stranger, "ADMIN")).await;
        assert_eq!(admin.status(), 200);
    }

    #[tokio::test]
    async fn a_malformed_id_is_a_400() {
        let res = get(
            &store(),
            &MemoryIdentity::default(),
            with_path_param(FIXTURE, "booking_id", "BK-1"),
        )
        .await;
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
        let manager = get(&store, &users, as_staff("MANAGER")).await;
        assert_eq!(manager.status(), 200);
        assert_eq!(
            body(&manager)["customer"]["email"],
            format!("{owner}@example.com")
        );
        let viewer = get(&store, &users, as_staff("VIEWER")).await;
        assert_eq!(viewer.status(), 200);
        assert!(body(&viewer).get("customer").is_none());
        let own = get(&store, &users, request(FIXTURE)).await;
        assert!(
            body(&own).get("customer").is_none(),
            "the owner knows who they are"
        );
    }
}

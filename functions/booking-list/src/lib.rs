//! GET /bookings?status=&date=&limit=&cursor=: the caller's own bookings,
//! newest first, optionally of one status and/or one booked date, in pages
//! with `next_cursor`.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::booking::ports::{BookingFilter, BookingReader};
use shared::booking::service;
use shared::http::{caller, correlation_id, limit_param, query_param, respond};

pub async fn handle(
    bookings: &impl BookingReader,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let status = query_param(&req, "status")
            .map(|s| service::parse_status(&s))
            .transpose()?;
        let limit = limit_param(&req, 20, 100)?;
        let date = query_param(&req, "date")
            .map(|d| {
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))
            })
            .transpose()?;
        let cursor = query_param(&req, "cursor");
        let filter = BookingFilter { status, date };
        service::list_mine(bookings, &caller, &filter, limit, cursor.as_deref()).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryBookings;
    use shared::booking::{BookingId, BookingStatus};
    use shared::identity::UserId;
    use shared::testing::booking::{OWNER, booking_of};
    use shared::testing::{body, refusal, with_queries, with_query};

    const FIXTURE: &str = include_str!("../../../events/booking-list/get-bookings.json");

    /// Three bookings of the fixtures' caller (the second cancelled) and
    /// one of someone else's.
    fn store() -> (MemoryBookings, Vec<BookingId>) {
        let store = MemoryBookings::default();
        let owner = UserId::parse(OWNER).unwrap();
        let mut ids = Vec::new();
        for minutes in 0..3 {
            let mut b = booking_of(BookingId::generate(), &owner, minutes);
            if minutes == 1 {
                b.status = BookingStatus::Cancelled;
            }
            ids.push(b.id.clone());
            store.insert(b, Vec::new());
        }
        store.insert(
            booking_of(BookingId::generate(), &UserId::generate(), 9),
            Vec::new(),
        );
        (store, ids)
    }

    fn ids(json: &serde_json::Value) -> Vec<String> {
        json["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b: &serde_json::Value| b["id"].as_str().unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_caller_sees_only_their_own_newest_first_in_pages() {
        let (store, made) = store();
        let first = body(
            &handle(&store, with_query(FIXTURE, "limit", Some("2")))
                .await
                .unwrap(),
        );
        assert_eq!(ids(&first), [made[2].to_string(), made[1].to_string()]);
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = body(
            &handle(
                &store,
                with_queries(FIXTURE, &[("limit", "2"), ("cursor", &cursor)]),
            )
            .await
            .unwrap(),
        );
        assert_eq!(ids(&second), [made[0].to_string()]);
        assert!(second["next_cursor"].is_null());
    }

    #[tokio::test]
    async fn filters_by_status_and_by_booked_date() {
        let (store, made) = store();
        let pending = body(
            &handle(&store, with_query(FIXTURE, "status", Some("PENDING")))
                .await
                .unwrap(),
        );
        assert_eq!(ids(&pending), [made[2].to_string(), made[0].to_string()]);
        let that_day = body(
            &handle(&store, with_query(FIXTURE, "date", Some("2027-01-15")))
                .await
                .unwrap(),
        );
        assert_eq!(ids(&that_day).len(), 3);
        let other_day = body(
            &handle(&store, with_query(FIXTURE, "date", Some("2027-01-16")))
                .await
                .unwrap(),
        );
        assert!(ids(&other_day).is_empty());
    }

    #[tokio::test]
    async fn bad_queries_are_400s() {
        let (store, _) = store();
        for (name, value, expected) in [
            ("status", "LOST", "INVALID_STATUS"),
            ("limit", "0", "INVALID_LIMIT"),
            ("limit", "101", "INVALID_LIMIT"),
            ("date", "someday", "INVALID_DATE"),
            ("cursor", "garbage", "INVALID_CURSOR"),
        ] {
            let res = handle(&store, with_query(FIXTURE, name, Some(value)))
                .await
                .unwrap();
            assert_eq!(refusal(&res), (400, expected.into()), "{name}={value}");
        }
    }
}

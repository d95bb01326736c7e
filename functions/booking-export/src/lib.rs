//! GET /admin/resources/{resource_id}/bookings/export?from=&to=&limit=&cursor=
//! (`stats:read` in the resource's company): the resource's bookings booked
//! on the days of the range, as CSV (`text/csv`), `limit` bookings a page
//! (default 1000, at most 2000: far below Lambda's 6 MB response limit).
//! The header row is on the first page only; the next page's cursor is in
//! `X-Next-Cursor` (absent on the last page), so the pages concatenated are
//! one file.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use shared::booking::ports::BookingReader;
use shared::catalog::ResourceId;
use shared::catalog::ports::{ResourceStore, SlotStore, VenueStore};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, error_response, limit_param, path_param, query_param};
use shared::payment::ports::PaymentStore;
use shared::reporting::ports::FiguresStore;
use shared::reporting::service::{RangeQuery, Reporting};

/// The header naming the next page's cursor.
pub const NEXT_CURSOR: &str = "x-next-cursor";

pub async fn handle<F, B, C, K>(
    reporting: &Reporting<F, B, C, K>,
    payments: &impl PaymentStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FiguresStore,
    B: BookingReader,
    C: VenueStore + ResourceStore + SlotStore,
    K: Clock,
{
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let resource = ResourceId::parse(&path_param(&req, "resource_id")?)?;
        let (from, to) = (query_param(&req, "from"), query_param(&req, "to"));
        let query = RangeQuery {
            from: from.as_deref(),
            to: to.as_deref(),
            by: None,
        };
        let limit = limit_param(&req, 1000, 2000)?;
        let cursor = query_param(&req, "cursor");
        reporting
            .export(
                payments,
                &caller,
                &resource,
                query,
                limit,
                cursor.as_deref(),
            )
            .await
    }
    .await;
    let page = match result {
        Ok(page) => page,
        Err(e) => return Ok(error_response(&e, &correlation_id)),
    };
    tracing::info!(
        rows = page.rows,
        more = page.next_cursor.is_some(),
        "export page"
    );
    let mut response = Response::new(Body::Text(page.csv));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Some(next) = page
        .next_cursor
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(NEXT_CURSOR, next);
    }
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        headers.insert(shared::correlation::HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::adapters::memory::MemoryWallets;
    use shared::booking::BookingId;
    use shared::identity::UserId;
    use shared::testing::booking::booking_of;
    use shared::testing::reporting::twin;
    use shared::testing::{refusal, request, with_queries, with_role};

    const FIXTURE: &str = include_str!("../../../events/booking-export/get-export.json");

    fn text(res: &Response<Body>) -> String {
        match res.body() {
            Body::Text(t) => t.clone(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[tokio::test]
    async fn three_bookings_come_in_two_pages_that_make_one_file() {
        let reporting = twin().await;
        for minutes in 0..3 {
            reporting.bookings.insert(
                booking_of(BookingId::generate(), &UserId::generate(), minutes),
                Vec::new(),
            );
        }
        let payments = MemoryWallets::default();
        let first = handle(&reporting, &payments, request(FIXTURE))
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        assert_eq!(
            first.headers()[header::CONTENT_TYPE],
            "text/csv; charset=utf-8"
        );
        let next = first.headers()[NEXT_CURSOR].to_str().unwrap().to_owned();
        let second = handle(
            &reporting,
            &payments,
            with_queries(
                FIXTURE,
                &[
                    ("from", "2027-01-14"),
                    ("to", "2027-01-16"),
                    ("cursor", &next),
                ],
            ),
        )
        .await
        .unwrap();
        assert!(!second.headers().contains_key(NEXT_CURSOR));
        let file = text(&first) + &text(&second);
        let lines: Vec<&str> = file.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("number,booking_id,customer"));
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.contains(",PENDING,EUR,10000,0,0"))
        );
        let res = handle(&reporting, &payments, with_role(FIXTURE, "USER"))
            .await
            .unwrap();
        assert_eq!(refusal(&res).0, 403);
        let res = handle(
            &reporting,
            &payments,
            with_queries(FIXTURE, &[("from", "2027-01-14")]),
        )
        .await
        .unwrap();
        assert_eq!(refusal(&res), (400, "MISSING_DATE".to_owned()));
    }
}

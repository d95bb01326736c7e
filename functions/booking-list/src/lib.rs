//! GET /bookings?status=&date=&limit=&cursor=: the caller's own bookings, newest
//! first. `limit` 1 to 100 (default 20); `cursor` from the previous page.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::booking::BookingStatus;
use shared::http::{caller, correlation_id, limit_param, query_param, respond};

pub async fn handle(
    store: &DynamoBookings,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let status = query_param(&req, "status")
            .map(|s| {
                serde_json::from_value::<BookingStatus>(serde_json::Value::String(s)).map_err(
                    |_| {
                        AppError::validation(
                            "INVALID_STATUS",
                            "status must be PENDING, CONFIRMED, CANCELLED, EXPIRED or FAILED",
                        )
                    },
                )
            })
            .transpose()?;
        let limit = limit_param(&req, 20, 100)?;
        let date = query_param(&req, "date")
            .map(|d| {
                chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                    .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))
            })
            .transpose()?;
        let cursor = query_param(&req, "cursor");
        let (bookings, next) = store
            .list_for_user(&caller.user_id, status, date, limit, cursor.as_deref())
            .await?;
        Ok(serde_json::json!({ "bookings": bookings, "next_cursor": next }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

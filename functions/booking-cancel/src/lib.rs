//! POST /bookings/{booking_id}/cancel: cancels a PENDING or CONFIRMED
//! booking and gives its places back, in one transaction conditional on the
//! booking's status, so a cancel racing the hold's expiry releases once.

use chrono::{SubsecRound, Utc};
use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::EventType;
use shared::adapters::dynamo::booking::{DynamoBookings, Release};
use shared::booking::{Booking, BookingId, BookingStatus};
use shared::http::{caller, correlation_id, path_param, respond};

/// The booking of the path, if the caller may see it (else 404).
async fn visible(store: &DynamoBookings, req: &Request) -> Result<Booking, AppError> {
    let id = BookingId::parse(&path_param(req, "booking_id")?)?;
    store.get_visible(&caller(req)?, &id).await
}

pub async fn handle(
    store: &DynamoBookings,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let booking = visible(store, &req).await?;
        if !booking.status.can_become(BookingStatus::Cancelled) {
            return Err(AppError::conflict(
                "INVALID_TRANSITION",
                format!("a {} booking cannot be cancelled", booking.status.as_str()),
            ));
        }
        let by = caller(&req)?.user_id.to_string();
        let release = Release {
            from: &[BookingStatus::Pending, BookingStatus::Confirmed],
            to: BookingStatus::Cancelled,
            by: &by,
            reason: "cancelled by the customer",
            event_type: EventType::BookingCancelled,
            correlation_id: &correlation_id,
            now: Utc::now().trunc_subsecs(3),
        };
        store.release(&booking, &release).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

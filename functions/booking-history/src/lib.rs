//! GET /bookings/{booking_id}/history: every transition of a booking (when,
//! who, why), to its owner or an admin.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::booking::{Booking, BookingId};
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
        let history = store.history(&booking.id).await?;
        Ok(serde_json::json!({ "booking_id": booking.id, "status": booking.status, "history": history }))
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

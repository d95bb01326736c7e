//! GET /bookings/{booking_id}: one booking, to its owner or an admin.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::booking::{Booking, BookingId};
use shared::http::{caller, correlation_id, path_param, respond};
use shared::identity::Permission;

/// The booking if the caller may see it: its owner, or an admin with
/// bookings:manage. Anyone else gets the same 404 as for a missing booking.
async fn visible(store: &DynamoBookings, req: &Request) -> Result<Booking, AppError> {
    let caller = caller(req)?;
    let id = BookingId::parse(&path_param(req, "booking_id")?)?;
    let not_found = || AppError::NotFound {
        code: "BOOKING_NOT_FOUND",
        what: format!("the booking {id}"),
    };
    let booking = store.get(&id).await?.ok_or_else(not_found)?;
    caller
        .require_owner_or(&booking.user_id, Permission::BookingsManage)
        .map_err(|_| not_found())?;
    Ok(booking)
}

pub async fn handle(
    store: &DynamoBookings,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    Ok(respond(200, visible(store, &req).await, &correlation_id))
}

//! POST /bookings/{booking_id}/cancel: cancels a PENDING or CONFIRMED
//! booking and gives its places back, in one transaction conditional on the
//! booking's status, so a cancel racing the hold's expiry releases once.
//!
//! `BookingCancelled` carries the share of the price to refund: all of it for
//! a hold that was never confirmed, else what the refund policy gives for the
//! notice before the start. The payment context makes the refund.

use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::booking::{DynamoBookings, Release};
use shared::booking::events::EndedAs;
use shared::booking::{Booking, BookingId, BookingStatus, cancellation_refund_percent};
use shared::clock::Clock;
use shared::http::{caller, correlation_id, path_param, respond};
use shared::payment::RefundPolicy;

/// The booking of the path, if the caller may see it (else 404).
async fn visible(store: &DynamoBookings, req: &Request) -> Result<Booking, AppError> {
    let id = BookingId::parse(&path_param(req, "booking_id")?)?;
    shared::booking::service::get_visible(store, &caller(req)?, &id).await
}

pub async fn handle(
    store: &DynamoBookings,
    clock: &impl Clock,
    policy: &RefundPolicy,
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
        let now = clock.now();
        let percent =
            cancellation_refund_percent(booking.status, booking.slot_id.starts_at(), policy, now);
        let reason = if booking.payment.is_some() {
            format!("cancelled by the customer; {percent}% refunded by policy ({policy})")
        } else {
            "cancelled by the customer".to_owned()
        };
        // Conditional on the status the refund share was computed for: a
        // hold confirmed meanwhile is refused (409) rather than refunded in
        // full.
        let release = Release {
            from: &[booking.status],
            to: BookingStatus::Cancelled,
            by: &by,
            reason: &reason,
            ended_as: EndedAs::Cancelled,
            correlation_id: &correlation_id,
            now,
            refund_percent: percent,
        };
        store.release(&booking, &release).await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

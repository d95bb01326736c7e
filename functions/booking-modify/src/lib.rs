//! PATCH /bookings/{booking_id}: `{"quantity"}` changes how many places a
//! counted booking holds; `{"slot_id"}` (with or without a quantity) moves
//! it to another slot. Places are given back and taken in one transaction,
//! conditional on the booking being as it was read and on the new slot
//! having room, so a change never oversells and never loses a booking.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::AppError;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::booking::{Booking, BookingId, Quantity};
use shared::catalog::SlotId;
use shared::clock::Clock;
use shared::http::{caller, correlation_id, parse_json, path_param, respond};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    quantity: Option<i64>,
    slot_id: Option<String>,
}

/// The booking of the path, if the caller may see it (else 404).
async fn visible(store: &DynamoBookings, req: &Request) -> Result<Booking, AppError> {
    let id = BookingId::parse(&path_param(req, "booking_id")?)?;
    shared::booking::service::get_visible(store, &caller(req)?, &id).await
}

pub async fn handle(
    store: &DynamoBookings,
    clock: &impl Clock,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let change: Change = parse_json(&req)?;
        let quantity = change.quantity.map(Quantity::parse).transpose()?;
        let slot = change.slot_id.as_deref().map(SlotId::parse).transpose()?;
        if quantity.is_none() && slot.is_none() {
            return Err(AppError::validation(
                "NOTHING_TO_CHANGE",
                "give quantity and/or slot_id",
            ));
        }
        let booking = visible(store, &req).await?;
        let by = caller(&req)?.user_id.to_string();
        let to_slot = slot.unwrap_or_else(|| booking.slot_id.clone());
        let to_quantity = quantity.map_or(booking.quantity, Quantity::get);
        store
            .modify(
                &booking,
                &to_slot,
                to_quantity,
                &by,
                &correlation_id,
                clock.now(),
            )
            .await
    }
    .await;
    Ok(respond(200, result, &correlation_id))
}

//! POST /bookings: takes places of a slot as a PENDING hold. Requires an
//! `Idempotency-Key` header: the same key with the same body answers the
//! first response again (201, `idempotent-replayed: true`); with another
//! body, 422. Capacity, the booking, its idempotency record, number,
//! history and BookingCreated are one transaction, so a slot is never
//! oversold however many requests race for it.

use chrono::Duration;
use lambda_http::{Body, Request, Response};
use shared::AppError;
use shared::adapters::dynamo::booking::{Attempt, Created, DynamoBookings};
use shared::booking::{BookingRequest, ValidRequest, fingerprint};
use shared::clock::Clock;
use shared::http::{
    caller, correlation_id, error_response, idempotency_key, json_response, parse_json, replayed,
};

pub async fn handle(
    store: &DynamoBookings,
    clock: &impl Clock,
    hold: Duration,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        let caller = caller(&req)?;
        let key = idempotency_key(&req)?;
        let body: BookingRequest = parse_json(&req)?;
        let request = body.validate()?;
        let canonical =
            serde_json::to_vec(&body).map_err(|e| AppError::internal("encoding the request", e))?;
        let fingerprint = fingerprint(&canonical);
        let attempt = Attempt {
            user: &caller.user_id,
            key: &key,
            fingerprint: &fingerprint,
            hold,
            correlation_id: &correlation_id,
            now: clock.now(),
            payment: body.payment(),
        };
        match request {
            ValidRequest::Slot(order) => store.create(&attempt, &order).await,
            ValidRequest::Range(order) => store.create_range(&attempt, &order).await,
        }
    }
    .await;
    Ok(match result {
        Ok(Created::New(booking)) => {
            tracing::info!(booking_id = %booking.id, slot_id = %booking.slot_id, quantity = booking.quantity, "booking held");
            json_response(201, &booking, &correlation_id)
        }
        Ok(Created::Replayed(first)) => replayed(&first, &correlation_id),
        Err(err) => error_response(&err, &correlation_id),
    })
}

//! Settles the payment of a booking that ended, fed by `BookingCancelled`
//! and `BookingExpired`.
//!
//! - Paid (COMPLETED): refunds the share the booking context decided (the
//!   refund policy for a cancellation, all of it for an expiry or a failed
//!   saga): to the wallet in one transaction with its ledger entry, or to the
//!   card through the gateway; then REFUNDED with `PaymentRefunded`. A share
//!   of 0 leaves the payment as it is.
//! - Not paid yet: the payment is VOIDED, so a charge still in flight is
//!   refunded as soon as it lands instead of confirming anything.
//! - Failed, voided or refunded before: nothing.
//!
//! The payment's status is the condition of every write, and the gateway
//! refund's idempotency key is the booking's, so a redelivery refunds nothing
//! twice.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamo::payment::{DynamoPayments, Refunded, new_payment};
use shared::adapters::gateway::{CardGateway, RefundRequest};
use shared::booking::events::{BookingCancelled, BookingEnded, BookingExpired};
use shared::clock::{Clock, SystemClock};
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::{Payment, PaymentMethod, PaymentStatus, share};
use shared::{AppError, EventEnvelope, EventType};

pub struct Refunder<C: Clock = SystemClock> {
    pub payments: DynamoPayments,
    pub gateway: CardGateway,
    pub clock: C,
}

pub async fn handle(
    refunder: &Refunder<impl Clock>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| refunder.on_event(e)).await)
}

/// What a `BookingCancelled` or `BookingExpired` says; `None` for any other
/// event.
fn ended(event: &EventEnvelope) -> Result<Option<BookingEnded>, MessageError> {
    Ok(match event.event_type {
        EventType::BookingCancelled => Some(decode::<BookingCancelled>(event)?.0),
        EventType::BookingExpired => Some(decode::<BookingExpired>(event)?.0),
        _ => None,
    })
}

impl<C: Clock> Refunder<C> {
    async fn on_event(&self, event: EventEnvelope) -> Result<(), MessageError> {
        let Some(ended) = ended(&event)? else {
            tracing::warn!(event_type = %event.event_type, "not an event of this consumer; ignored");
            return Ok(());
        };
        let Some(method) = ended.payment else {
            return Ok(()); // a hold never asked to be paid
        };
        let now = self.clock.now();
        let payment = match self.payments.payment(&ended.booking_id).await? {
            Some(payment) => payment,
            None => {
                let unpaid = new_payment(
                    &ended.booking_id,
                    &ended.user_id,
                    method,
                    ended.price_cents,
                    now,
                );
                self.payments.void(&unpaid).await?
            }
        };
        if payment.status != PaymentStatus::Completed {
            tracing::info!(booking_id = %ended.booking_id, status = payment.status.as_str(), "nothing to refund");
            return Ok(());
        }
        let amount = share(payment.amount_cents, ended.refund_percent);
        if amount == 0 {
            tracing::info!(booking_id = %ended.booking_id, "no refund by policy");
            return Ok(());
        }
        let reason = format!("{}% refunded: {}", ended.refund_percent, ended.reason);
        let refunded = match payment.method {
            PaymentMethod::Wallet => {
                self.payments
                    .refund_to_wallet(&payment, amount, &reason, &event.correlation_id, now)
                    .await?
            }
            PaymentMethod::Card => self.refund_card(&payment, amount, &reason, &event).await?,
        };
        if let Refunded::Now(p) = refunded {
            tracing::info!(booking_id = %p.booking_id, refunded_cents = p.refunded_cents, "refunded");
        }
        Ok(())
    }

    async fn refund_card(
        &self,
        payment: &Payment,
        amount: u64,
        reason: &str,
        event: &EventEnvelope,
    ) -> Result<Refunded, MessageError> {
        let charge_id = payment.charge_id.clone().ok_or_else(|| {
            AppError::internal("refunding a card payment", "the payment has no charge id")
        })?;
        let request = RefundRequest {
            idempotency_key: format!("refund-{}", payment.booking_id),
            charge_id,
            amount_cents: amount,
        };
        self.gateway
            .refund(&request)
            .await
            .map_err(|e| MessageError::Unavailable(e.to_string()))?;
        let refunded = Payment {
            status: PaymentStatus::Refunded,
            refunded_cents: amount,
            updated_at: self.clock.now(),
            ..payment.clone()
        };
        Ok(self
            .payments
            .record_card_refund(
                &refunded,
                PaymentStatus::Completed,
                reason,
                &event.correlation_id,
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::consumer::envelope;

    #[test]
    fn ended_bookings_say_how_much_to_refund_and_how_they_were_paid() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/payment-refunder/sqs-booking-ended.json"
        ))
        .expect("fixture parses");
        let ended: Vec<BookingEnded> = batch
            .records
            .iter()
            .map(|m| ended(&envelope(m).unwrap()).unwrap().unwrap())
            .collect();
        assert_eq!(ended[0].refund_percent, 50);
        assert_eq!(ended[0].payment, Some(PaymentMethod::Wallet));
        assert_eq!(share(10_000, ended[0].refund_percent), 5_000);
        assert_eq!(ended[1].refund_percent, 100);
        assert_eq!(ended[1].payment, Some(PaymentMethod::Card));
        assert_eq!(
            ended[2].payment, None,
            "never asked to be paid: nothing to do"
        );
    }

    #[test]
    fn an_ended_booking_without_its_refund_share_is_refused_never_refunded_in_full() {
        let batch: SqsEvent = serde_json::from_str(include_str!(
            "../../../events/payment-refunder/sqs-booking-ended.json"
        ))
        .expect("fixture parses");
        for field in ["refund_percent", "price_cents", "payment"] {
            let mut event = envelope(&batch.records[0]).unwrap();
            event.data.as_object_mut().unwrap().remove(field);
            assert!(
                matches!(ended(&event), Err(MessageError::BadEvent(_))),
                "without {field}"
            );
        }
    }
}

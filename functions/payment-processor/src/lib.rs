//! Pays each booking that asks to be paid, fed by `BookingCreated`.
//!
//! - Wallet: the debit, its ledger entry, the payment and `PaymentCompleted`
//!   are one transaction; a short balance records `PaymentFailed`.
//! - Card: a charge through the gateway with the booking id as its
//!   idempotency key, then the payment and `PaymentCompleted` (or
//!   `PaymentFailed` for a declined card).
//!
//! A booking is paid at most once: the payment item is created once per
//! booking, and the gateway's idempotency key makes a repeated charge return
//! the first one. When the gateway is unavailable (its circuit open, or
//! timeouts and 5xx after the client's retries) the outcome of a charge is
//! unknown, so nothing is recorded: the message fails, SQS delivers it again
//! after the visibility timeout, and after `maxReceiveCount` receives it
//! waits in the dead-letter queue for a redrive. A charge that lands after
//! its booking ended is refunded at once.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent};
use shared::adapters::dynamo::payment::{DynamoPayments, new_payment};
use shared::adapters::gateway::{CardGateway, ChargeRequest, GatewayError, RefundRequest};
use shared::booking::events::BookingCreated;
use shared::clock::{Clock, SystemClock};
use shared::consumer::{MessageError, decode, each_event};
use shared::payment::{FailureReason, Payment, PaymentChoice, PaymentMethod, PaymentStatus};
use shared::{EventEnvelope, EventType};

pub struct Processor<C: Clock = SystemClock> {
    pub payments: DynamoPayments,
    pub gateway: CardGateway,
    pub clock: C,
}

pub async fn handle(
    processor: &Processor<impl Clock>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, Error> {
    Ok(each_event(&event.payload, |e| processor.on_event(e)).await)
}

impl<C: Clock> Processor<C> {
    async fn on_event(&self, event: EventEnvelope) -> Result<(), MessageError> {
        if event.event_type != EventType::BookingCreated {
            tracing::warn!(event_type = %event.event_type, "not an event of this consumer; ignored");
            return Ok(());
        }
        let order: BookingCreated = decode(&event)?;
        let Some(choice) = &order.payment else {
            return Ok(()); // a hold that waits for its payment
        };
        if let Some(existing) = self.payments.payment(&order.booking_id).await? {
            tracing::info!(booking_id = %order.booking_id, status = existing.status.as_str(), "already handled");
            return self.settle_stray_charge(existing, &event).await;
        }
        let now = self.clock.now();
        let payment = new_payment(
            &order.booking_id,
            &order.user_id,
            choice.method(),
            order.price_cents,
            now,
        );
        let outcome = match choice {
            PaymentChoice::Wallet => {
                if now >= order.hold_expires_at {
                    self.payments
                        .fail(&payment, FailureReason::HoldExpired, &event.correlation_id)
                        .await?
                } else {
                    self.payments
                        .pay_from_wallet(&payment, &event.correlation_id)
                        .await?
                }
            }
            PaymentChoice::Card { card_token } => {
                self.pay_by_card(&order, payment, card_token, &event, now)
                    .await?
            }
        };
        tracing::info!(
            booking_id = %order.booking_id,
            status = outcome.status.as_str(),
            failure = outcome.failure.map(FailureReason::as_str),
            "payment handled"
        );
        Ok(())
    }

    async fn pay_by_card(
        &self,
        order: &BookingCreated,
        payment: Payment,
        card_token: &str,
        event: &EventEnvelope,
        now: chrono::DateTime<Utc>,
    ) -> Result<Payment, MessageError> {
        let key = order.booking_id.to_string();
        let charged = if now >= order.hold_expires_at {
            // Too late to charge; but an earlier attempt whose answer was
            // lost may have charged, and that charge must be recorded.
            match self.gateway.find_charge(&key).await {
                Ok(Some(charge)) => Ok(charge),
                Ok(None) => {
                    return Ok(self
                        .payments
                        .fail(&payment, FailureReason::HoldExpired, &event.correlation_id)
                        .await?);
                }
                Err(e) => Err(e),
            }
        } else {
            let request = ChargeRequest {
                idempotency_key: key,
                amount_cents: order.price_cents,
                currency: order.currency.clone(),
                card_token: card_token.to_owned(),
            };
            self.gateway.charge(&request).await
        };
        let charge = match charged {
            Ok(charge) => charge,
            Err(GatewayError::Declined { .. }) => {
                return Ok(self
                    .payments
                    .fail(&payment, FailureReason::CardDeclined, &event.correlation_id)
                    .await?);
            }
            Err(GatewayError::Refused { status, code, .. }) => {
                tracing::error!(status, %code, "the gateway refused the charge");
                return Ok(self
                    .payments
                    .fail(
                        &payment,
                        FailureReason::GatewayRefused,
                        &event.correlation_id,
                    )
                    .await?);
            }
            Err(e @ GatewayError::Unavailable { .. }) => {
                return Err(MessageError::Unavailable(e.to_string()));
            }
        };
        let completed = Payment {
            charge_id: Some(charge.charge_id.clone()),
            ..payment
        };
        let recorded = self
            .payments
            .record_completed(&completed, &event.correlation_id)
            .await?;
        // Another outcome was recorded first (the booking ended, or a
        // concurrent delivery gave up): this charge must go back.
        if matches!(
            recorded.status,
            PaymentStatus::Voided | PaymentStatus::Failed
        ) {
            self.refund_late_charge(recorded.clone(), &charge.charge_id, event)
                .await?;
        }
        Ok(recorded)
    }

    /// A redelivered card payment whose booking ended first (VOIDED) or
    /// whose payment gave up (FAILED): an earlier attempt whose answer was
    /// lost may still have charged the card, and that charge goes back.
    async fn settle_stray_charge(
        &self,
        existing: Payment,
        event: &EventEnvelope,
    ) -> Result<(), MessageError> {
        let ended = matches!(
            existing.status,
            PaymentStatus::Voided | PaymentStatus::Failed
        );
        if !ended || existing.method != PaymentMethod::Card {
            return Ok(());
        }
        let charge = self
            .gateway
            .find_charge(existing.booking_id.as_str())
            .await
            .map_err(|e| MessageError::Unavailable(e.to_string()))?;
        match charge {
            Some(charge) if charge.refunded_cents < charge.amount_cents => {
                let existing = Payment {
                    amount_cents: charge.amount_cents,
                    ..existing
                };
                self.refund_late_charge(existing, &charge.charge_id, event)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// A charge that landed after another outcome was recorded (the booking
    /// ended and its payment was voided): the whole charge goes back.
    async fn refund_late_charge(
        &self,
        voided: Payment,
        charge_id: &str,
        event: &EventEnvelope,
    ) -> Result<(), MessageError> {
        let refund = RefundRequest {
            idempotency_key: format!("late-{}", voided.booking_id),
            charge_id: charge_id.to_owned(),
            amount_cents: voided.amount_cents,
        };
        self.gateway
            .refund(&refund)
            .await
            .map_err(|e| MessageError::Unavailable(e.to_string()))?;
        let from = voided.status;
        let refunded = Payment {
            charge_id: Some(charge_id.to_owned()),
            refunded_cents: voided.amount_cents,
            status: PaymentStatus::Refunded,
            updated_at: self.clock.now(),
            ..voided
        };
        self.payments
            .record_card_refund(
                &refunded,
                from,
                "charged after the booking ended",
                &event.correlation_id,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::consumer::envelope;

    fn fixture() -> SqsEvent {
        serde_json::from_str(include_str!(
            "../../../events/payment-processor/sqs-booking-created.json"
        ))
        .expect("fixture parses")
    }

    #[test]
    fn booking_created_events_carry_what_a_payment_needs() {
        let batch = fixture();
        let orders: Vec<BookingCreated> = batch.records[..3]
            .iter()
            .map(|m| decode(&envelope(m).unwrap()).unwrap())
            .collect();
        assert_eq!(orders[0].payment, Some(PaymentChoice::Wallet));
        assert_eq!(
            orders[1].payment,
            Some(PaymentChoice::Card {
                card_token: "tok_visa".into()
            })
        );
        assert_eq!(orders[2].payment, None, "a hold waiting for payment");
        assert!(orders.iter().all(|o| o.price_cents == 10_000));
    }

    #[tokio::test]
    async fn a_message_that_is_not_an_event_is_reported_for_the_dead_letter_queue() {
        let response = each_event(&fixture(), |event| async move {
            decode::<BookingCreated>(&event).map(|_| ())
        })
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["msg-poison"]);
    }
}

//! The payment side of the booking saga, generic over the ports in
//! [`super::ports`]: pay each booking that asks to be paid, and settle the
//! payment of each booking that ended.
//!
//! - Wallet: the debit, its ledger entry, the payment and `PaymentCompleted`
//!   are one transaction; a short balance records `PaymentFailed`.
//! - Card: a charge through the gateway with the booking id as its
//!   idempotency key, then the payment and `PaymentCompleted` (or
//!   `PaymentFailed` for a declined card).
//!
//! A booking is paid at most once: the payment is created once per booking,
//! and the gateway's idempotency key makes a repeated charge return the
//! first one. When the gateway is unavailable the outcome of a charge is
//! unknown, so nothing is recorded and the step fails with
//! `GATEWAY_UNAVAILABLE`: the message is delivered again, and after its
//! last receive waits in the dead-letter queue for a redrive. A charge that
//! lands after its booking ended is refunded at once.
//!
//! Settling an ended booking refunds the share its event names (to the
//! wallet, or to the card through the gateway), voids a payment not taken
//! yet, and does nothing for one that failed or was refunded before.

use chrono::{DateTime, Utc};

use super::card::{ChargeRequest, GatewayError, RefundRequest};
use super::ports::{CardPayments, PaymentStore, Refunded};
use super::{FailureReason, Payment, PaymentMethod, PaymentStatus, new_payment, refund_cents};
use crate::clock::Clock;
use crate::identity::UserId;
use crate::kernel::BookingId;
use crate::{AppError, EventEnvelope};

/// What paying a booking needs to know of it (the booking context tells
/// it in `BookingCreated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub price_cents: u64,
    pub currency: String,
    pub hold_expires_at: DateTime<Utc>,
    /// `None`: a hold that waits for its payment. A card's token is not
    /// here: it is read from the booking's payment intent.
    pub payment: Option<PaymentMethod>,
}

/// What settling an ended booking needs to know of it (the booking context
/// tells it in `BookingCancelled` and `BookingExpired`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub price_cents: u64,
    /// `None`: a hold never asked to be paid.
    pub payment: Option<PaymentMethod>,
    /// The share of the payment that goes back.
    pub refund_percent: u32,
    pub reason: String,
}

/// The card gateway could not tell: retry the step later.
fn unavailable(e: &GatewayError) -> AppError {
    AppError::Unavailable {
        code: "GATEWAY_UNAVAILABLE",
        message: e.to_string(),
    }
}

/// The payment context's saga steps, over its stores and the gateway.
#[derive(Debug)]
pub struct Payments<P, G, C> {
    pub store: P,
    pub cards: G,
    pub clock: C,
}

impl<P: PaymentStore, G: CardPayments, C: Clock> Payments<P, G, C> {
    /// Pays the booking `order` tells of, if it asked to be paid; the
    /// payment as recorded (`None` for a hold that waits for its payment).
    pub async fn pay(
        &self,
        order: &Order,
        event: &EventEnvelope,
    ) -> Result<Option<Payment>, AppError> {
        let Some(method) = order.payment else {
            return Ok(None);
        };
        if let Some(existing) = self.store.payment(&order.booking_id).await? {
            tracing::info!(booking_id = %order.booking_id, status = existing.status.as_str(), "already handled");
            self.settle_stray_charge(&existing, event).await?;
            return Ok(Some(existing));
        }
        let now = self.clock.now();
        let payment = new_payment(
            &order.booking_id,
            &order.user_id,
            method,
            order.price_cents,
            now,
        );
        let started = std::time::Instant::now();
        let outcome = match method {
            PaymentMethod::Wallet if now >= order.hold_expires_at => {
                self.store
                    .fail(&payment, FailureReason::HoldExpired, &event.correlation_id)
                    .await?
            }
            PaymentMethod::Wallet => {
                self.store
                    .pay_from_wallet(&payment, &event.correlation_id)
                    .await?
            }
            PaymentMethod::Card => {
                let outcome = self.pay_by_card(order, payment, event, now).await?;
                // The outcome is recorded: the card is needed no more.
                self.store.forget_card(&order.booking_id).await?;
                outcome
            }
        };
        tracing::info!(
            booking_id = %order.booking_id,
            status = outcome.status.as_str(),
            failure = outcome.failure.map(FailureReason::as_str),
            "payment handled"
        );
        let method = match method {
            PaymentMethod::Wallet => "wallet",
            PaymentMethod::Card => "card",
        };
        let result = outcome
            .failure
            .map_or(outcome.status.as_str(), FailureReason::as_str);
        crate::telemetry::payment(method, result, started.elapsed());
        Ok(Some(outcome))
    }

    async fn pay_by_card(
        &self,
        order: &Order,
        payment: Payment,
        event: &EventEnvelope,
        now: DateTime<Utc>,
    ) -> Result<Payment, AppError> {
        let key = order.booking_id.to_string();
        let correlation_id = &event.correlation_id;
        let charged = if now >= order.hold_expires_at {
            // Too late to charge; but an earlier attempt whose answer was
            // lost may have charged, and that charge must be recorded.
            match self.cards.find_charge(&key).await {
                Ok(Some(charge)) => Ok(charge),
                Ok(None) => {
                    return self
                        .store
                        .fail(&payment, FailureReason::HoldExpired, correlation_id)
                        .await;
                }
                Err(e) => Err(e),
            }
        } else {
            let Some(card) = self.store.card_of(&order.booking_id).await? else {
                tracing::error!(booking_id = %order.booking_id, "no payment intent for a card booking");
                return self
                    .store
                    .fail(&payment, FailureReason::CardMissing, correlation_id)
                    .await;
            };
            let request = ChargeRequest {
                idempotency_key: key,
                amount_cents: order.price_cents,
                currency: order.currency.clone(),
                card_token: card.expose().to_owned(),
            };
            self.cards.charge(&request).await
        };
        let charge = match charged {
            Ok(charge) => charge,
            Err(GatewayError::Declined { .. }) => {
                return self
                    .store
                    .fail(&payment, FailureReason::CardDeclined, correlation_id)
                    .await;
            }
            Err(GatewayError::Refused { status, code, .. }) => {
                tracing::error!(status, %code, "the gateway refused the charge");
                return self
                    .store
                    .fail(&payment, FailureReason::GatewayRefused, correlation_id)
                    .await;
            }
            Err(e @ GatewayError::Unavailable { .. }) => return Err(unavailable(&e)),
        };
        let completed = Payment {
            charge_id: Some(charge.charge_id.clone()),
            ..payment
        };
        let recorded = self
            .store
            .record_completed(&completed, correlation_id)
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
        existing: &Payment,
        event: &EventEnvelope,
    ) -> Result<(), AppError> {
        let ended = matches!(
            existing.status,
            PaymentStatus::Voided | PaymentStatus::Failed
        );
        if !ended || existing.method != PaymentMethod::Card {
            return Ok(());
        }
        let charge = self
            .cards
            .find_charge(existing.booking_id.as_str())
            .await
            .map_err(|e| unavailable(&e))?;
        match charge {
            Some(charge) if charge.refunded_cents < charge.amount_cents => {
                let existing = Payment {
                    amount_cents: charge.amount_cents,
                    ..existing.clone()
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
    ) -> Result<(), AppError> {
        let refund = RefundRequest {
            idempotency_key: format!("late-{}", voided.booking_id),
            charge_id: charge_id.to_owned(),
            amount_cents: voided.amount_cents,
        };
        self.cards
            .refund(&refund)
            .await
            .map_err(|e| unavailable(&e))?;
        let from = voided.status;
        let refunded = Payment {
            charge_id: Some(charge_id.to_owned()),
            refunded_cents: voided.amount_cents,
            status: PaymentStatus::Refunded,
            updated_at: self.clock.now(),
            ..voided
        };
        self.store
            .record_card_refund(
                &refunded,
                from,
                "charged after the booking ended",
                &event.correlation_id,
            )
            .await?;
        Ok(())
    }

    /// Settles the payment of a booking that ended: refunds the share its
    /// event names of a COMPLETED payment (nothing for a share of 0), voids
    /// one not taken yet, leaves any other as it is. What was refunded, if
    /// anything was now.
    pub async fn settle(
        &self,
        ended: &Ended,
        event: &EventEnvelope,
    ) -> Result<Option<Payment>, AppError> {
        let Some(method) = ended.payment else {
            return Ok(None); // a hold never asked to be paid
        };
        let now = self.clock.now();
        let payment = match self.store.payment(&ended.booking_id).await? {
            Some(payment) => payment,
            None => {
                let unpaid = new_payment(
                    &ended.booking_id,
                    &ended.user_id,
                    method,
                    ended.price_cents,
                    now,
                );
                self.store.void(&unpaid).await?
            }
        };
        if payment.status != PaymentStatus::Completed {
            tracing::info!(booking_id = %ended.booking_id, status = payment.status.as_str(), "nothing to refund");
            return Ok(None);
        }
        let amount = refund_cents(&payment, ended.refund_percent);
        if amount == 0 {
            tracing::info!(booking_id = %ended.booking_id, "no refund by policy");
            return Ok(None);
        }
        let reason = format!("{}% refunded: {}", ended.refund_percent, ended.reason);
        let refunded = match payment.method {
            PaymentMethod::Wallet => {
                self.store
                    .refund_to_wallet(&payment, amount, &reason, &event.correlation_id, now)
                    .await?
            }
            PaymentMethod::Card => self.refund_card(&payment, amount, &reason, event).await?,
        };
        Ok(match refunded {
            Refunded::Now(p) => {
                tracing::info!(booking_id = %p.booking_id, refunded_cents = p.refunded_cents, "refunded");
                Some(p)
            }
            Refunded::Before => None,
        })
    }

    async fn refund_card(
        &self,
        payment: &Payment,
        amount: u64,
        reason: &str,
        event: &EventEnvelope,
    ) -> Result<Refunded, AppError> {
        let charge_id = payment.charge_id.clone().ok_or_else(|| {
            AppError::internal("refunding a card payment", "the payment has no charge id")
        })?;
        let request = RefundRequest {
            idempotency_key: format!("refund-{}", payment.booking_id),
            charge_id,
            amount_cents: amount,
        };
        self.cards
            .refund(&request)
            .await
            .map_err(|e| unavailable(&e))?;
        let refunded = Payment {
            status: PaymentStatus::Refunded,
            refunded_cents: amount,
            updated_at: self.clock.now(),
            ..payment.clone()
        };
        self.store
            .record_card_refund(
                &refunded,
                PaymentStatus::Completed,
                reason,
                &event.correlation_id,
            )
            .await
    }
}

//! The payment of each booking: created once, then moved by conditions on
//! its status; a refund happens once.

use super::wallet::{Moved, Movement};
use super::*;

impl DynamoPayments {
    /// The payment of a booking, if one was recorded.
    pub async fn payment(&self, booking: &BookingId) -> Result<Option<Payment>, AppError> {
        get_consistent(&self.client, &self.table, payment_pk(booking), "PAYMENT")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, PaymentItem>(i)
                    .map(|p| p.payment)
                    .map_err(|e| AppError::internal("decoding a payment", e))
            })
            .transpose()
    }

    async fn existing(&self, booking: &BookingId) -> Result<Payment, AppError> {
        self.payment(booking).await?.ok_or_else(|| {
            AppError::internal(
                "reading a payment",
                "the payment's condition failed but it is gone",
            )
        })
    }

    fn payment_event(
        &self,
        event: &impl Event,
        correlation_id: &CorrelationId,
    ) -> Result<TransactWriteItem, AppError> {
        let event = EventEnvelope::of(event, correlation_id.clone())
            .map_err(|e| AppError::internal("encoding a payment event", e))?;
        self.outbox(&event)
    }

    /// Pays a booking from its owner's wallet: the debit, its ledger entry,
    /// the payment and `PaymentCompleted` in one transaction. A balance that
    /// does not cover it records the payment FAILED with `PaymentFailed`.
    /// Either way, a booking that already has a payment (a redelivery, or a
    /// void because the booking ended) gets that payment back unchanged.
    pub async fn pay_from_wallet(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let amount = i64::try_from(payment.amount_cents)
            .map_err(|e| AppError::internal("paying from a wallet", e))?;
        let movement = Movement {
            user: &payment.user_id,
            points: -amount,
            kind: LedgerKind::Payment,
            booking: Some(&payment.booking_id),
            credit: None,
            now: payment.created_at,
        };
        let completed = Payment {
            status: PaymentStatus::Completed,
            ..payment.clone()
        };
        let extra = |_: &LedgerEntry| {
            Ok(vec![
                put_write(
                    &self.table,
                    PaymentItem::new(&completed),
                    Some("attribute_not_exists(PK)"),
                )?,
                self.payment_event(
                    &PaymentCompleted {
                        payment: PaymentFacts::of(&completed),
                    },
                    correlation_id,
                )?,
            ])
        };
        if let Some(existing) = self.payment(&payment.booking_id).await? {
            return Ok(existing);
        }
        match self.move_points(&movement, &extra).await? {
            Moved::Done(_) => Ok(completed),
            Moved::Refused => self.existing(&payment.booking_id).await,
            Moved::Short => {
                self.fail(payment, FailureReason::InsufficientFunds, correlation_id)
                    .await
            }
        }
    }

    /// Records a payment taken outside the wallet (a card charge) with
    /// `PaymentCompleted`, unless the booking already has a payment (then
    /// that one is returned: a VOIDED one means the charge must go back).
    pub async fn record_completed(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let completed = PaymentCompleted {
            payment: PaymentFacts::of(payment),
        };
        self.create(payment, &completed, correlation_id).await
    }

    /// Records a failed payment with `PaymentFailed` (the booking saga then
    /// releases the booking), unless the booking already has a payment.
    pub async fn fail(
        &self,
        payment: &Payment,
        reason: FailureReason,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let failed = Payment {
            status: PaymentStatus::Failed,
            failure: Some(reason),
            ..payment.clone()
        };
        let event = PaymentFailed {
            payment: PaymentFacts::of(&failed),
            reason,
            message: reason.explain().to_owned(),
        };
        self.create(&failed, &event, correlation_id).await
    }

    /// Marks a booking that ended before it was paid, so that no payment of
    /// it can be taken later. No event: nothing moved.
    pub async fn void(&self, payment: &Payment) -> Result<Payment, AppError> {
        let voided = Payment {
            status: PaymentStatus::Voided,
            ..payment.clone()
        };
        let put = put_write(
            &self.table,
            PaymentItem::new(&voided),
            Some("attribute_not_exists(PK)"),
        )?;
        match transact_write(&self.client, vec![put]).await {
            Ok(()) => Ok(voided),
            Err(e) if cancellation_codes(&e).is_some_and(|c| c[0] == "ConditionalCheckFailed") => {
                self.existing(&payment.booking_id).await
            }
            Err(e) => Err(transaction_error("voiding a payment", e)),
        }
    }

    async fn create(
        &self,
        payment: &Payment,
        event: &impl Event,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        let items = vec![
            put_write(
                &self.table,
                PaymentItem::new(payment),
                Some("attribute_not_exists(PK)"),
            )?,
            self.payment_event(event, correlation_id)?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(payment.clone()),
            Err(e) if cancellation_codes(&e).is_some_and(|c| c[0] == "ConditionalCheckFailed") => {
                self.existing(&payment.booking_id).await
            }
            Err(e) => Err(transaction_error("recording a payment", e)),
        }
    }

    /// Gives `amount_cents` of a completed wallet payment back to the wallet:
    /// the payment REFUNDED, the credit and its ledger entry, and
    /// `PaymentRefunded`, in one transaction conditional on the payment
    /// still being COMPLETED, so a refund happens once.
    pub async fn refund_to_wallet(
        &self,
        payment: &Payment,
        amount_cents: u64,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Refunded, AppError> {
        let points = i64::try_from(amount_cents)
            .map_err(|e| AppError::internal("refunding to a wallet", e))?;
        let movement = Movement {
            user: &payment.user_id,
            points,
            kind: LedgerKind::Refund,
            booking: Some(&payment.booking_id),
            credit: None,
            now,
        };
        let refunded = Payment {
            status: PaymentStatus::Refunded,
            refunded_cents: amount_cents,
            updated_at: now,
            ..payment.clone()
        };
        let extra = |_: &LedgerEntry| {
            Ok(vec![
                self.mark_refunded(&refunded, PaymentStatus::Completed)?,
                self.payment_event(
                    &PaymentRefunded {
                        payment: PaymentFacts::of(&refunded),
                        reason: reason.to_owned(),
                    },
                    correlation_id,
                )?,
            ])
        };
        match self.move_points(&movement, &extra).await? {
            Moved::Done(_) => Ok(Refunded::Now(refunded)),
            Moved::Refused => Ok(Refunded::Before),
            Moved::Short => Err(AppError::internal(
                "refunding to a wallet",
                "the balance would overflow",
            )),
        }
    }

    /// Records a refund made at the card gateway: the payment REFUNDED (from
    /// `from`: COMPLETED, or VOIDED for a charge that landed after its
    /// booking ended) and `PaymentRefunded`, once.
    pub async fn record_card_refund(
        &self,
        refunded: &Payment,
        from: PaymentStatus,
        reason: &str,
        correlation_id: &CorrelationId,
    ) -> Result<Refunded, AppError> {
        let items = vec![
            self.mark_refunded(refunded, from)?,
            self.payment_event(
                &PaymentRefunded {
                    payment: PaymentFacts::of(refunded),
                    reason: reason.to_owned(),
                },
                correlation_id,
            )?,
        ];
        match transact_write(&self.client, items).await {
            Ok(()) => Ok(Refunded::Now(refunded.clone())),
            Err(e) if cancellation_codes(&e).is_some_and(|c| c[0] == "ConditionalCheckFailed") => {
                Ok(Refunded::Before)
            }
            Err(e) => Err(transaction_error("recording a refund", e)),
        }
    }

    fn mark_refunded(
        &self,
        refunded: &Payment,
        from: PaymentStatus,
    ) -> Result<TransactWriteItem, AppError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(payment_pk(&refunded.booking_id)))
            .key(keys::SK, s("PAYMENT"))
            .update_expression(
                "SET #status = :refunded, refunded_cents = :cents, amount_cents = :amount, \
                 updated_at = :now",
            )
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":refunded", s(PaymentStatus::Refunded.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":cents", n(refunded.refunded_cents))
            .expression_attribute_values(":amount", n(refunded.amount_cents))
            .expression_attribute_values(":now", s(refunded.updated_at.to_rfc3339()));
        if let Some(charge) = &refunded.charge_id {
            update = update
                .update_expression(
                    "SET #status = :refunded, refunded_cents = :cents, amount_cents = :amount, \
                     updated_at = :now, charge_id = :charge",
                )
                .expression_attribute_values(":charge", s(charge.clone()));
        }
        let update = update
            .build()
            .map_err(|e| AppError::internal("building the refund update", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

impl PaymentStore for DynamoPayments {
    async fn payment(&self, booking: &BookingId) -> Result<Option<Payment>, AppError> {
        DynamoPayments::payment(self, booking).await
    }

    async fn card_of(&self, booking: &BookingId) -> Result<Option<CardToken>, AppError> {
        get_consistent(&self.client, &self.table, payment_pk(booking), "INTENT")
            .await?
            .map(|i| {
                serde_dynamo::from_item::<_, IntentItem>(i)
                    .map(|intent| intent.card_token)
                    .map_err(|e| AppError::internal("decoding a payment intent", e))
            })
            .transpose()
    }

    async fn forget_card(&self, booking: &BookingId) -> Result<(), AppError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(payment_pk(booking)))
            .key(keys::SK, s("INTENT"))
            .send()
            .await
            .map_err(|e| AppError::internal("deleting a payment intent", e))?;
        Ok(())
    }

    async fn pay_from_wallet(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        DynamoPayments::pay_from_wallet(self, payment, correlation_id).await
    }

    async fn record_completed(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        DynamoPayments::record_completed(self, payment, correlation_id).await
    }

    async fn fail(
        &self,
        payment: &Payment,
        reason: FailureReason,
        correlation_id: &CorrelationId,
    ) -> Result<Payment, AppError> {
        DynamoPayments::fail(self, payment, reason, correlation_id).await
    }

    async fn void(&self, payment: &Payment) -> Result<Payment, AppError> {
        DynamoPayments::void(self, payment).await
    }

    async fn refund_to_wallet(
        &self,
        payment: &Payment,
        amount_cents: u64,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> Result<Refunded, AppError> {
        DynamoPayments::refund_to_wallet(self, payment, amount_cents, reason, correlation_id, now)
            .await
    }

    async fn record_card_refund(
        &self,
        refunded: &Payment,
        from: PaymentStatus,
        reason: &str,
        correlation_id: &CorrelationId,
    ) -> Result<Refunded, AppError> {
        DynamoPayments::record_card_refund(self, refunded, from, reason, correlation_id).await
    }
}

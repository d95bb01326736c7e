//! Wallets, ledgers and payments in the platform table.
//!
//! | item                 | PK                                 | SK                   |
//! |----------------------|------------------------------------|----------------------|
//! | wallet               | `WALLET#<uid>`                     | WALLET               |
//! | ledger entry         | `WALLET#<uid>`                     | `LEDGER#<uuid v7>`   |
//! | payment of a booking | `PAYMENT#<booking id>`             | PAYMENT              |
//! | top-up idempotency   | `IDEMPOTENCY#WALLET#<uid>#<key>`   | IDEMPOTENCY          |
//!
//! Every balance change is one transaction: the wallet (conditional on the
//! balance read, so concurrent changes retry instead of losing one), a new
//! ledger entry, and the event. The balance never goes below zero and always
//! equals the sum of the ledger. A payment item is created once per booking
//! (`attribute_not_exists`), so a booking is never charged twice, whatever
//! the redeliveries.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    cancellation_codes, get_consistent, keys, n, outbox_write, put_write, s, stored_answer,
    transact_write, transaction_error,
};
use crate::events::Event;
use crate::identity::UserId;
use crate::kernel::BookingId;
use crate::payment::events::{
    PaymentCompleted, PaymentFacts, PaymentFailed, PaymentRefunded, WalletCharged,
};
pub use crate::payment::new_payment;
pub use crate::payment::ports::Refunded;
use crate::payment::ports::{PaymentStore, TopUpOrder, WalletStore};
use crate::payment::{
    FailureReason, LedgerEntry, LedgerKind, MAX_BALANCE, Payment, PaymentStatus, WalletView,
};
use crate::{AppError, CorrelationId, EventEnvelope, EventSource};

/// How often a balance change is tried again when another change of the
/// same wallet won the race.
const BALANCE_ATTEMPTS: u32 = 8;
const IDEMPOTENCY_HOURS: i64 = 24;

fn wallet_pk(user: &UserId) -> String {
    format!("WALLET#{user}")
}

fn payment_pk(booking: &BookingId) -> String {
    format!("PAYMENT#{booking}")
}

#[derive(Debug, Serialize, Deserialize)]
struct LedgerItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: LedgerEntry,
}

#[derive(Debug, Serialize, Deserialize)]
struct PaymentItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    payment: Payment,
}

impl PaymentItem {
    fn new(payment: &Payment) -> Self {
        Self {
            pk: payment_pk(&payment.booking_id),
            sk: "PAYMENT".into(),
            entity: "PAYMENT".into(),
            payment: payment.clone(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TopUpRecord {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    fingerprint: String,
    response: String,
    expires_at: i64,
}

pub use crate::payment::ports::ToppedUp;

/// A balance change: which wallet, by how much, why.
struct Movement<'a> {
    user: &'a UserId,
    points: i64,
    kind: LedgerKind,
    booking: Option<&'a BookingId>,
    now: DateTime<Utc>,
}

impl Movement<'_> {
    /// Only top-ups are held to [`MAX_BALANCE`]: a refund always goes back.
    fn capped(&self) -> bool {
        self.kind == LedgerKind::TopUp
    }
}

/// The transaction items of one balance change besides the wallet's own,
/// given the entry it writes.
type Extra<'a> =
    dyn Fn(&LedgerEntry) -> Result<Vec<TransactWriteItem>, AppError> + Send + Sync + 'a;

/// What a balance change led to.
enum Moved {
    Done(LedgerEntry),
    /// The balance does not cover the change.
    Short,
    /// One of the extra items' conditions failed.
    Refused,
}

/// The payment context's items.
#[derive(Debug, Clone)]
pub struct DynamoPayments {
    client: Client,
    table: String,
}

impl DynamoPayments {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn outbox(&self, event: &EventEnvelope) -> Result<TransactWriteItem, AppError> {
        outbox_write(&self.table, EventSource::Payment, event)
    }

    /// The wallet's balance: 0 for a wallet never charged.
    async fn balance(&self, user: &UserId) -> Result<Option<u64>, AppError> {
        let Some(item) =
            get_consistent(&self.client, &self.table, wallet_pk(user), "WALLET").await?
        else {
            return Ok(None);
        };
        item.get("balance")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .map(Some)
            .ok_or_else(|| AppError::internal("reading a wallet", "the balance is not a number"))
    }

    /// Moves `movement.points` in or out of a wallet with a ledger entry and
    /// `extra` items, in one transaction conditional on the balance read.
    /// A change that lost a race with another change of the same wallet is
    /// tried again on the new balance.
    async fn move_points(
        &self,
        movement: &Movement<'_>,
        extra: &Extra<'_>,
    ) -> Result<Moved, AppError> {
        for attempt in 0..BALANCE_ATTEMPTS {
            let old = self.balance(movement.user).await?;
            let current = old.unwrap_or(0);
            let Some(after) = current
                .checked_add_signed(movement.points)
                .filter(|after| !movement.capped() || *after <= MAX_BALANCE)
            else {
                return Ok(Moved::Short);
            };
            let entry = LedgerEntry {
                entry_id: uuid::Uuid::now_v7().to_string(),
                kind: movement.kind,
                points: movement.points,
                balance_after: after,
                booking_id: movement.booking.cloned(),
                at: movement.now,
            };
            let mut wallet = Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(wallet_pk(movement.user)))
                .key(keys::SK, s("WALLET"))
                .update_expression(
                    "SET balance = :after, user_id = :user, entity = :entity, updated_at = :now",
                )
                .expression_attribute_values(":after", n(after))
                .expression_attribute_values(":user", s(movement.user.to_string()))
                .expression_attribute_values(":entity", s("WALLET"))
                .expression_attribute_values(":now", s(movement.now.to_rfc3339()));
            wallet = match old {
                Some(balance) => wallet
                    .condition_expression("balance = :before")
                    .expression_attribute_values(":before", n(balance)),
                None => wallet.condition_expression("attribute_not_exists(PK)"),
            };
            let wallet = wallet
                .build()
                .map_err(|e| AppError::internal("building the wallet update", e))?;
            let ledger = LedgerItem {
                pk: wallet_pk(movement.user),
                sk: format!("LEDGER#{}", entry.entry_id),
                entity: "LEDGER_ENTRY".into(),
                entry: entry.clone(),
            };
            let mut items = vec![
                TransactWriteItem::builder().update(wallet).build(),
                put_write(&self.table, ledger, Some("attribute_not_exists(PK)"))?,
            ];
            items.extend(extra(&entry)?);
            let err = match transact_write(&self.client, items).await {
                Ok(()) => return Ok(Moved::Done(entry)),
                Err(e) => e,
            };
            let Some(codes) = cancellation_codes(&err) else {
                return Err(transaction_error("moving points", err));
            };
            let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
            if (2..codes.len()).any(failed) {
                return Ok(Moved::Refused);
            }
            if !failed(0) {
                return Err(transaction_error("moving points", err));
            }
            tracing::debug!(attempt, "the wallet changed meanwhile; trying again");
            tokio::time::sleep(crate::retry::backoff_with_jitter(
                attempt,
                std::time::Duration::from_millis(10),
                std::time::Duration::from_millis(200),
            ))
            .await;
        }
        Err(AppError::Unavailable {
            code: "CONTENTION",
            message: "this wallet is busy right now; try again".into(),
        })
    }

    /// Adds `points` to the caller's wallet (`POST /wallet/charge`), once per
    /// idempotency key, with `WalletCharged`.
    async fn add_points(&self, order: &TopUpOrder<'_>) -> Result<ToppedUp, AppError> {
        let TopUpOrder {
            user,
            key,
            fingerprint,
            points,
            correlation_id,
            now,
        } = *order;
        let record_pk = format!("IDEMPOTENCY#WALLET#{user}#{}", key.as_str());
        if let Some(replay) = self.replay(&record_pk, fingerprint).await? {
            return Ok(replay);
        }
        let movement = Movement {
            user,
            points: i64::try_from(points.get()).unwrap_or(i64::MAX),
            kind: LedgerKind::TopUp,
            booking: None,
            now,
        };
        let extra = |entry: &LedgerEntry| {
            let record = TopUpRecord {
                pk: record_pk.clone(),
                sk: "IDEMPOTENCY".into(),
                entity: "IDEMPOTENCY".into(),
                fingerprint: fingerprint.to_owned(),
                response: serde_json::to_string(entry)
                    .map_err(|e| AppError::internal("encoding a ledger entry", e))?,
                expires_at: (now + Duration::hours(IDEMPOTENCY_HOURS)).timestamp(),
            };
            let charged = WalletCharged {
                user_id: user.clone(),
                entry_id: entry.entry_id.clone(),
                points: points.get(),
                balance: entry.balance_after,
            };
            let event = EventEnvelope::of(&charged, correlation_id.clone())
                .map_err(|e| AppError::internal("encoding WalletCharged", e))?;
            Ok(vec![
                put_write(&self.table, record, Some("attribute_not_exists(PK)"))?,
                self.outbox(&event)?,
            ])
        };
        match self.move_points(&movement, &extra).await? {
            Moved::Done(entry) => Ok(ToppedUp::New(entry)),
            Moved::Short => Err(AppError::conflict(
                "BALANCE_LIMIT",
                format!("a wallet holds at most {MAX_BALANCE} points"),
            )),
            Moved::Refused => self.replay(&record_pk, fingerprint).await?.ok_or_else(|| {
                AppError::internal("replaying a top-up", "idempotency record vanished")
            }),
        }
    }

    async fn replay(&self, pk: &str, fingerprint: &str) -> Result<Option<ToppedUp>, AppError> {
        Ok(stored_answer(&self.client, &self.table, pk, fingerprint)
            .await?
            .map(ToppedUp::Replayed))
    }

    /// The caller's balance and one page of the ledger, newest first.
    async fn wallet_page(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        let start = cursor
            .map(|c| {
                uuid::Uuid::parse_str(c).map_err(|_| {
                    AppError::validation("INVALID_CURSOR", "cursor is not one this API returned")
                })
            })
            .transpose()?
            .map(|id| {
                HashMap::from([
                    (keys::PK.to_owned(), s(wallet_pk(user))),
                    (keys::SK.to_owned(), s(format!("LEDGER#{id}"))),
                ])
            });
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :ledger)")
            .expression_attribute_values(":pk", s(wallet_pk(user)))
            .expression_attribute_values(":ledger", s("LEDGER#"))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(100))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AppError::internal("reading a ledger", e))?;
        let ledger = page
            .items()
            .iter()
            .map(|i| {
                serde_dynamo::from_item::<_, LedgerItem>(i.clone())
                    .map(|l| l.entry)
                    .map_err(|e| AppError::internal("decoding a ledger entry", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = page
            .last_evaluated_key()
            .and(ledger.last())
            .map(|last| last.entry_id.clone());
        // On the first page the balance is the newest entry's balance_after:
        // every balance change writes its entry in the same transaction, so
        // the balance and the page come from one read and always agree (a
        // second read of the wallet could already see a later change).
        let balance = match (cursor, ledger.first()) {
            (None, Some(newest)) => newest.balance_after,
            _ => self.balance(user).await?.unwrap_or(0),
        };
        Ok(WalletView {
            user_id: user.clone(),
            balance,
            ledger,
            next_cursor,
        })
    }

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

/// Items of the payment context read back for reconciliation and tests.
pub fn ledger_sum(entries: &[LedgerEntry]) -> i64 {
    entries.iter().map(|e| e.points).sum()
}

impl PaymentStore for DynamoPayments {
    async fn payment(&self, booking: &BookingId) -> Result<Option<Payment>, AppError> {
        DynamoPayments::payment(self, booking).await
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

impl WalletStore for DynamoPayments {
    async fn top_up(&self, order: &TopUpOrder<'_>) -> Result<ToppedUp, AppError> {
        self.add_points(order).await
    }

    async fn wallet(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<WalletView, AppError> {
        self.wallet_page(user, limit, cursor).await
    }
}

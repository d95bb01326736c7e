//! The payment context's ports: wallets (top-ups and the ledger view), the
//! payments of bookings with their refunds, and card payments at the
//! gateway. The DynamoDB adapter
//! ([`crate::adapters::dynamo::payment::DynamoPayments`]), the HTTP gateway
//! (`adapters::gateway::CardGateway`) and the in-memory twins
//! ([`crate::adapters::memory::MemoryWallets`],
//! [`crate::adapters::memory::MemoryCards`]) implement them.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::card::{Charge, ChargeRequest, GatewayError, Refund, RefundRequest};
use super::{CardToken, FailureReason, LedgerEntry, Payment, PaymentStatus, TopUp, WalletView};
use crate::identity::UserId;
use crate::kernel::{BookingId, IdempotencyKey};
use crate::{AppError, CorrelationId};

/// What a top-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToppedUp {
    New(LedgerEntry),
    /// The same key and amount were sent before: the first answer, verbatim.
    Replayed(String),
}

/// Where credited points come from. There is no other way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credit<'a> {
    /// A card charge the gateway confirmed.
    Card { charge_id: &'a str },
    /// An administrator's goodwill grant.
    Grant { by: &'a UserId, reason: &'a str },
}

/// One credit of a wallet, as the wallet store records it.
#[derive(Debug, Clone, Copy)]
pub struct CreditOrder<'a> {
    /// Whose wallet.
    pub user: &'a UserId,
    /// The idempotency key of whoever asked: the customer's for a top-up,
    /// the administrator's for a grant.
    pub key: &'a IdempotencyKey,
    /// [`crate::kernel::fingerprint`] of the request.
    pub fingerprint: &'a str,
    pub points: TopUp,
    pub credit: Credit<'a>,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
}

impl CreditOrder<'_> {
    /// The partition of the idempotency record: keys are the asker's own.
    pub fn record_key(&self) -> String {
        match self.credit {
            Credit::Card { .. } => {
                format!("IDEMPOTENCY#WALLET#{}#{}", self.user, self.key.as_str())
            }
            Credit::Grant { by, .. } => format!("IDEMPOTENCY#GRANT#{by}#{}", self.key.as_str()),
        }
    }
}

pub trait WalletStore: Send + Sync {
    /// The first answer of the order's key, if it credited before; a key
    /// used with another fingerprint is `IDEMPOTENCY_KEY_REUSED` (422).
    fn answer(
        &self,
        order: &CreditOrder<'_>,
    ) -> impl Future<Output = Result<Option<String>, AppError>> + Send;

    /// Adds points with a ledger entry and its event (`WalletCharged` for
    /// a card top-up, `AdminActivity` for a grant), in one transaction
    /// with the key's idempotency record: the same key and fingerprint
    /// again answer the first answer (`Replayed`), the same key with
    /// another fingerprint is `IDEMPOTENCY_KEY_REUSED` (422), and a wallet
    /// past `MAX_BALANCE` is `BALANCE_LIMIT` (409).
    fn credit(
        &self,
        order: &CreditOrder<'_>,
    ) -> impl Future<Output = Result<ToppedUp, AppError>> + Send;

    /// The user's balance and one page of the ledger, newest first; on the
    /// first page the balance is the newest entry's `balance_after`.
    fn wallet(
        &self,
        user: &UserId,
        limit: u32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<WalletView, AppError>> + Send;
}

/// What a refund led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Refunded {
    Now(Payment),
    /// A redelivery: the payment was refunded before.
    Before,
}

/// The payments of bookings. A booking has at most one payment, created
/// once: every write that creates one is conditional on there being none,
/// and answers the existing one when there is; every later change is
/// conditional on its status.
pub trait PaymentStore: Send + Sync {
    /// The payment of a booking, if one was recorded.
    fn payment(
        &self,
        booking: &BookingId,
    ) -> impl Future<Output = Result<Option<Payment>, AppError>> + Send;

    /// The card a booking asked to be charged, from its payment intent
    /// (written with the hold); `None` once it is gone.
    fn card_of(
        &self,
        booking: &BookingId,
    ) -> impl Future<Output = Result<Option<CardToken>, AppError>> + Send;

    /// Deletes a booking's payment intent once its outcome is recorded.
    fn forget_card(&self, booking: &BookingId)
    -> impl Future<Output = Result<(), AppError>> + Send;

    /// Pays a booking from its owner's wallet: the debit, its ledger entry,
    /// the payment and `PaymentCompleted` in one transaction. A balance that
    /// does not cover it records the payment FAILED with `PaymentFailed`.
    fn pay_from_wallet(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> impl Future<Output = Result<Payment, AppError>> + Send;

    /// Records a payment taken outside the wallet (a card charge) with
    /// `PaymentCompleted`; a VOIDED answer means the charge must go back.
    fn record_completed(
        &self,
        payment: &Payment,
        correlation_id: &CorrelationId,
    ) -> impl Future<Output = Result<Payment, AppError>> + Send;

    /// Records a failed payment with `PaymentFailed`.
    fn fail(
        &self,
        payment: &Payment,
        reason: FailureReason,
        correlation_id: &CorrelationId,
    ) -> impl Future<Output = Result<Payment, AppError>> + Send;

    /// Marks a booking that ended before it was paid, so that no payment of
    /// it can be taken later. No event: nothing moved.
    fn void(&self, payment: &Payment) -> impl Future<Output = Result<Payment, AppError>> + Send;

    /// Gives `amount_cents` of a completed wallet payment back: the payment
    /// REFUNDED, the credit and its ledger entry, and `PaymentRefunded`, in
    /// one transaction conditional on the payment still being COMPLETED.
    fn refund_to_wallet(
        &self,
        payment: &Payment,
        amount_cents: u64,
        reason: &str,
        correlation_id: &CorrelationId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Refunded, AppError>> + Send;

    /// Records a refund made at the card gateway: the payment REFUNDED from
    /// `from` and `PaymentRefunded`, once.
    fn record_card_refund(
        &self,
        refunded: &Payment,
        from: PaymentStatus,
        reason: &str,
        correlation_id: &CorrelationId,
    ) -> impl Future<Output = Result<Refunded, AppError>> + Send;
}

/// Card payments at the gateway. Every call carries an idempotency key, so
/// a retry never charges or refunds twice. [`GatewayError::Unavailable`]
/// after a charge means the outcome is unknown: ask
/// [`CardPayments::find_charge`] or retry with the same key.
pub trait CardPayments: Send + Sync {
    /// Charges a card; a replayed key answers the earlier charge.
    fn charge(
        &self,
        request: &ChargeRequest,
    ) -> impl Future<Output = Result<Charge, GatewayError>> + Send;

    /// Refunds part or all of a charge.
    fn refund(
        &self,
        request: &RefundRequest,
    ) -> impl Future<Output = Result<Refund, GatewayError>> + Send;

    /// The charge made under `idempotency_key`, if any.
    fn find_charge(
        &self,
        idempotency_key: &str,
    ) -> impl Future<Output = Result<Option<Charge>, GatewayError>> + Send;
}

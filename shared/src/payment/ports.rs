//! The payment context's storage, as small ports. Today: wallets (top-ups
//! and the ledger view); payments of bookings and refunds still live on the
//! DynamoDB adapter and move here next.

use std::future::Future;

use chrono::{DateTime, Utc};

use super::{LedgerEntry, TopUp, WalletView};
use crate::identity::UserId;
use crate::kernel::IdempotencyKey;
use crate::{AppError, CorrelationId};

/// What a top-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToppedUp {
    New(LedgerEntry),
    /// The same key and amount were sent before: the first answer, verbatim.
    Replayed(String),
}

/// One top-up, as the wallet store records it.
#[derive(Debug, Clone, Copy)]
pub struct TopUpOrder<'a> {
    pub user: &'a UserId,
    pub key: &'a IdempotencyKey,
    /// [`crate::kernel::fingerprint`] of the request body.
    pub fingerprint: &'a str,
    pub points: TopUp,
    pub correlation_id: &'a CorrelationId,
    pub now: DateTime<Utc>,
}

pub trait WalletStore: Send + Sync {
    /// Adds points with a ledger entry and `WalletCharged`, in one
    /// transaction with the key's idempotency record: the same key and
    /// fingerprint again answer the first answer (`Replayed`), the same key
    /// with another fingerprint is `IDEMPOTENCY_KEY_REUSED` (422), and a
    /// wallet past `MAX_BALANCE` is `BALANCE_LIMIT` (409).
    fn top_up(
        &self,
        order: &TopUpOrder<'_>,
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

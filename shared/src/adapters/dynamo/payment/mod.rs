//! Wallets, ledgers and payments in the platform table.
//!
//! | item                 | PK                                 | SK                   |
//! |----------------------|------------------------------------|----------------------|
//! | wallet               | `WALLET#<uid>`                     | WALLET               |
//! | ledger entry         | `WALLET#<uid>`                     | `LEDGER#<uuid v7>`   |
//! | payment of a booking | `PAYMENT#<booking id>`             | PAYMENT              |
//! | payment intent       | `PAYMENT#<booking id>`             | INTENT               |
//! | top-up idempotency   | `IDEMPOTENCY#WALLET#<uid>#<key>`   | IDEMPOTENCY          |
//!
//! Every balance change is one transaction: the wallet (conditional on the
//! balance read, so concurrent changes retry instead of losing one), a new
//! ledger entry, and the event. The balance never goes below zero and always
//! equals the sum of the ledger. A payment item is created once per booking
//! (`attribute_not_exists`), so a booking is never charged twice, whatever
//! the redeliveries.

mod payments;
mod wallet;

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
use crate::payment::events::{PaymentCompleted, PaymentFacts, PaymentFailed, PaymentRefunded};
pub use crate::payment::new_payment;
pub use crate::payment::ports::Refunded;
use crate::payment::ports::{Credit, CreditOrder, PaymentStore, WalletStore};
use crate::payment::topup::credit_event;
use crate::payment::{
    CardToken, FailureReason, LedgerEntry, LedgerKind, MAX_BALANCE, Payment, PaymentStatus,
    WalletView,
};
use crate::{AppError, CorrelationId, EventEnvelope, EventSource};

/// How often a balance change is tried again when another change of the
/// same wallet won the race.
const BALANCE_ATTEMPTS: u32 = 8;
const IDEMPOTENCY_HOURS: i64 = 24;

pub(crate) fn wallet_pk(user: &UserId) -> String {
    format!("WALLET#{user}")
}

fn payment_pk(booking: &BookingId) -> String {
    format!("PAYMENT#{booking}")
}

/// A booking's payment intent: the one place a card token is kept, from
/// the hold (written in its transaction) until the payment's outcome is
/// recorded, and never past `expires_at` (the table's TTL).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct IntentItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    card_token: CardToken,
    /// Epoch seconds.
    expires_at: i64,
}

impl IntentItem {
    /// The intent of `booking` to be charged on `card`, kept for a day past
    /// the hold so a delivery retried until then still finds it.
    pub(crate) fn new(
        booking: &BookingId,
        card: &CardToken,
        hold_expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            pk: payment_pk(booking),
            sk: "INTENT".into(),
            entity: "PAYMENT_INTENT".into(),
            card_token: card.clone(),
            expires_at: (hold_expires_at + Duration::days(1)).timestamp(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct LedgerItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    entry: LedgerEntry,
}

impl LedgerItem {
    pub(crate) fn of(user: &UserId, entry: &LedgerEntry) -> Self {
        Self {
            pk: wallet_pk(user),
            sk: format!("LEDGER#{}", entry.entry_id),
            entity: "LEDGER_ENTRY".into(),
            entry: entry.clone(),
        }
    }
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
}

/// Items of the payment context read back for reconciliation and tests.
pub fn ledger_sum(entries: &[LedgerEntry]) -> i64 {
    entries.iter().map(|e| e.points).sum()
}

/// The item `payment` is stored as, for bulk loads (see
/// [`super::booking::bulk_item`]).
pub fn bulk_item(
    payment: &Payment,
) -> Result<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, AppError> {
    serde_dynamo::to_item(PaymentItem::new(payment))
        .map_err(|e| AppError::internal("encoding a payment", e))
}

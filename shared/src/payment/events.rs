//! The events the payment context emits.

use serde::{Deserialize, Serialize};

use super::{FailureReason, Payment, PaymentMethod};
use crate::EventType;
use crate::events::{Event, required_nullable};
use crate::identity::UserId;
use crate::kernel::BookingId;

/// What every payment event says about the payment it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFacts {
    pub booking_id: BookingId,
    pub user_id: UserId,
    pub method: PaymentMethod,
    pub amount_cents: u64,
    pub refunded_cents: u64,
    /// The gateway's charge, for card payments that reached it.
    #[serde(deserialize_with = "required_nullable")]
    pub charge_id: Option<String>,
}

impl PaymentFacts {
    pub fn of(payment: &Payment) -> Self {
        Self {
            booking_id: payment.booking_id.clone(),
            user_id: payment.user_id.clone(),
            method: payment.method,
            amount_cents: payment.amount_cents,
            refunded_cents: payment.refunded_cents,
            charge_id: payment.charge_id.clone(),
        }
    }
}

/// A booking was paid in full; the booking context confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentCompleted {
    #[serde(flatten)]
    pub payment: PaymentFacts,
}

impl Event for PaymentCompleted {
    const TYPE: EventType = EventType::PaymentCompleted;
    const VERSION: u32 = 1;
}

/// A booking could not be paid; the booking context releases it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    #[serde(flatten)]
    pub payment: PaymentFacts,
    pub reason: FailureReason,
    /// The reason in words, for the booking's history.
    pub message: String,
}

impl Event for PaymentFailed {
    const TYPE: EventType = EventType::PaymentFailed;
    const VERSION: u32 = 1;
}

/// Money went back (`refunded_cents` of `amount_cents`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    #[serde(flatten)]
    pub payment: PaymentFacts,
    /// Why, as the refund was asked for (the share and the booking's end).
    pub reason: String,
}

impl Event for PaymentRefunded {
    const TYPE: EventType = EventType::PaymentRefunded;
    const VERSION: u32 = 1;
}

/// Points were added to a wallet by a top-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletCharged {
    pub user_id: UserId,
    pub entry_id: String,
    pub points: u64,
    /// The balance after the top-up.
    pub balance: u64,
    /// The gateway's charge that paid for the points.
    pub charge_id: String,
}

impl Event for WalletCharged {
    const TYPE: EventType = EventType::WalletCharged;
    const VERSION: u32 = 1;
}

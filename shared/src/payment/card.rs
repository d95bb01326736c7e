//! Card payments as the payment context sees them: a charge, a refund, and
//! the look-up that settles a charge whose outcome is unknown. The
//! [`super::ports::CardPayments`] port speaks these values; the HTTP
//! gateway adapter (`adapters::gateway::CardGateway`) and its
//! in-memory twin implement it, and the fake gateway serves the same
//! wire shapes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The reason of a [`GatewayError::Unavailable`] returned without calling the
/// gateway because its circuit breaker is open.
pub const CIRCUIT_OPEN: &str = "circuit open";

/// A charge to make, and the body of `POST /v1/charges`. Its `Debug` hides
/// the card token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargeRequest {
    /// Chosen by the caller and reused on every retry of the same payment.
    pub idempotency_key: String,
    pub amount_cents: u64,
    /// ISO 4217 code, as the gateway expects it (`"EUR"`).
    pub currency: String,
    /// The gateway's token for the card; never logged, never in an error.
    pub card_token: String,
}

impl fmt::Debug for ChargeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChargeRequest")
            .field("idempotency_key", &self.idempotency_key)
            .field("amount_cents", &self.amount_cents)
            .field("currency", &self.currency)
            .field("card_token", &"[redacted]")
            .finish()
    }
}

/// A charge the gateway made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub charge_id: String,
    pub idempotency_key: String,
    pub amount_cents: u64,
    pub currency: String,
    /// `"succeeded"` for every charge the gateway answers with.
    pub status: String,
    pub refunded_cents: u64,
}

/// A refund of part or all of a charge, and the body of `POST /v1/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// Reused on every retry of the same refund.
    pub idempotency_key: String,
    pub charge_id: String,
    pub amount_cents: u64,
}

/// A refund the gateway made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub charge_id: String,
    pub amount_cents: u64,
}

/// Why a gateway call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Definitive: the card was refused (HTTP 402). Nothing was charged.
    #[error("card declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// Definitive: the gateway refused the request (a 4xx other than 402 and
    /// 429), a bug of ours or a business refusal like `refund_exceeds_charge`.
    #[error("payment gateway refused the request ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The gateway could not be reached or kept failing (circuit open,
    /// connect error, timeout, 5xx or 429 after every attempt). For a charge
    /// the outcome is UNKNOWN: retry later with the same idempotency key.
    #[error("payment gateway unavailable: {reason}")]
    Unavailable { reason: String },
}

impl GatewayError {
    /// Whether trying again later, with the same idempotency key, may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

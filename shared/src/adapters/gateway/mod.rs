//! The card payment gateway: charges, refunds, and the look-up that settles a
//! charge whose outcome is unknown.
//!
//! Every HTTP attempt of a call carries the caller's idempotency key, so the
//! adapter can retry transient failures (connect errors, timeouts, 5xx, 429)
//! without ever charging twice. A circuit breaker, shared by every clone of a
//! [`CardGateway`], stops calling a gateway that keeps failing and lets one
//! probe through once `open_for` has passed.
//!
//! [`GatewayError::Unavailable`] after a charge means "we do not know": the
//! card may or may not have been charged. Retry later with the same key, or
//! ask [`CardGateway::find_charge`]; never record the payment as failed
//! without one of the two. The policy is described in docs/payment-gateway.md.

mod client;
mod config;
#[cfg(test)]
mod tests;
pub mod wire;

pub use crate::payment::card::{
    CIRCUIT_OPEN, Charge, ChargeRequest, GatewayError, Refund, RefundRequest,
};
pub use crate::resilience::{BreakerConfig, BreakerState};
pub use client::CardGateway;
pub use config::GatewayConfig;

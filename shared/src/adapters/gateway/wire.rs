//! The gateway's HTTP contract: its paths, the bodies of its requests and
//! answers, and its error body. The client and the fake gateway
//! (`infra/fake-gateway`) both speak it through these types.
//!
//! | call | request | answer |
//! |------|---------|--------|
//! | `POST /v1/charges` | [`ChargeRequest`] | 201 [`Charge`]; 402 a decline |
//! | `GET /v1/charges/{idempotency_key}` | | 200 [`Charge`]; 404 [`NO_SUCH_CHARGE`] |
//! | `POST /v1/refunds` | [`RefundRequest`] | 201 [`Refund`]; 409 `refund_exceeds_charge` |

use serde::{Deserialize, Serialize};

pub use crate::payment::card::{Charge, ChargeRequest, Refund, RefundRequest};

/// The path of charges, below the gateway's root.
pub const CHARGES: [&str; 2] = ["v1", "charges"];
/// The path of refunds, below the gateway's root.
pub const REFUNDS: [&str; 2] = ["v1", "refunds"];

/// The code of the gateway's 404s for a key or charge it does not know. Only
/// a 404 with this code means "no charge": a bare 404 (a wrong base path) is
/// a refusal, never taken for "not charged".
pub const NO_SUCH_CHARGE: &str = "no_such_charge";

/// The error body the gateway sends with a refusal; read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

//! A fake card payment gateway: idempotent charges and refunds kept in
//! memory, and a control API that makes it go down, fail or slow down, so the
//! platform's payment paths can be exercised locally and in tests.
//!
//! Card tokens: `tok_declined` is always declined; any other token is charged.
//! Requests and answers are the platform's own wire types
//! (`shared::adapters::gateway::wire`), so the two cannot drift apart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
/// The gateway's wire types, shared with the platform's client.
pub use shared::adapters::gateway::wire::{
    Charge, ChargeRequest, ErrorBody, NO_SUCH_CHARGE, Refund, RefundRequest,
};

/// The card token the gateway always declines.
pub const DECLINED_TOKEN: &str = "tok_declined";
const MAX_KEY_CHARS: usize = 128;
const DEFAULT_DELAY_MS: u64 = 3000;
const MAX_DELAY_MS: u64 = 600_000;
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every refusal, with the status and the stable code clients see.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the card was declined")]
    CardDeclined,
    #[error("the idempotency key {0} was first used with a different request")]
    IdempotencyMismatch(String),
    #[error("no charge {0}")]
    NoSuchCharge(String),
    #[error("a refund of {asked} cents exceeds the {left} cents left to refund")]
    RefundExceedsCharge { asked: u64, left: u64 },
    #[error("the gateway is down (control mode \"down\")")]
    Unavailable,
    #[error("{0}")]
    Internal(&'static str),
}

impl GatewayError {
    fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::CardDeclined => StatusCode::PAYMENT_REQUIRED,
            Self::IdempotencyMismatch(_) | Self::RefundExceedsCharge { .. } => StatusCode::CONFLICT,
            Self::NoSuchCharge(_) => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::CardDeclined => "card_declined",
            Self::IdempotencyMismatch(_) => "idempotency_mismatch",
            Self::NoSuchCharge(_) => NO_SUCH_CHARGE,
            Self::RefundExceedsCharge { .. } => "refund_exceeds_charge",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code().to_owned(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

/// The charge a request's body asks for, checked as the real gateway does.
fn validate_charge(request: &ChargeRequest) -> Result<(), GatewayError> {
    validate_key(&request.idempotency_key)?;
    validate_amount(request.amount_cents)?;
    if request.currency.len() != 3 || !request.currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(GatewayError::InvalidRequest(
            "currency must be a three-letter code such as EUR".into(),
        ));
    }
    if request.card_token.is_empty() {
        return Err(GatewayError::InvalidRequest(
            "card_token must not be empty".into(),
        ));
    }
    Ok(())
}

fn validate_refund(request: &RefundRequest) -> Result<(), GatewayError> {
    validate_key(&request.idempotency_key)?;
    validate_amount(request.amount_cents)
}

fn validate_key(key: &str) -> Result<(), GatewayError> {
    if (1..=MAX_KEY_CHARS).contains(&key.chars().count()) {
        Ok(())
    } else {
        Err(GatewayError::InvalidRequest(format!(
            "idempotency_key must have 1 to {MAX_KEY_CHARS} characters"
        )))
    }
}

fn validate_amount(amount_cents: u64) -> Result<(), GatewayError> {
    if amount_cents > 0 {
        Ok(())
    } else {
        Err(GatewayError::InvalidRequest(
            "amount_cents must be greater than 0".into(),
        ))
    }
}

/// The status of every charge the gateway answers with.
pub const SUCCEEDED: &str = "succeeded";

/// How the gateway treats `/v1` requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModeName {
    /// Every request is handled.
    #[default]
    Ok,
    /// Every request is answered 503 at once.
    Down,
    /// Requests are answered 500 (all, or every `fail_every`-th).
    Fail,
    /// Each request waits `delay_ms`, then is handled even if the client left.
    Slow,
}

/// The body of `PUT /control/mode` and its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mode {
    pub mode: ModeName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_every: Option<u32>,
}

impl Mode {
    /// Checks the settings and keeps only those the mode uses.
    fn normalized(self) -> Result<Self, GatewayError> {
        match self.mode {
            ModeName::Ok | ModeName::Down => Ok(Self {
                mode: self.mode,
                delay_ms: None,
                fail_every: None,
            }),
            ModeName::Fail => match self.fail_every {
                Some(0) => Err(GatewayError::InvalidRequest(
                    "fail_every must be at least 1".into(),
                )),
                every => Ok(Self {
                    mode: self.mode,
                    delay_ms: None,
                    fail_every: every,
                }),
            },
            ModeName::Slow => match self.delay_ms.unwrap_or(DEFAULT_DELAY_MS) {
                delay if delay > MAX_DELAY_MS => Err(GatewayError::InvalidRequest(format!(
                    "delay_ms must be at most {MAX_DELAY_MS}"
                ))),
                delay => Ok(Self {
                    mode: self.mode,
                    delay_ms: Some(delay),
                    fail_every: None,
                }),
            },
        }
    }
}

/// Counters of `GET /control/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub mode: ModeName,
    /// Every `/v1` request received.
    pub requests: u64,
    /// Distinct charges recorded (declines excluded).
    pub charges: u64,
    pub declines: u64,
    pub refunds: u64,
    pub refunded_cents: u64,
    pub charged_cents: u64,
    /// Requests answered 503 or 500 by the mode.
    pub rejected: u64,
}

/// One use of a charge idempotency key: the request, and the charge it made
/// (none when the card was declined).
#[derive(Debug)]
struct Attempt {
    request: ChargeRequest,
    charge: Option<usize>,
}

#[derive(Debug)]
struct StoredRefund {
    request: RefundRequest,
    refund: Refund,
}

#[derive(Debug, Default)]
struct Ledger {
    mode: Mode,
    /// `/v1` requests since the mode was set, for `fail_every`.
    since_mode: u64,
    requests: u64,
    rejected: u64,
    charges: Vec<Charge>,
    attempts: HashMap<String, Attempt>,
    by_charge_id: HashMap<String, usize>,
    refunds: HashMap<String, StoredRefund>,
}

impl Ledger {
    fn charge(&mut self, request: ChargeRequest) -> Result<(StatusCode, Charge), GatewayError> {
        if let Some(attempt) = self.attempts.get(&request.idempotency_key) {
            if attempt.request != request {
                return Err(GatewayError::IdempotencyMismatch(request.idempotency_key));
            }
            return match attempt.charge {
                Some(index) => Ok((StatusCode::OK, self.charges[index].clone())),
                None => Err(GatewayError::CardDeclined),
            };
        }
        if request.card_token == DECLINED_TOKEN {
            tracing::info!(key = %request.idempotency_key, "card declined");
            self.attempts.insert(
                request.idempotency_key.clone(),
                Attempt {
                    request,
                    charge: None,
                },
            );
            return Err(GatewayError::CardDeclined);
        }
        let charge = Charge {
            charge_id: format!("ch_{}", uuid::Uuid::new_v4().simple()),
            idempotency_key: request.idempotency_key.clone(),
            amount_cents: request.amount_cents,
            currency: request.currency.clone(),
            status: SUCCEEDED.into(),
            refunded_cents: 0,
        };
        tracing::info!(
            charge_id = %charge.charge_id,
            key = %charge.idempotency_key,
            amount_cents = charge.amount_cents,
            currency = %charge.currency,
            "charged"
        );
        let index = self.charges.len();
        self.charges.push(charge.clone());
        self.by_charge_id.insert(charge.charge_id.clone(), index);
        self.attempts.insert(
            request.idempotency_key.clone(),
            Attempt {
                request,
                charge: Some(index),
            },
        );
        Ok((StatusCode::CREATED, charge))
    }

    fn refund(&mut self, request: RefundRequest) -> Result<(StatusCode, Refund), GatewayError> {
        if let Some(stored) = self.refunds.get(&request.idempotency_key) {
            if stored.request != request {
                return Err(GatewayError::IdempotencyMismatch(request.idempotency_key));
            }
            return Ok((StatusCode::OK, stored.refund.clone()));
        }
        let index = *self
            .by_charge_id
            .get(&request.charge_id)
            .ok_or_else(|| GatewayError::NoSuchCharge(request.charge_id.clone()))?;
        let charge = &mut self.charges[index];
        let left = charge.amount_cents - charge.refunded_cents;
        if request.amount_cents > left {
            return Err(GatewayError::RefundExceedsCharge {
                asked: request.amount_cents,
                left,
            });
        }
        charge.refunded_cents += request.amount_cents;
        let refund = Refund {
            refund_id: format!("re_{}", uuid::Uuid::new_v4().simple()),
            charge_id: request.charge_id.clone(),
            amount_cents: request.amount_cents,
        };
        tracing::info!(
            refund_id = %refund.refund_id,
            charge_id = %refund.charge_id,
            amount_cents = refund.amount_cents,
            "refunded"
        );
        self.refunds.insert(
            request.idempotency_key.clone(),
            StoredRefund {
                request,
                refund: refund.clone(),
            },
        );
        Ok((StatusCode::CREATED, refund))
    }

    fn stats(&self) -> Stats {
        Stats {
            mode: self.mode.mode,
            requests: self.requests,
            charges: self.charges.len() as u64,
            declines: self
                .attempts
                .values()
                .filter(|a| a.charge.is_none())
                .count() as u64,
            refunds: self.refunds.len() as u64,
            refunded_cents: self.charges.iter().map(|c| c.refunded_cents).sum(),
            charged_cents: self.charges.iter().map(|c| c.amount_cents).sum(),
            rejected: self.rejected,
        }
    }

    /// Counts a `/v1` request and decides what the mode does with it.
    fn admit(&mut self) -> Admission {
        self.requests += 1;
        self.since_mode += 1;
        let admission = match self.mode.mode {
            ModeName::Ok => Admission::Handle,
            ModeName::Down => Admission::Reject(GatewayError::Unavailable),
            ModeName::Fail => {
                let every = u64::from(self.mode.fail_every.unwrap_or(1));
                if self.since_mode.is_multiple_of(every) {
                    Admission::Reject(GatewayError::Internal(
                        "injected failure (control mode \"fail\")",
                    ))
                } else {
                    Admission::Handle
                }
            }
            ModeName::Slow => Admission::Delay(Duration::from_millis(
                self.mode.delay_ms.unwrap_or(DEFAULT_DELAY_MS),
            )),
        };
        if matches!(admission, Admission::Reject(_)) {
            self.rejected += 1;
        }
        admission
    }
}

enum Admission {
    Handle,
    Reject(GatewayError),
    Delay(Duration),
}

/// The gateway's state, shared by every request.
#[derive(Debug, Clone, Default)]
pub struct Gateway(Arc<Mutex<Ledger>>);

impl Gateway {
    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The payment API under `/v1`, the control API under `/control`, and `/health`.
pub fn router(gateway: Gateway) -> Router {
    let payments = Router::new()
        .route("/v1/charges", post(create_charge))
        .route("/v1/charges/{idempotency_key}", get(get_charge))
        .route("/v1/refunds", post(create_refund))
        .route_layer(middleware::from_fn_with_state(gateway.clone(), apply_mode));
    Router::new()
        .merge(payments)
        .route("/control/mode", get(current_mode).put(set_mode))
        .route("/control/stats", get(stats))
        .route("/control/charges", get(list_charges))
        .route("/control/reset", post(reset))
        .route("/health", get(|| async { "ok" }))
        .with_state(gateway)
}

async fn apply_mode(State(gateway): State<Gateway>, request: Request, next: Next) -> Response {
    let admission = gateway.ledger().admit();
    match admission {
        Admission::Handle => next.run(request).await,
        Admission::Reject(err) => {
            tracing::info!(method = %request.method(), path = %request.uri().path(), status = err.status().as_u16(), "rejected by the mode");
            err.into_response()
        }
        // The whole request is read first, then handled in a task of its own,
        // so a client that gives up meanwhile does not cancel it: the charge
        // is recorded anyway, as a real gateway would.
        Admission::Delay(delay) => {
            let (parts, body) = request.into_parts();
            let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
                Ok(body) => body,
                Err(_) => {
                    return GatewayError::InvalidRequest("the body could not be read".into())
                        .into_response();
                }
            };
            let request = Request::from_parts(parts, body.into());
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                next.run(request).await
            })
            .await
            .unwrap_or_else(|_| {
                GatewayError::Internal("the request's handling failed").into_response()
            })
        }
    }
}

/// Parses a JSON body; any problem is an `invalid_request`.
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, GatewayError> {
    serde_json::from_slice(body)
        .map_err(|e| GatewayError::InvalidRequest(format!("invalid JSON body: {e}")))
}

async fn create_charge(
    State(gateway): State<Gateway>,
    body: Bytes,
) -> Result<(StatusCode, Json<Charge>), GatewayError> {
    let request: ChargeRequest = parse(&body)?;
    validate_charge(&request)?;
    let (status, charge) = gateway.ledger().charge(request)?;
    Ok((status, Json(charge)))
}

async fn get_charge(
    State(gateway): State<Gateway>,
    Path(key): Path<String>,
) -> Result<Json<Charge>, GatewayError> {
    let ledger = gateway.ledger();
    ledger
        .attempts
        .get(&key)
        .and_then(|a| a.charge)
        .map(|index| Json(ledger.charges[index].clone()))
        .ok_or(GatewayError::NoSuchCharge(key))
}

async fn create_refund(
    State(gateway): State<Gateway>,
    body: Bytes,
) -> Result<(StatusCode, Json<Refund>), GatewayError> {
    let request: RefundRequest = parse(&body)?;
    validate_refund(&request)?;
    let (status, refund) = gateway.ledger().refund(request)?;
    Ok((status, Json(refund)))
}

async fn current_mode(State(gateway): State<Gateway>) -> Json<Mode> {
    Json(gateway.ledger().mode)
}

async fn set_mode(State(gateway): State<Gateway>, body: Bytes) -> Result<Json<Mode>, GatewayError> {
    let mode = parse::<Mode>(&body)?.normalized()?;
    let mut ledger = gateway.ledger();
    ledger.mode = mode;
    ledger.since_mode = 0;
    tracing::info!(?mode, "mode set");
    Ok(Json(mode))
}

async fn stats(State(gateway): State<Gateway>) -> Json<Stats> {
    Json(gateway.ledger().stats())
}

async fn list_charges(State(gateway): State<Gateway>) -> Json<Vec<Charge>> {
    Json(gateway.ledger().charges.clone())
}

async fn reset(State(gateway): State<Gateway>) -> Json<Stats> {
    let mut ledger = gateway.ledger();
    *ledger = Ledger::default();
    tracing::info!("reset");
    Json(ledger.stats())
}

#[cfg(test)]
mod tests;

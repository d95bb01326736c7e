//! A fake card payment gateway: idempotent charges and refunds kept in
//! memory, and a control API that makes it go down, fail or slow down, so the
//! platform's payment paths can be exercised locally and in tests.
//!
//! Card tokens: `tok_declined` is always declined; any other token is charged.

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
            Self::NoSuchCharge(_) => "no_such_charge",
            Self::RefundExceedsCharge { .. } => "refund_exceeds_charge",
            Self::Unavailable => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        (self.status(), Json(body)).into_response()
    }
}

/// The body of `POST /v1/charges`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChargeRequest {
    pub idempotency_key: String,
    pub amount_cents: u64,
    pub currency: String,
    pub card_token: String,
}

impl ChargeRequest {
    fn validate(&self) -> Result<(), GatewayError> {
        validate_key(&self.idempotency_key)?;
        validate_amount(self.amount_cents)?;
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(GatewayError::InvalidRequest(
                "currency must be a three-letter code such as EUR".into(),
            ));
        }
        if self.card_token.is_empty() {
            return Err(GatewayError::InvalidRequest(
                "card_token must not be empty".into(),
            ));
        }
        Ok(())
    }
}

/// The body of `POST /v1/refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundRequest {
    pub idempotency_key: String,
    pub charge_id: String,
    pub amount_cents: u64,
}

impl RefundRequest {
    fn validate(&self) -> Result<(), GatewayError> {
        validate_key(&self.idempotency_key)?;
        validate_amount(self.amount_cents)
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChargeStatus {
    Succeeded,
}

/// A charge as the gateway answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub charge_id: String,
    pub idempotency_key: String,
    pub amount_cents: u64,
    pub currency: String,
    pub status: ChargeStatus,
    pub refunded_cents: u64,
}

/// A refund as the gateway answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub refund_id: String,
    pub charge_id: String,
    pub amount_cents: u64,
}

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
            status: ChargeStatus::Succeeded,
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
    request.validate()?;
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
    request.validate()?;
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
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A gateway on a free port, and a client for it.
    struct Running {
        base: String,
        client: reqwest::Client,
    }

    impl Running {
        async fn start() -> Self {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            tokio::spawn(async move {
                axum::serve(listener, router(Gateway::default()))
                    .await
                    .unwrap();
            });
            Self {
                base,
                client: reqwest::Client::new(),
            }
        }

        async fn post(&self, path: &str, body: Value) -> (u16, Value) {
            let response = self
                .client
                .post(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        }

        async fn put(&self, path: &str, body: Value) -> (u16, Value) {
            let response = self
                .client
                .put(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        }

        async fn get(&self, path: &str) -> (u16, Value) {
            let response = self
                .client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        }

        async fn stats(&self) -> Stats {
            serde_json::from_value(self.get("/control/stats").await.1).unwrap()
        }
    }

    fn charge(key: &str, amount_cents: u64, card_token: &str) -> Value {
        json!({
            "idempotency_key": key,
            "amount_cents": amount_cents,
            "currency": "EUR",
            "card_token": card_token,
        })
    }

    fn refund(key: &str, charge_id: &str, amount_cents: u64) -> Value {
        json!({ "idempotency_key": key, "charge_id": charge_id, "amount_cents": amount_cents })
    }

    #[tokio::test]
    async fn a_charge_succeeds_and_can_be_read_back() {
        let gw = Running::start().await;
        let (status, body) = gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        assert_eq!(status, 201);
        assert!(body["charge_id"].as_str().unwrap().starts_with("ch_"));
        assert_eq!(body["idempotency_key"], "k1");
        assert_eq!(body["amount_cents"], 2500);
        assert_eq!(body["currency"], "EUR");
        assert_eq!(body["status"], "succeeded");
        assert_eq!(body["refunded_cents"], 0);
        assert_eq!(gw.get("/v1/charges/k1").await, (200, body));
        assert_eq!(gw.get("/v1/charges/other").await.0, 404);
    }

    #[tokio::test]
    async fn a_replayed_charge_answers_the_first_charge_without_charging_again() {
        let gw = Running::start().await;
        let (first_status, first) = gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        let (again_status, again) = gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        assert_eq!((first_status, again_status), (201, 200));
        assert_eq!(first, again);
        let stats = gw.stats().await;
        assert_eq!(
            (stats.charges, stats.charged_cents, stats.requests),
            (1, 2500, 2)
        );
    }

    #[tokio::test]
    async fn a_key_reused_with_another_amount_is_a_conflict() {
        let gw = Running::start().await;
        gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        let (status, body) = gw.post("/v1/charges", charge("k1", 9999, "tok_visa")).await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "idempotency_mismatch");
        assert_eq!(gw.stats().await.charges, 1);
    }

    #[tokio::test]
    async fn the_declined_token_is_declined_and_replays_as_declined() {
        let gw = Running::start().await;
        for _ in 0..2 {
            let (status, body) = gw
                .post("/v1/charges", charge("k1", 2500, DECLINED_TOKEN))
                .await;
            assert_eq!(status, 402);
            assert_eq!(
                body,
                json!({"code": "card_declined", "message": "the card was declined"})
            );
        }
        let stats = gw.stats().await;
        assert_eq!(
            (stats.charges, stats.declines, stats.charged_cents),
            (0, 1, 0)
        );
        assert_eq!(gw.get("/v1/charges/k1").await.0, 404);
    }

    #[tokio::test]
    async fn refunds_never_exceed_what_is_left_of_the_charge() {
        let gw = Running::start().await;
        let (_, ch) = gw.post("/v1/charges", charge("k1", 1000, "tok_visa")).await;
        let id = ch["charge_id"].as_str().unwrap();

        let (status, first) = gw.post("/v1/refunds", refund("r1", id, 600)).await;
        assert_eq!(status, 201);
        assert!(first["refund_id"].as_str().unwrap().starts_with("re_"));
        assert_eq!(
            (first["charge_id"].as_str(), &first["amount_cents"]),
            (Some(id), &json!(600))
        );

        let (status, body) = gw.post("/v1/refunds", refund("r2", id, 401)).await;
        assert_eq!(status, 409);
        assert_eq!(body["code"], "refund_exceeds_charge");

        assert_eq!(
            gw.post("/v1/refunds", refund("r1", id, 600)).await,
            (200, first)
        );
        assert_eq!(gw.post("/v1/refunds", refund("r1", id, 100)).await.0, 409);
        assert_eq!(gw.post("/v1/refunds", refund("r3", id, 400)).await.0, 201);

        assert_eq!(gw.get("/v1/charges/k1").await.1["refunded_cents"], 1000);
        let stats = gw.stats().await;
        assert_eq!((stats.refunds, stats.refunded_cents), (2, 1000));
    }

    #[tokio::test]
    async fn a_refund_of_an_unknown_charge_is_not_found() {
        let gw = Running::start().await;
        let (status, body) = gw.post("/v1/refunds", refund("r1", "ch_nope", 100)).await;
        assert_eq!(status, 404);
        assert_eq!(body["code"], "no_such_charge");
    }

    #[tokio::test]
    async fn bad_json_missing_fields_and_bad_values_are_invalid_requests() {
        let gw = Running::start().await;
        let not_json = gw
            .client
            .post(format!("{}/v1/charges", gw.base))
            .body("{nope")
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status().as_u16(), 400);
        let body: Value = not_json.json().await.unwrap();
        assert_eq!(body["code"], "invalid_request");

        for bad in [
            json!({"idempotency_key": "k", "amount_cents": 1, "currency": "EUR"}),
            charge("k", 0, "tok_visa"),
            charge("", 1, "tok_visa"),
            charge(&"k".repeat(129), 1, "tok_visa"),
            json!({"idempotency_key": "k", "amount_cents": -5, "currency": "EUR", "card_token": "tok_visa"}),
        ] {
            let (status, body) = gw.post("/v1/charges", bad.clone()).await;
            assert_eq!(
                (status, &body["code"]),
                (400, &json!("invalid_request")),
                "{bad}"
            );
        }
        assert_eq!(
            gw.post("/v1/charges", charge(&"k".repeat(128), 1, "tok_visa"))
                .await
                .0,
            201
        );
        assert_eq!(gw.stats().await.charges, 1);
    }

    #[tokio::test]
    async fn when_down_every_request_is_503_and_nothing_is_recorded() {
        let gw = Running::start().await;
        let (status, mode) = gw.put("/control/mode", json!({"mode": "down"})).await;
        assert_eq!((status, mode), (200, json!({"mode": "down"})));

        let (status, body) = gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        assert_eq!((status, &body["code"]), (503, &json!("unavailable")));
        assert_eq!(gw.get("/v1/charges/k1").await.0, 503);
        assert_eq!(gw.post("/v1/refunds", refund("r1", "ch_x", 1)).await.0, 503);

        let stats = gw.stats().await;
        assert_eq!(
            (stats.mode, stats.requests, stats.rejected, stats.charges),
            (ModeName::Down, 3, 3, 0)
        );
        gw.put("/control/mode", json!({"mode": "ok"})).await;
        assert_eq!(gw.get("/v1/charges/k1").await.0, 404);
    }

    #[tokio::test]
    async fn fail_every_n_fails_only_every_nth_request() {
        let gw = Running::start().await;
        gw.put("/control/mode", json!({"mode": "fail", "fail_every": 3}))
            .await;
        let mut statuses = Vec::new();
        for i in 0..6 {
            let key = format!("k{i}");
            statuses.push(
                gw.post("/v1/charges", charge(&key, 100, "tok_visa"))
                    .await
                    .0,
            );
        }
        assert_eq!(statuses, [201, 201, 500, 201, 201, 500]);
        let stats = gw.stats().await;
        assert_eq!((stats.charges, stats.rejected), (4, 2));
        assert_eq!(
            gw.put("/control/mode", json!({"mode": "fail", "fail_every": 0}))
                .await
                .0,
            400
        );
    }

    #[tokio::test]
    async fn a_slow_charge_is_recorded_even_when_the_client_gave_up() {
        let gw = Running::start().await;
        gw.put("/control/mode", json!({"mode": "slow", "delay_ms": 300}))
            .await;
        let impatient = reqwest::Client::builder()
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        let gave_up = impatient
            .post(format!("{}/v1/charges", gw.base))
            .json(&charge("k1", 2500, "tok_visa"))
            .send()
            .await;
        assert!(gave_up.unwrap_err().is_timeout());
        assert_eq!(gw.stats().await.charges, 0);
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(gw.stats().await.charges, 1);
    }

    #[tokio::test]
    async fn reset_forgets_everything_and_restores_the_ok_mode() {
        let gw = Running::start().await;
        gw.post("/v1/charges", charge("k1", 2500, "tok_visa")).await;
        gw.put("/control/mode", json!({"mode": "down"})).await;
        assert_eq!(gw.post("/control/reset", json!({})).await.0, 200);
        assert_eq!(gw.stats().await, Stats::default());
        assert_eq!(gw.get("/control/charges").await.1, json!([]));
        assert_eq!(
            gw.post("/v1/charges", charge("k1", 2500, "tok_visa"))
                .await
                .0,
            201
        );
    }

    #[tokio::test]
    async fn an_unknown_mode_is_an_invalid_request() {
        let gw = Running::start().await;
        let (status, body) = gw.put("/control/mode", json!({"mode": "sideways"})).await;
        assert_eq!((status, &body["code"]), (400, &json!("invalid_request")));
        let (_, slow) = gw.put("/control/mode", json!({"mode": "slow"})).await;
        assert_eq!(slow, json!({"mode": "slow", "delay_ms": 3000}));
    }
}

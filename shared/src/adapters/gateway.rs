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

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument, warn};

use crate::config::{self, ConfigError};
pub use crate::payment::card::{Charge, ChargeRequest, GatewayError, Refund, RefundRequest};
use crate::retry::backoff_with_jitter;

/// The reason of an [`GatewayError::Unavailable`] returned without calling the
/// gateway because the circuit breaker is open.
pub const CIRCUIT_OPEN: &str = "circuit open";

/// The code of the gateway's 404s for a key or charge it does not know. Only
/// a 404 with this code means "no charge": a bare 404 (a wrong base path) is
/// a [`GatewayError::Refused`], never taken for "not charged".
const NO_SUCH_CHARGE: &str = "no_such_charge";

/// When the circuit breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive transiently failed attempts that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker fails calls fast before letting a probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(10),
        }
    }
}

/// How to reach the gateway, and how hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    /// The gateway's root; `/v1/charges` and `/v1/refunds` are below it.
    pub base_url: Url,
    /// The limit of one HTTP attempt, from connecting to the last body byte.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// HTTP attempts per call, the first included.
    pub attempts: u32,
    /// Retry `n` (0-based) waits a random time in `[0, min(backoff_max, backoff_base * 2^n)]`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub breaker: BreakerConfig,
}

impl GatewayConfig {
    /// The default policy for the gateway at `base_url`, an absolute http or
    /// https URL.
    pub fn new(base_url: &str) -> Result<Self, ConfigError> {
        let base_url = parse_base_url(base_url).map_err(|reason| ConfigError::Invalid {
            name: "PAYMENT_GATEWAY_URL",
            reason,
        })?;
        Ok(Self {
            base_url,
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_millis(500),
            attempts: 3,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            breaker: BreakerConfig::default(),
        })
    }

    /// Reads `PAYMENT_GATEWAY_URL` (required) and the optional
    /// `PAYMENT_GATEWAY_TIMEOUT_MS`, `PAYMENT_GATEWAY_ATTEMPTS`,
    /// `PAYMENT_GATEWAY_BREAKER_THRESHOLD` and
    /// `PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut config = Self::new(&config::required("PAYMENT_GATEWAY_URL")?)?;
        let timeout_ms = at_least_one(
            "PAYMENT_GATEWAY_TIMEOUT_MS",
            config::parsed_or("PAYMENT_GATEWAY_TIMEOUT_MS", 2_000u64)?,
        )?;
        config.timeout = Duration::from_millis(timeout_ms);
        config.attempts = at_least_one(
            "PAYMENT_GATEWAY_ATTEMPTS",
            config::parsed_or("PAYMENT_GATEWAY_ATTEMPTS", config.attempts)?,
        )?;
        config.breaker.failure_threshold = at_least_one(
            "PAYMENT_GATEWAY_BREAKER_THRESHOLD",
            config::parsed_or(
                "PAYMENT_GATEWAY_BREAKER_THRESHOLD",
                config.breaker.failure_threshold,
            )?,
        )?;
        let open_seconds = at_least_one(
            "PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS",
            config::parsed_or("PAYMENT_GATEWAY_BREAKER_OPEN_SECONDS", 10u64)?,
        )?;
        config.breaker.open_for = Duration::from_secs(open_seconds);
        Ok(config)
    }
}

/// Accepts absolute http(s) URLs with a host, without credentials (the URL
/// is logged), query or fragment. A refused URL is not echoed.
fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http or https URL, not {}",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or a fragment".to_owned());
    }
    Ok(url)
}

fn at_least_one<T>(name: &'static str, value: T) -> Result<T, ConfigError>
where
    T: PartialOrd + From<u8> + fmt::Display,
{
    if value < T::from(1) {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be at least 1, got {value}"),
        });
    }
    Ok(value)
}

/// The state of the circuit breaker, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast without reaching the gateway.
    Open,
    /// `open_for` has passed: the next call is a probe; others fail fast
    /// while it is in flight.
    HalfOpen,
}

/// The card gateway's HTTP client. Build it once per process and clone it
/// freely: clones share the connection pool and the circuit breaker.
#[derive(Clone)]
pub struct CardGateway {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    config: GatewayConfig,
    breaker: Breaker,
}

impl fmt::Debug for CardGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardGateway")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("breaker", &self.breaker_state())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct ChargeBody<'a> {
    idempotency_key: &'a str,
    amount_cents: u64,
    currency: &'a str,
    card_token: &'a str,
}

/// The error body the gateway sends with a refusal; read leniently.
#[derive(Default, Deserialize)]
struct WireError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// What one attempt's definitive answer means, or why it is not definitive.
enum Answer<T> {
    Done(Result<T, GatewayError>),
    /// A success status with a body we cannot read: retried like a 5xx.
    Unreadable(String),
}

impl CardGateway {
    /// Builds the HTTP client: rustls, no redirects followed, no retries but
    /// the adapter's own.
    pub fn new(config: GatewayConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Every retry is ours, counted by the breaker and spaced by backoff.
            .retry(reqwest::retry::never())
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                breaker: Breaker::new(config.breaker),
                config,
            }),
        })
    }

    /// Charges a card. `Ok` also for a replayed key (the earlier charge).
    #[instrument(
        skip(self, request),
        fields(
            idempotency_key = %request.idempotency_key,
            amount_cents = request.amount_cents,
            currency = %request.currency,
        )
    )]
    pub async fn charge(&self, request: &ChargeRequest) -> Result<Charge, GatewayError> {
        let url = self.endpoint(&["v1", "charges"]);
        let body = ChargeBody {
            idempotency_key: &request.idempotency_key,
            amount_cents: request.amount_cents,
            currency: &request.currency,
            card_token: &request.card_token,
        };
        self.call(|client| client.post(url.clone()).json(&body), answer)
            .await
            .map_err(|e| e.redacted(&request.card_token))
    }

    /// Refunds part or all of a charge. Refusals like `no_such_charge` (404)
    /// and `refund_exceeds_charge` (409) are [`GatewayError::Refused`].
    #[instrument(
        skip(self, request),
        fields(
            idempotency_key = %request.idempotency_key,
            charge_id = %request.charge_id,
            amount_cents = request.amount_cents,
        )
    )]
    pub async fn refund(&self, request: &RefundRequest) -> Result<Refund, GatewayError> {
        let url = self.endpoint(&["v1", "refunds"]);
        self.call(|client| client.post(url.clone()).json(request), answer)
            .await
    }

    /// The charge made under `idempotency_key`, if any: how to settle a
    /// charge that ended in [`GatewayError::Unavailable`].
    #[instrument(skip(self, idempotency_key), fields(idempotency_key = %idempotency_key))]
    pub async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Charge>, GatewayError> {
        let url = self.endpoint(&["v1", "charges", idempotency_key]);
        self.call(
            |client| client.get(url.clone()),
            |status, body| match answer::<Charge>(status, body) {
                Answer::Done(Err(GatewayError::Refused {
                    status: 404, code, ..
                })) if code == NO_SUCH_CHARGE => Answer::Done(Ok(None)),
                Answer::Done(result) => Answer::Done(result.map(Some)),
                Answer::Unreadable(reason) => Answer::Unreadable(reason),
            },
        )
        .await
    }

    /// The circuit breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state(Instant::now())
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.config.base_url.clone();
        // Always Ok: the base is validated as http(s) with a host.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Runs one call: up to `attempts` HTTP attempts, each admitted by the
    /// breaker, with full-jitter backoff between them.
    async fn call<T>(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        interpret: impl Fn(StatusCode, &[u8]) -> Answer<T>,
    ) -> Result<T, GatewayError> {
        let config = &self.inner.config;
        let attempts = config.attempts.max(1);
        let mut last_failure = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                if self.breaker_state() == BreakerState::Open {
                    warn!(attempt, "payment gateway circuit open; not retrying");
                    return Err(GatewayError::circuit_open());
                }
                let delay =
                    backoff_with_jitter(attempt - 2, config.backoff_base, config.backoff_max);
                debug!(
                    attempt,
                    delay_ms = delay.as_millis(),
                    "backing off before retrying the payment gateway"
                );
                tokio::time::sleep(delay).await;
            }
            let Some(permit) = self.inner.breaker.admit(Instant::now()) else {
                debug!(attempt, "payment gateway circuit open; failing fast");
                return Err(GatewayError::circuit_open());
            };
            debug!(
                attempt,
                probe = permit.is_probe(),
                "calling the payment gateway"
            );
            match self.attempt(&build, &interpret).await {
                Ok(result) => {
                    permit.succeeded(Instant::now());
                    return result;
                }
                Err(reason) => {
                    permit.failed(Instant::now());
                    warn!(attempt, attempts, %reason, "payment gateway attempt failed");
                    last_failure = reason;
                }
            }
        }
        warn!(attempts, reason = %last_failure, "payment gateway unavailable after every attempt");
        Err(GatewayError::Unavailable {
            reason: last_failure,
        })
    }

    /// One HTTP attempt: the definitive answer, or why it failed transiently.
    async fn attempt<T>(
        &self,
        build: &impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
        interpret: &impl Fn(StatusCode, &[u8]) -> Answer<T>,
    ) -> Result<Result<T, GatewayError>, String> {
        let response = build(&self.inner.client).send().await.map_err(describe)?;
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(format!("gateway answered {status}"));
        }
        let body = response.bytes().await.map_err(describe)?;
        debug!(status = status.as_u16(), "payment gateway answered");
        match interpret(status, &body) {
            Answer::Done(result) => Ok(result),
            Answer::Unreadable(reason) => Err(reason),
        }
    }
}

/// The common reading of a non-transient answer: 2xx is `T`, 402 a decline,
/// any other status a refusal.
fn answer<T: DeserializeOwned>(status: StatusCode, body: &[u8]) -> Answer<T> {
    if status.is_success() {
        return match serde_json::from_slice(body) {
            Ok(value) => Answer::Done(Ok(value)),
            Err(e) => Answer::Unreadable(format!(
                "gateway answered {status} with an unreadable body: {e}"
            )),
        };
    }
    let wire: WireError = serde_json::from_slice(body).unwrap_or_default();
    let code = if wire.code.is_empty() {
        format!("http_{}", status.as_u16())
    } else {
        wire.code
    };
    let error = if status == StatusCode::PAYMENT_REQUIRED {
        GatewayError::Declined {
            code,
            message: wire.message,
        }
    } else {
        GatewayError::Refused {
            status: status.as_u16(),
            code,
            message: wire.message,
        }
    };
    Answer::Done(Err(error))
}

/// A transport failure as a reason: its kind, then its causes, without the URL.
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut reason = format!("{kind}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

/// A consecutive-failures circuit breaker with a single half-open probe.
///
/// Time is passed in (`now`) so the state machine is tested without sleeping.
/// The mutex is only held for a few assignments, never across an await.
struct Breaker {
    config: BreakerConfig,
    inner: Mutex<BreakerInner>,
}

struct BreakerInner {
    phase: Phase,
    /// Bumped each time the breaker closes, so the results of attempts
    /// admitted before the last opening are ignored.
    epoch: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ticket {
    Normal { epoch: u64 },
    Probe,
}

/// Leave to make one attempt. Settle it with `succeeded` or `failed`; a probe
/// dropped unsettled (its call was cancelled) frees the probe slot.
#[must_use]
struct Permit<'a> {
    breaker: &'a Breaker,
    ticket: Ticket,
    settled: bool,
}

impl Permit<'_> {
    fn is_probe(&self) -> bool {
        self.ticket == Ticket::Probe
    }

    fn succeeded(mut self, now: Instant) {
        self.settled = true;
        self.breaker.record(self.ticket, true, now);
    }

    fn failed(mut self, now: Instant) {
        self.settled = true;
        self.breaker.record(self.ticket, false, now);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled && self.ticket == Ticket::Probe {
            self.breaker.release_probe();
        }
    }
}

impl Breaker {
    fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(BreakerInner {
                phase: Phase::Closed { failures: 0 },
                epoch: 0,
            }),
        }
    }

    /// A panic elsewhere cannot leave the few fields inconsistent, so a
    /// poisoned lock is used as is.
    fn lock(&self) -> MutexGuard<'_, BreakerInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state(&self, now: Instant) -> BreakerState {
        match self.lock().phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    fn admit(&self, now: Instant) -> Option<Permit<'_>> {
        let (ticket, half_opened) = {
            let mut inner = self.lock();
            match inner.phase {
                Phase::Closed { .. } => (Ticket::Normal { epoch: inner.epoch }, false),
                Phase::Open { until } if now >= until => {
                    inner.phase = Phase::HalfOpen { probing: true };
                    (Ticket::Probe, true)
                }
                Phase::HalfOpen { probing: false } => {
                    inner.phase = Phase::HalfOpen { probing: true };
                    (Ticket::Probe, false)
                }
                Phase::Open { .. } | Phase::HalfOpen { probing: true } => return None,
            }
        };
        if half_opened {
            warn!(
                breaker = "half_open",
                "payment gateway circuit half-open; sending one probe"
            );
        }
        Some(Permit {
            breaker: self,
            ticket,
            settled: false,
        })
    }

    fn record(&self, ticket: Ticket, success: bool, now: Instant) {
        let threshold = self.config.failure_threshold.max(1);
        let transition = {
            let mut inner = self.lock();
            match (ticket, inner.phase) {
                (Ticket::Probe, Phase::HalfOpen { .. }) if success => {
                    inner.phase = Phase::Closed { failures: 0 };
                    inner.epoch += 1;
                    Some("closed: the probe succeeded")
                }
                (Ticket::Probe, Phase::HalfOpen { .. }) => {
                    inner.phase = Phase::Open {
                        until: now + self.config.open_for,
                    };
                    Some("re-opened: the probe failed")
                }
                (Ticket::Normal { epoch }, Phase::Closed { .. })
                    if epoch == inner.epoch && success =>
                {
                    inner.phase = Phase::Closed { failures: 0 };
                    None
                }
                (Ticket::Normal { epoch }, Phase::Closed { failures }) if epoch == inner.epoch => {
                    let failures = failures + 1;
                    if failures >= threshold {
                        inner.phase = Phase::Open {
                            until: now + self.config.open_for,
                        };
                        Some("opened: too many consecutive failures")
                    } else {
                        inner.phase = Phase::Closed { failures };
                        None
                    }
                }
                // An attempt admitted before the breaker last opened.
                _ => None,
            }
        };
        if let Some(transition) = transition {
            warn!(
                open_for_ms = self.config.open_for.as_millis(),
                failure_threshold = threshold,
                "payment gateway circuit {transition}"
            );
        }
    }

    fn release_probe(&self) {
        let mut inner = self.lock();
        if inner.phase == (Phase::HalfOpen { probing: true }) {
            inner.phase = Phase::HalfOpen { probing: false };
        }
    }
}

impl crate::payment::ports::CardPayments for CardGateway {
    async fn charge(&self, request: &ChargeRequest) -> Result<Charge, GatewayError> {
        CardGateway::charge(self, request).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Refund, GatewayError> {
        CardGateway::refund(self, request).await
    }

    async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Charge>, GatewayError> {
        CardGateway::find_charge(self, idempotency_key).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, VecDeque};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::{Path, State};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use serde_json::{Value, json};
    use tokio::sync::Semaphore;

    use super::*;

    const DECLINED_TOKEN: &str = "tok_declined";

    /// What the fake gateway does with one request.
    #[derive(Clone, Default)]
    struct Reply {
        /// Wait for the test to open the gate before answering.
        held: bool,
        delay: Duration,
        /// `None`: answer like the real gateway.
        answer: Option<(u16, Value)>,
    }

    impl Reply {
        fn status(status: u16) -> Self {
            Self::with_body(
                status,
                json!({ "code": "unavailable", "message": "try later" }),
            )
        }

        fn with_body(status: u16, body: Value) -> Self {
            Self {
                answer: Some((status, body)),
                ..Self::default()
            }
        }

        fn normal() -> Self {
            Self::default()
        }

        fn slow(delay: Duration) -> Self {
            Self {
                delay,
                ..Self::default()
            }
        }

        fn held() -> Self {
            Self {
                held: true,
                ..Self::default()
            }
        }
    }

    /// The gateway's contract in memory, with a script of replies that take
    /// precedence, and a count of the requests that reached it.
    struct Fake {
        requests: AtomicUsize,
        keys: Mutex<Vec<String>>,
        script: Mutex<VecDeque<Reply>>,
        /// Used when the script is empty.
        otherwise: Mutex<Reply>,
        charges: Mutex<HashMap<String, Value>>,
        gate: Semaphore,
    }

    impl Fake {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                requests: AtomicUsize::new(0),
                keys: Mutex::default(),
                script: Mutex::default(),
                otherwise: Mutex::new(Reply::normal()),
                charges: Mutex::default(),
                gate: Semaphore::new(0),
            })
        }

        fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }

        fn keys(&self) -> Vec<String> {
            self.keys.lock().unwrap().clone()
        }

        fn script(&self, replies: impl IntoIterator<Item = Reply>) {
            self.script.lock().unwrap().extend(replies);
        }

        fn always(&self, reply: Reply) {
            *self.otherwise.lock().unwrap() = reply;
        }

        /// Counts the request and plays the next scripted reply, if it has
        /// an answer.
        async fn scripted(&self, key: &str) -> Option<(u16, Value)> {
            self.requests.fetch_add(1, Ordering::SeqCst);
            self.keys.lock().unwrap().push(key.to_owned());
            let next = self.script.lock().unwrap().pop_front();
            let reply = next.unwrap_or_else(|| self.otherwise.lock().unwrap().clone());
            if reply.held {
                self.gate.acquire().await.unwrap().forget();
            }
            tokio::time::sleep(reply.delay).await;
            reply.answer
        }
    }

    fn reply(status: u16, body: Value) -> (axum::http::StatusCode, Json<Value>) {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            Json(body),
        )
    }

    async fn post_charge(
        State(fake): State<Arc<Fake>>,
        Json(body): Json<Value>,
    ) -> (axum::http::StatusCode, Json<Value>) {
        let key = body["idempotency_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some((status, answer)) = fake.scripted(&key).await {
            return reply(status, answer);
        }
        if body["card_token"] == DECLINED_TOKEN {
            return reply(
                402,
                json!({ "code": "card_declined", "message": "The card was declined." }),
            );
        }
        let mut charges = fake.charges.lock().unwrap();
        if let Some(existing) = charges.get(&key) {
            if existing["amount_cents"] == body["amount_cents"]
                && existing["currency"] == body["currency"]
            {
                return reply(200, existing.clone());
            }
            return reply(
                409,
                json!({ "code": "idempotency_mismatch", "message": "key reused" }),
            );
        }
        let charge = json!({
            "charge_id": format!("ch_{}", charges.len() + 1),
            "idempotency_key": key,
            "amount_cents": body["amount_cents"],
            "currency": body["currency"],
            "status": "succeeded",
            "refunded_cents": 0,
        });
        charges.insert(key, charge.clone());
        reply(201, charge)
    }

    async fn get_charge(
        State(fake): State<Arc<Fake>>,
        Path(key): Path<String>,
    ) -> (axum::http::StatusCode, Json<Value>) {
        if let Some((status, answer)) = fake.scripted(&key).await {
            return reply(status, answer);
        }
        match fake.charges.lock().unwrap().get(&key) {
            Some(charge) => reply(200, charge.clone()),
            None => reply(
                404,
                json!({ "code": "no_such_charge", "message": "no charge" }),
            ),
        }
    }

    async fn post_refund(
        State(fake): State<Arc<Fake>>,
        Json(body): Json<Value>,
    ) -> (axum::http::StatusCode, Json<Value>) {
        let key = body["idempotency_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if let Some((status, answer)) = fake.scripted(&key).await {
            return reply(status, answer);
        }
        let mut charges = fake.charges.lock().unwrap();
        let Some(charge) = charges
            .values_mut()
            .find(|c| c["charge_id"] == body["charge_id"])
        else {
            return reply(
                404,
                json!({ "code": "no_such_charge", "message": "no charge" }),
            );
        };
        let amount = body["amount_cents"].as_u64().unwrap_or_default();
        let refunded = charge["refunded_cents"].as_u64().unwrap_or_default() + amount;
        if refunded > charge["amount_cents"].as_u64().unwrap_or_default() {
            return reply(
                409,
                json!({ "code": "refund_exceeds_charge", "message": "too much" }),
            );
        }
        charge["refunded_cents"] = json!(refunded);
        reply(
            201,
            json!({ "refund_id": format!("re_{key}"), "charge_id": body["charge_id"], "amount_cents": amount }),
        )
    }

    async fn serve(fake: Arc<Fake>) -> String {
        let app = Router::new()
            .route("/v1/charges", post(post_charge))
            .route("/v1/charges/{key}", get(get_charge))
            .route("/v1/refunds", post(post_refund))
            .with_state(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }

    /// Fast backoff, a generous timeout and a breaker out of the way.
    fn test_config(base_url: &str) -> GatewayConfig {
        GatewayConfig {
            timeout: Duration::from_secs(5),
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            breaker: BreakerConfig {
                failure_threshold: 100,
                open_for: Duration::from_millis(200),
            },
            ..GatewayConfig::new(base_url).unwrap()
        }
    }

    async fn gateway_with(configure: impl FnOnce(&mut GatewayConfig)) -> (CardGateway, Arc<Fake>) {
        let fake = Fake::new();
        let mut config = test_config(&serve(fake.clone()).await);
        configure(&mut config);
        (CardGateway::new(config).unwrap(), fake)
    }

    fn charge_request(key: &str) -> ChargeRequest {
        ChargeRequest {
            idempotency_key: key.to_owned(),
            amount_cents: 2_500,
            currency: "EUR".to_owned(),
            card_token: "tok_visa".to_owned(),
        }
    }

    fn is_circuit_open(result: &Result<Charge, GatewayError>) -> bool {
        matches!(result, Err(GatewayError::Unavailable { reason }) if reason == CIRCUIT_OPEN)
    }

    /// Polls until the fake has seen `count` requests (a held probe).
    async fn until_requests(fake: &Fake, count: usize) {
        for _ in 0..500 {
            if fake.requests() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "the fake gateway saw {} requests, expected {count}",
            fake.requests()
        );
    }

    #[tokio::test]
    async fn an_approved_charge_is_returned() {
        let (gateway, fake) = gateway_with(|_| {}).await;

        let charge = gateway.charge(&charge_request("pay-1")).await.unwrap();

        assert_eq!(charge.idempotency_key, "pay-1");
        assert_eq!(charge.amount_cents, 2_500);
        assert_eq!(charge.currency, "EUR");
        assert_eq!(charge.status, "succeeded");
        assert_eq!(charge.refunded_cents, 0);
        assert_eq!(fake.requests(), 1);
    }

    #[tokio::test]
    async fn a_replayed_key_returns_the_earlier_charge() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        let first = gateway.charge(&charge_request("pay-1")).await.unwrap();

        let replay = gateway.charge(&charge_request("pay-1")).await.unwrap();

        assert_eq!(replay, first);
        assert_eq!(fake.charges.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_key_reused_for_another_amount_is_refused() {
        let (gateway, _fake) = gateway_with(|_| {}).await;
        gateway.charge(&charge_request("pay-1")).await.unwrap();
        let other = ChargeRequest {
            amount_cents: 9_900,
            ..charge_request("pay-1")
        };

        let err = gateway.charge(&other).await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Refused { status: 409, code, .. } if code == "idempotency_mismatch"),
            "{err:?}"
        );
        assert!(!err.is_transient());
    }

    #[tokio::test]
    async fn a_decline_is_definitive_and_not_retried() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        let request = ChargeRequest {
            card_token: DECLINED_TOKEN.to_owned(),
            ..charge_request("pay-1")
        };

        let err = gateway.charge(&request).await.unwrap_err();

        assert_eq!(
            err,
            GatewayError::Declined {
                code: "card_declined".into(),
                message: "The card was declined.".into()
            }
        );
        assert!(!err.is_transient());
        assert_eq!(fake.requests(), 1);
    }

    #[tokio::test]
    async fn two_503s_then_a_201_succeed_on_the_third_attempt_with_the_same_key() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        fake.script([Reply::status(503), Reply::status(503)]);

        let charge = gateway.charge(&charge_request("pay-1")).await.unwrap();

        assert_eq!(charge.idempotency_key, "pay-1");
        assert_eq!(fake.requests(), 3);
        assert_eq!(fake.keys(), ["pay-1", "pay-1", "pay-1"]);
    }

    #[tokio::test]
    async fn a_gateway_that_keeps_failing_is_unavailable_after_every_attempt() {
        let (gateway, fake) = gateway_with(|c| c.attempts = 3).await;
        fake.always(Reply::status(503));

        let err = gateway.charge(&charge_request("pay-1")).await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Unavailable { reason } if reason.contains("503")),
            "{err:?}"
        );
        assert!(err.is_transient());
        assert_eq!(fake.requests(), 3);
    }

    #[tokio::test]
    async fn too_many_requests_is_retried() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        fake.script([Reply::status(429)]);

        gateway.charge(&charge_request("pay-1")).await.unwrap();

        assert_eq!(fake.requests(), 2);
    }

    #[tokio::test]
    async fn a_gateway_slower_than_the_timeout_is_unavailable() {
        let (gateway, fake) = gateway_with(|c| {
            c.timeout = Duration::from_millis(100);
            c.attempts = 2;
        })
        .await;
        fake.always(Reply::slow(Duration::from_secs(2)));

        let err = gateway.charge(&charge_request("pay-1")).await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Unavailable { reason } if reason.contains("timed out")),
            "{err:?}"
        );
        assert_eq!(fake.requests(), 2);
    }

    #[tokio::test]
    async fn a_gateway_that_refuses_connections_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut config = test_config(&format!("http://{addr}"));
        config.attempts = 2;
        let gateway = CardGateway::new(config).unwrap();

        let err = gateway.charge(&charge_request("pay-1")).await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Unavailable { reason } if reason.contains("connect")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_success_body_that_cannot_be_read_is_retried() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        fake.script([Reply::with_body(201, json!({ "unexpected": true }))]);

        gateway.charge(&charge_request("pay-1")).await.unwrap();

        assert_eq!(fake.requests(), 2);
    }

    #[tokio::test]
    async fn the_card_token_never_appears_in_an_error() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        let request = ChargeRequest {
            card_token: "tok_secret123".to_owned(),
            ..charge_request("pay-1")
        };
        fake.script([Reply::with_body(
            400,
            json!({ "code": "invalid_request", "message": "card_token tok_secret123 is malformed" }),
        )]);

        let err = gateway.charge(&request).await.unwrap_err();

        assert!(
            matches!(err, GatewayError::Refused { status: 400, .. }),
            "{err:?}"
        );
        assert!(!err.to_string().contains("tok_secret123"), "{err}");
        assert!(!format!("{err:?}").contains("tok_secret123"));
        assert!(!format!("{request:?}").contains("tok_secret123"));
    }

    #[tokio::test]
    async fn a_refund_is_made_and_an_excessive_one_is_refused_without_retry() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        let charge = gateway.charge(&charge_request("pay-1")).await.unwrap();
        let refund = |key: &str, amount_cents| RefundRequest {
            idempotency_key: key.to_owned(),
            charge_id: charge.charge_id.clone(),
            amount_cents,
        };

        let made = gateway.refund(&refund("ref-1", 2_000)).await.unwrap();
        let requests_before = fake.requests();
        let err = gateway.refund(&refund("ref-2", 1_000)).await.unwrap_err();

        assert_eq!(made.amount_cents, 2_000);
        assert_eq!(made.charge_id, charge.charge_id);
        assert!(
            matches!(&err, GatewayError::Refused { status: 409, code, .. } if code == "refund_exceeds_charge"),
            "{err:?}"
        );
        assert_eq!(fake.requests(), requests_before + 1);
    }

    #[tokio::test]
    async fn a_refund_of_an_unknown_charge_is_refused() {
        let (gateway, _fake) = gateway_with(|_| {}).await;
        let request = RefundRequest {
            idempotency_key: "ref-1".into(),
            charge_id: "ch_missing".into(),
            amount_cents: 100,
        };

        let err = gateway.refund(&request).await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Refused { status: 404, code, .. } if code == "no_such_charge"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn find_charge_tells_whether_an_ambiguous_charge_was_made() {
        let (gateway, fake) = gateway_with(|c| c.attempts = 1).await;
        // Given a charge the gateway made but whose answer was lost (a 503
        // after the fact looks the same to the client)
        fake.charges.lock().unwrap().insert(
            "pay/1 ?".into(),
            json!({
                "charge_id": "ch_9", "idempotency_key": "pay/1 ?", "amount_cents": 2500,
                "currency": "EUR", "status": "succeeded", "refunded_cents": 0
            }),
        );

        let found = gateway.find_charge("pay/1 ?").await.unwrap();
        let missing = gateway.find_charge("pay-2").await.unwrap();

        assert_eq!(found.map(|c| c.charge_id).as_deref(), Some("ch_9"));
        assert_eq!(missing, None);
        assert_eq!(fake.keys(), ["pay/1 ?", "pay-2"]);
    }

    #[tokio::test]
    async fn a_404_without_no_such_charge_is_not_taken_for_no_charge() {
        let (gateway, fake) = gateway_with(|_| {}).await;
        fake.script([Reply::with_body(404, json!({}))]);

        let err = gateway.find_charge("pay-1").await.unwrap_err();

        assert!(
            matches!(&err, GatewayError::Refused { status: 404, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_breaker_opens_after_the_threshold_and_then_fails_fast_without_a_request() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 1;
            c.breaker.failure_threshold = 3;
            c.breaker.open_for = Duration::from_secs(60);
        })
        .await;
        fake.always(Reply::status(503));
        for _ in 0..3 {
            gateway.charge(&charge_request("pay-1")).await.unwrap_err();
        }
        assert_eq!(gateway.breaker_state(), BreakerState::Open);

        let result = gateway.charge(&charge_request("pay-1")).await;

        assert!(is_circuit_open(&result), "{result:?}");
        assert_eq!(fake.requests(), 3);
    }

    #[tokio::test]
    async fn retries_stop_when_the_breaker_opens_mid_call() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 5;
            c.breaker.failure_threshold = 2;
            c.breaker.open_for = Duration::from_secs(60);
        })
        .await;
        fake.always(Reply::status(503));

        let result = gateway.charge(&charge_request("pay-1")).await;

        assert!(is_circuit_open(&result), "{result:?}");
        assert_eq!(fake.requests(), 2);
    }

    #[tokio::test]
    async fn declines_and_refusals_count_as_successes_for_the_breaker() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 1;
            c.breaker.failure_threshold = 2;
        })
        .await;
        let declined = ChargeRequest {
            card_token: DECLINED_TOKEN.to_owned(),
            ..charge_request("pay-2")
        };
        fake.script([Reply::status(503)]);
        gateway.charge(&charge_request("pay-1")).await.unwrap_err();

        gateway.charge(&declined).await.unwrap_err();
        fake.script([Reply::status(503)]);
        gateway.charge(&charge_request("pay-3")).await.unwrap_err();

        assert_eq!(gateway.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn after_open_for_one_probe_goes_through_and_its_success_closes_the_breaker() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 1;
            c.breaker.failure_threshold = 2;
            c.breaker.open_for = Duration::from_millis(200);
        })
        .await;
        fake.script([Reply::status(503), Reply::status(503)]);
        for _ in 0..2 {
            gateway.charge(&charge_request("pay-1")).await.unwrap_err();
        }

        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(gateway.breaker_state(), BreakerState::HalfOpen);
        let probe = gateway.charge(&charge_request("pay-1")).await;

        assert!(probe.is_ok(), "{probe:?}");
        assert_eq!(fake.requests(), 3);
        assert_eq!(gateway.breaker_state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_failed_probe_opens_the_breaker_again() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 1;
            c.breaker.failure_threshold = 1;
            c.breaker.open_for = Duration::from_millis(500);
        })
        .await;
        fake.always(Reply::status(503));
        gateway.charge(&charge_request("pay-1")).await.unwrap_err();
        tokio::time::sleep(Duration::from_millis(600)).await;

        gateway.charge(&charge_request("pay-1")).await.unwrap_err();

        assert_eq!(fake.requests(), 2);
        assert_eq!(gateway.breaker_state(), BreakerState::Open);
        assert!(is_circuit_open(
            &gateway.charge(&charge_request("pay-1")).await
        ));
        assert_eq!(fake.requests(), 2);
    }

    #[tokio::test]
    async fn half_open_lets_only_one_concurrent_probe_through() {
        let (gateway, fake) = gateway_with(|c| {
            c.attempts = 1;
            c.breaker.failure_threshold = 1;
            c.breaker.open_for = Duration::from_millis(200);
        })
        .await;
        fake.script([Reply::status(503), Reply::held()]);
        gateway.charge(&charge_request("pay-1")).await.unwrap_err();
        tokio::time::sleep(Duration::from_millis(300)).await;

        // Given a probe held by the gateway
        let probe = tokio::spawn({
            let gateway = gateway.clone();
            async move { gateway.charge(&charge_request("pay-1")).await }
        });
        until_requests(&fake, 2).await;
        // When others call meanwhile
        let others = futures::future::join_all((0..3).map(|i| {
            let gateway = gateway.clone();
            async move { gateway.charge(&charge_request(&format!("pay-{i}"))).await }
        }))
        .await;

        // Then they fail fast, and the probe alone decides
        assert!(others.iter().all(is_circuit_open), "{others:?}");
        assert_eq!(fake.requests(), 2);
        assert_eq!(gateway.breaker_state(), BreakerState::HalfOpen);
        fake.gate.add_permits(1);
        assert!(probe.await.unwrap().is_ok());
        assert_eq!(gateway.breaker_state(), BreakerState::Closed);
    }

    #[test]
    fn a_gateway_url_must_be_http_or_https_with_a_host() {
        for bad in [
            "ftp://gw.example.com",
            "gw.example.com",
            "not a url",
            "https://gw.example.com/?k=v",
            "https://user:secret@gw.example.com",
            "",
        ] {
            let err = GatewayConfig::new(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "PAYMENT_GATEWAY_URL",
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        let config = GatewayConfig::new("https://gw.example.com/api/").unwrap();
        assert_eq!(config.timeout, Duration::from_secs(2));
        assert_eq!(config.connect_timeout, Duration::from_millis(500));
        assert_eq!(config.attempts, 3);
        assert_eq!(config.breaker, BreakerConfig::default());
    }

    #[test]
    fn endpoints_keep_the_base_path_and_escape_the_key() {
        let gateway =
            CardGateway::new(GatewayConfig::new("https://gw.example.com/api/").unwrap()).unwrap();

        assert_eq!(
            gateway.endpoint(&["v1", "charges"]).as_str(),
            "https://gw.example.com/api/v1/charges"
        );
        assert_eq!(
            gateway.endpoint(&["v1", "charges", "a/b c"]).as_str(),
            "https://gw.example.com/api/v1/charges/a%2Fb%20c"
        );
    }

    #[test]
    fn zero_is_not_a_valid_count() {
        assert!(matches!(
            at_least_one("PAYMENT_GATEWAY_ATTEMPTS", 0u32),
            Err(ConfigError::Invalid {
                name: "PAYMENT_GATEWAY_ATTEMPTS",
                ..
            })
        ));
        assert_eq!(at_least_one("PAYMENT_GATEWAY_ATTEMPTS", 1u32).unwrap(), 1);
    }

    mod breaker {
        use super::*;

        fn breaker(threshold: u32) -> Breaker {
            Breaker::new(BreakerConfig {
                failure_threshold: threshold,
                open_for: Duration::from_secs(10),
            })
        }

        fn fail(breaker: &Breaker, now: Instant) {
            breaker.admit(now).unwrap().failed(now);
        }

        #[test]
        fn it_opens_after_the_threshold_of_consecutive_failures() {
            let (breaker, t0) = (breaker(3), Instant::now());
            fail(&breaker, t0);
            fail(&breaker, t0);
            assert_eq!(breaker.state(t0), BreakerState::Closed);

            fail(&breaker, t0);

            assert_eq!(breaker.state(t0), BreakerState::Open);
            assert!(breaker.admit(t0 + Duration::from_secs(9)).is_none());
        }

        #[test]
        fn a_success_resets_the_count_of_failures() {
            let (breaker, t0) = (breaker(2), Instant::now());
            fail(&breaker, t0);
            breaker.admit(t0).unwrap().succeeded(t0);

            fail(&breaker, t0);

            assert_eq!(breaker.state(t0), BreakerState::Closed);
        }

        #[test]
        fn after_open_for_exactly_one_probe_is_admitted() {
            let (breaker, t0) = (breaker(1), Instant::now());
            fail(&breaker, t0);
            let later = t0 + Duration::from_secs(10);

            let probe = breaker.admit(later).unwrap();

            assert!(probe.is_probe());
            assert!(breaker.admit(later).is_none());
            probe.succeeded(later);
            assert_eq!(breaker.state(later), BreakerState::Closed);
            assert!(breaker.admit(later).is_some_and(|p| !p.is_probe()));
        }

        #[test]
        fn a_failed_probe_opens_it_for_another_open_for() {
            let (breaker, t0) = (breaker(1), Instant::now());
            fail(&breaker, t0);
            let probe_time = t0 + Duration::from_secs(15);

            fail(&breaker, probe_time);

            assert_eq!(
                breaker.state(probe_time + Duration::from_secs(9)),
                BreakerState::Open
            );
            assert_eq!(
                breaker.state(probe_time + Duration::from_secs(10)),
                BreakerState::HalfOpen
            );
        }

        #[test]
        fn a_cancelled_probe_frees_the_probe_slot() {
            let (breaker, t0) = (breaker(1), Instant::now());
            fail(&breaker, t0);
            let later = t0 + Duration::from_secs(10);

            drop(breaker.admit(later).unwrap());

            assert!(breaker.admit(later).is_some_and(|p| p.is_probe()));
        }

        #[test]
        fn results_of_attempts_admitted_before_it_opened_are_ignored() {
            let (breaker, t0) = (breaker(1), Instant::now());
            let stale_success = breaker.admit(t0).unwrap();
            let stale_failure = breaker.admit(t0).unwrap();
            fail(&breaker, t0);
            let later = t0 + Duration::from_secs(10);
            let probe = breaker.admit(later).unwrap();

            stale_success.succeeded(later);
            assert_eq!(breaker.state(later), BreakerState::HalfOpen);
            probe.succeeded(later);
            stale_failure.failed(later);

            assert_eq!(breaker.state(later), BreakerState::Closed);
        }
    }
}

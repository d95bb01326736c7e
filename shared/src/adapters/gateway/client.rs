//! The gateway's HTTP client: every attempt admitted by the circuit
//! breaker, transient failures retried with backoff under the caller's
//! idempotency key.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tracing::{debug, instrument, warn};

use super::GatewayConfig;
use super::wire::{CHARGES, ErrorBody, NO_SUCH_CHARGE, REFUNDS};
use crate::payment::card::{
    CIRCUIT_OPEN, Charge, ChargeRequest, GatewayError, Refund, RefundRequest,
};
use crate::resilience::{Breaker, BreakerState};
use crate::retry::backoff_with_jitter;

/// The card gateway's HTTP client. Build it once per process and clone it
/// freely: clones share the connection pool and the circuit breaker.
#[derive(Clone)]
pub struct CardGateway {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
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
                breaker: Breaker::new("payment gateway", config.breaker),
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
        let url = self.endpoint(&CHARGES);
        self.call(|client| client.post(url.clone()).json(request), answer)
            .await
            .map_err(|e| redacted(e, &request.card_token))
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
        let url = self.endpoint(&REFUNDS);
        self.call(|client| client.post(url.clone()).json(request), answer)
            .await
    }

    /// The charge made under `idempotency_key`, if any: how to settle a
    /// charge that ended in [`GatewayError::Unavailable`].
    #[instrument(skip(self, idempotency_key), fields(idempotency_key = %idempotency_key))]
    pub async fn find_charge(&self, idempotency_key: &str) -> Result<Option<Charge>, GatewayError> {
        let url = self.endpoint(&[CHARGES[0], CHARGES[1], idempotency_key]);
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

    pub(super) fn endpoint(&self, segments: &[&str]) -> Url {
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
                    return Err(circuit_open());
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
                return Err(circuit_open());
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
    let wire: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
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

/// The error of a call the open breaker refused.
fn circuit_open() -> GatewayError {
    GatewayError::Unavailable {
        reason: CIRCUIT_OPEN.to_owned(),
    }
}

/// The same error with every occurrence of `secret` replaced, in case the
/// gateway echoes a card token in its message.
fn redacted(error: GatewayError, secret: &str) -> GatewayError {
    if secret.is_empty() {
        return error;
    }
    let clean = |text: String| text.replace(secret, "[redacted]");
    match error {
        GatewayError::Declined { code, message } => GatewayError::Declined {
            code: clean(code),
            message: clean(message),
        },
        GatewayError::Refused {
            status,
            code,
            message,
        } => GatewayError::Refused {
            status,
            code: clean(code),
            message: clean(message),
        },
        GatewayError::Unavailable { reason } => GatewayError::Unavailable {
            reason: clean(reason),
        },
    }
}

//! The client against a scripted gateway on a local port: retries,
//! timeouts, refusals, the breaker in the loop, and the configuration.
//!
//! Over 600 lines on purpose: one scripted gateway (about 250 lines) and
//! the cases that share it; splitting them would only add imports.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use super::config::at_least_one;
use super::*;
use crate::config::ConfigError;

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

//! The fake gateway through HTTP on a local port.

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

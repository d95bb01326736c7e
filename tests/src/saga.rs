//! Helpers of the saga tests: customers with wallets, paid bookings, the fake
//! card gateway, and the reconciliation check every saga test ends with.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::{Account, Cloud, PATIENCE, access_token, eventually};

/// Statuses a booking's saga ends in.
pub const TERMINAL: [&str; 4] = ["CONFIRMED", "FAILED", "CANCELLED", "EXPIRED"];

/// A signed-in customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub account: Account,
    pub token: String,
}

/// What a test touched, for [`Cloud::reconcile`].
#[derive(Debug, Default, Clone)]
pub struct Touched {
    pub bookings: BTreeSet<String>,
    pub users: BTreeSet<String>,
    pub slots: BTreeSet<String>,
}

impl Cloud {
    /// A fresh customer, signed in, whose wallet holds `points` (none if 0).
    pub async fn customer(&self, points: u64) -> Customer {
        self.customer_in("en", points).await
    }

    /// [`Cloud::customer`], whose account is in `language`.
    pub async fn customer_in(&self, language: &str, points: u64) -> Customer {
        let account = self.new_account_in(language).await;
        let token = access_token(&self.login(&account).await);
        if points > 0 {
            let res = self
                .top_up(&token, points, &uuid::Uuid::new_v4().to_string())
                .await;
            assert_eq!(res.status(), 201, "topping up");
        }
        Customer { account, token }
    }

    /// `POST /wallet/charge`, paid with the gateway's test card.
    pub async fn top_up(&self, token: &str, points: u64, key: &str) -> reqwest::Response {
        self.top_up_with(token, points, "tok_visa", key).await
    }

    /// `POST /wallet/charge`, paid with `card`.
    pub async fn top_up_with(
        &self,
        token: &str,
        points: u64,
        card: &str,
        key: &str,
    ) -> reqwest::Response {
        self.http
            .post(self.url("/wallet/charge"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "points": points, "card_token": card }))
            .send()
            .await
            .expect("the API answers")
    }

    /// `GET /wallet` (first page of 100).
    pub async fn wallet(&self, token: &str) -> Value {
        let res = self
            .http
            .get(self.url("/wallet?limit=100"))
            .bearer_auth(token)
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 200, "GET /wallet");
        res.json().await.expect("a wallet")
    }

    /// Books `quantity` places paid by `payment` (e.g. `{"method":"wallet"}`)
    /// and returns the 201 answer.
    pub async fn book_paid(
        &self,
        customer: &Customer,
        slot: &str,
        quantity: u32,
        payment: &Value,
    ) -> Value {
        let res = self
            .http
            .post(self.url("/bookings"))
            .bearer_auth(&customer.token)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&json!({
                "kind": "counted", "slot_id": slot, "quantity": quantity, "payment": payment,
            }))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 201, "booking {slot}");
        res.json().await.expect("a booking")
    }

    /// `GET /bookings/{id}` as `token`.
    pub async fn booking(&self, token: &str, id: &str) -> Value {
        let res = self
            .http
            .get(self.url(&format!("/bookings/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 200, "GET /bookings/{id}");
        res.json().await.expect("a booking")
    }

    /// `GET /bookings/{id}/history` as `token`.
    pub async fn history(&self, token: &str, id: &str) -> Vec<Value> {
        let res = self
            .http
            .get(self.url(&format!("/bookings/{id}/history")))
            .bearer_auth(token)
            .send()
            .await
            .expect("the API answers");
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.expect("a history");
        body["history"]
            .as_array()
            .or_else(|| body.as_array())
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until the booking reaches one of `statuses`, and returns it.
    pub async fn wait_for_status(
        &self,
        token: &str,
        id: &str,
        statuses: &[&str],
        patience: Duration,
    ) -> Value {
        eventually(
            &format!("booking {id} to become one of {statuses:?}"),
            patience,
            || async {
                let booking = self.booking(token, id).await;
                statuses
                    .contains(&booking["status"].as_str().unwrap_or_default())
                    .then_some(booking)
            },
        )
        .await
    }

    /// Waits until the event pipeline has worked through everything written
    /// so far: a paid booking made now confirms only once the outbox relay
    /// has read past every earlier stream record and the saga's queues past
    /// their messages. A test that writes events by the thousand ends with
    /// it, so the tests after it do not wait behind its backlog. Patient
    /// (10 minutes): it fails only if the pipeline never catches up.
    pub async fn wait_for_the_pipeline(&self) {
        let admin = self.admin_token().await;
        let slot = self.new_slot(&admin, 1).await;
        let customer = self.customer(10_000).await;
        let marker = self
            .book_paid(&customer, &slot, 1, &json!({ "method": "wallet" }))
            .await;
        let id = marker["id"].as_str().expect("a booking id");
        let patience = Duration::from_secs(600);
        self.wait_for_status(&customer.token, id, &["CONFIRMED"], patience)
            .await;
    }

    /// Waits until the booking's saga is over.
    pub async fn wait_terminal(&self, token: &str, id: &str) -> Value {
        self.wait_for_status(token, id, &TERMINAL, PATIENCE).await
    }

    /// The fake card gateway's URL.
    pub fn gateway(&self) -> String {
        self.state["gateway"]
            .as_str()
            .expect("the local cloud runs a fake gateway")
            .to_owned()
    }

    /// Puts the fake gateway in `mode` ("ok", "down", "fail", "slow").
    pub async fn gateway_mode(&self, mode: &Value) {
        let res = self
            .http
            .put(format!("{}/control/mode", self.gateway()))
            .json(mode)
            .send()
            .await
            .expect("the gateway answers");
        assert!(res.status().is_success(), "setting the gateway's mode");
    }

    /// The fake gateway's counters.
    pub async fn gateway_stats(&self) -> Value {
        self.http
            .get(format!("{}/control/stats", self.gateway()))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("stats")
    }

    /// The gateway's charge made with `key` (a booking id), if any, read
    /// through its control API (which answers in every mode and is not
    /// counted as a payment request).
    pub async fn gateway_charge(&self, key: &str) -> Option<Value> {
        let charges: Value = self
            .http
            .get(format!("{}/control/charges", self.gateway()))
            .send()
            .await
            .expect("the gateway answers")
            .json()
            .await
            .expect("charges");
        charges
            .as_array()
            .or_else(|| charges["charges"].as_array())
            .expect("a list of charges")
            .iter()
            .find(|c| c["idempotency_key"] == key)
            .cloned()
    }

    async fn item(&self, pk: String, sk: &str) -> Option<HashMap<String, AttributeValue>> {
        self.dynamodb
            .get_item()
            .table_name(self.table())
            .key("PK", AttributeValue::S(pk))
            .key("SK", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
    }

    /// Every item of an entity whose `attribute` is one of `values` (a Scan:
    /// fine for a test, never for the platform).
    async fn scan_entity(
        &self,
        entity: &str,
        attribute: &str,
        values: &BTreeSet<String>,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(self.table())
                .filter_expression("entity = :e")
                .expression_attribute_values(":e", AttributeValue::S(entity.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            for item in page.items() {
                let value: Value = serde_dynamo::from_item(item.clone()).expect("an item");
                if value[attribute]
                    .as_str()
                    .is_some_and(|v| values.contains(v))
                {
                    out.push(value);
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return out;
            }
        }
    }

    /// The reconciliation check. Over everything a test touched:
    /// - every booking is terminal;
    /// - each slot's taken places equal the quantities of its PENDING and
    ///   CONFIRMED bookings;
    /// - every wallet's balance equals the sum of its ledger, and is never
    ///   negative on any line;
    /// - every payment matches exactly one booking, agrees with its status,
    ///   and with the ledger (one debit per wallet payment, one credit per
    ///   wallet refund) or the gateway (one charge per card payment, refunds
    ///   as recorded).
    ///
    /// Panics with every mismatch found.
    pub async fn reconcile(&self, touched: &Touched) {
        let mut problems = Vec::new();
        let bookings = self.scan_entity("BOOKING", "user_id", &touched.users).await;
        let by_id: BTreeMap<String, Value> = bookings
            .iter()
            .map(|b| (b["id"].as_str().unwrap().to_owned(), b.clone()))
            .collect();
        for id in &touched.bookings {
            match by_id.get(id) {
                None => problems.push(format!("booking {id} is missing")),
                Some(b) if !TERMINAL.contains(&b["status"].as_str().unwrap_or_default()) => {
                    problems.push(format!("booking {id} is {}, not terminal", b["status"]));
                }
                Some(_) => {}
            }
        }
        // Capacity.
        for slot in &touched.slots {
            let all = self
                .scan_entity("BOOKING", "slot_id", &BTreeSet::from([slot.clone()]))
                .await;
            let live: u64 = all
                .iter()
                .filter(|b| matches!(b["status"].as_str(), Some("PENDING" | "CONFIRMED")))
                .map(|b| b["quantity"].as_u64().unwrap())
                .sum();
            let view = self.slot_view(slot).await;
            let taken = view["capacity"].as_u64().unwrap() - view["remaining"].as_u64().unwrap();
            if taken != live {
                problems.push(format!(
                    "slot {slot}: {taken} places taken, but its live bookings hold {live}"
                ));
            }
        }
        // Wallets.
        let mut ledger_by_booking: BTreeMap<(String, String), i64> = BTreeMap::new();
        for user in &touched.users {
            let wallet = self.item(format!("WALLET#{user}"), "WALLET").await;
            let balance = wallet
                .as_ref()
                .and_then(|w| w.get("balance"))
                .and_then(|b| b.as_n().ok())
                .map_or(0, |b| b.parse::<i64>().unwrap());
            let entries = self
                .dynamodb
                .query()
                .table_name(self.table())
                .key_condition_expression("PK = :pk AND begins_with(SK, :l)")
                .expression_attribute_values(":pk", AttributeValue::S(format!("WALLET#{user}")))
                .expression_attribute_values(":l", AttributeValue::S("LEDGER#".into()))
                .consistent_read(true)
                .send()
                .await
                .expect("ledger");
            let mut sum = 0i64;
            for item in entries.items() {
                let e: Value = serde_dynamo::from_item(item.clone()).expect("entry");
                let points = e["points"].as_i64().unwrap();
                sum += points;
                if let Some(booking) = e["booking_id"].as_str() {
                    *ledger_by_booking
                        .entry((booking.to_owned(), e["kind"].as_str().unwrap().to_owned()))
                        .or_default() += 1;
                }
            }
            if balance != sum || balance < 0 {
                problems.push(format!(
                    "wallet {user}: balance {balance}, ledger sums to {sum}"
                ));
            }
        }
        for ((booking, kind), count) in &ledger_by_booking {
            if *count != 1 {
                problems.push(format!(
                    "booking {booking}: {count} ledger entries of {kind}"
                ));
            }
        }
        // Payments.
        let payments = self.scan_entity("PAYMENT", "user_id", &touched.users).await;
        let mut paid = BTreeSet::new();
        for p in &payments {
            let id = p["booking_id"].as_str().unwrap().to_owned();
            let status = p["status"].as_str().unwrap_or_default();
            let Some(booking) = by_id.get(&id) else {
                problems.push(format!("payment of {id} has no booking"));
                continue;
            };
            paid.insert(id.clone());
            let booked = booking["status"].as_str().unwrap_or_default();
            let fits = match status {
                "COMPLETED" => matches!(booked, "CONFIRMED" | "CANCELLED"),
                "REFUNDED" => matches!(booked, "CANCELLED" | "EXPIRED" | "FAILED"),
                "FAILED" => matches!(booked, "FAILED" | "EXPIRED" | "CANCELLED"),
                "VOIDED" => matches!(booked, "EXPIRED" | "CANCELLED" | "FAILED"),
                _ => false,
            };
            if !fits {
                problems.push(format!(
                    "payment of {id} is {status} but the booking is {booked}"
                ));
            }
            if status == "COMPLETED" && p["amount_cents"] != booking["price_cents"] {
                problems.push(format!(
                    "payment of {id} is for {} but the booking costs {}",
                    p["amount_cents"], booking["price_cents"]
                ));
            }
            let took_money = matches!(status, "COMPLETED" | "REFUNDED");
            match p["method"].as_str() {
                Some("WALLET") => {
                    let debits = ledger_by_booking
                        .get(&(id.clone(), "PAYMENT".into()))
                        .copied()
                        .unwrap_or(0);
                    let credits = ledger_by_booking
                        .get(&(id.clone(), "REFUND".into()))
                        .copied()
                        .unwrap_or(0);
                    if debits != i64::from(took_money) {
                        problems.push(format!(
                            "wallet payment of {id} ({status}) has {debits} debits"
                        ));
                    }
                    if credits != i64::from(status == "REFUNDED") {
                        problems.push(format!(
                            "wallet payment of {id} ({status}) has {credits} credits"
                        ));
                    }
                }
                Some("CARD") => {
                    let charge = self.gateway_charge(&id).await;
                    match (&charge, took_money) {
                        (Some(c), true) => {
                            if c["charge_id"] != p["charge_id"] {
                                problems
                                    .push(format!("card payment of {id} records another charge"));
                            }
                            if c["refunded_cents"] != p["refunded_cents"] {
                                problems.push(format!(
                                    "card payment of {id}: gateway refunded {}, recorded {}",
                                    c["refunded_cents"], p["refunded_cents"]
                                ));
                            }
                        }
                        (None, false) => {}
                        (Some(c), false) => {
                            if c["refunded_cents"] != c["amount_cents"] {
                                problems.push(format!(
                                    "card of {id} charged but the payment is {status}"
                                ));
                            }
                        }
                        (None, true) => {
                            problems.push(format!("card payment of {id} has no charge"))
                        }
                    }
                }
                other => problems.push(format!("payment of {id} has method {other:?}")),
            }
        }
        for (id, b) in &by_id {
            if b["status"] == "CONFIRMED" && !paid.contains(id) {
                problems.push(format!("booking {id} is CONFIRMED without a payment"));
            }
        }
        assert!(
            problems.is_empty(),
            "reconciliation failed:\n{}",
            problems.join("\n")
        );
    }
}

/// Waits until every booking of `ids` is terminal.
pub async fn all_terminal(cloud: &Cloud, token_of: &BTreeMap<String, String>, patience: Duration) {
    for (id, token) in token_of {
        cloud.wait_for_status(token, id, &TERMINAL, patience).await;
    }
}

//! The harness of the system tests: finds the running local cloud and gives
//! tests its HTTP address and AWS clients pointed at its emulators.
//!
//! `infra/test.sh` starts a local cloud and sets `LOCAL_CLOUD_STATE`; when it
//! is unset, the cloud started by `infra/up.sh` is used.

mod catalog;
pub use catalog::StaffedCompany;
pub use delivery::{bus_event, deliver};
pub mod dates;
mod delivery;
pub mod notifications;
pub mod openapi;
pub mod reporting;
pub mod saga;
pub mod waiting_room;

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Cloud {
    pub api: String,
    pub admin: String,
    pub state: Value,
    pub http: reqwest::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// Region, the cloud's credentials: what a client of one of its
    /// emulators is built from.
    pub sdk: aws_config::SdkConfig,
}

/// An account made for one test: unique email, its password, its id.
#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
    pub id: String,
}

/// How long tests wait for something asynchronous (an event to travel
/// outbox -> stream -> bus -> queue -> consumer) before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A password that passes the sign-up policy.
pub const TEST_PASSWORD: &str = "correct horse 7 battery staple";

/// The running local cloud's state file (`LOCAL_CLOUD_STATE`, else `infra/up.sh`'s).
pub fn state_path() -> PathBuf {
    std::env::var_os("LOCAL_CLOUD_STATE").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.local/run/local-cloud.json"),
        PathBuf::from,
    )
}

impl Cloud {
    /// Connects to the running local cloud, or fails saying how to start one.
    pub async fn connect() -> Self {
        let path = state_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "no local cloud state at {}: run the tests with infra/test.sh, or start infra/up.sh first",
                path.display()
            )
        });
        let state: Value = serde_json::from_str(&text).expect("the state file is JSON");
        let text_of = |k: &str| state[k].as_str().expect("state field").to_owned();
        let creds = aws_sdk_dynamodb::config::Credentials::new(
            text_of("access_key_id"),
            "local",
            None,
            None,
            "tests",
        );
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(creds)
            .load()
            .await;
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(text_of("dynamodb"))
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&sdk)
                .endpoint_url(text_of("aws"))
                .build(),
        );
        let ssm = aws_sdk_ssm::Client::from_conf(
            aws_sdk_ssm::config::Builder::from(&sdk)
                .endpoint_url(text_of("aws"))
                .build(),
        );
        Self {
            ssm,
            api: text_of("api"),
            admin: text_of("admin"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            state,
            dynamodb,
            sqs,
            sdk,
        }
    }

    /// A template parameter's value in the running cloud.
    pub fn parameter(&self, name: &str) -> String {
        self.state["parameters"][name]
            .as_str()
            .unwrap_or_else(|| panic!("no parameter {name} in the state file"))
            .to_owned()
    }

    /// The JWT signing key the local cloud generated, read from SSM the way
    /// the functions read it. Tests use it to forge tokens.
    pub async fn signing_key(&self) -> Vec<u8> {
        let name = self.parameter("JwtSigningKeyParameter");
        let out = self
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .expect("the signing key parameter");
        out.parameter()
            .and_then(|p| p.value())
            .expect("a value")
            .as_bytes()
            .to_vec()
    }

    /// POSTs a JSON body, with a bearer token if given.
    pub async fn post(&self, path: &str, body: &Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("the API answers")
    }

    /// PATCHes a JSON body with a bearer token.
    pub async fn patch(&self, path: &str, body: &Value, token: &str) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("the API answers")
    }

    /// Signs up a fresh account with a unique email.
    pub async fn new_account(&self) -> Account {
        self.new_account_in("en").await
    }

    /// Signs up a fresh account with a unique email, in `language`.
    pub async fn new_account_in(&self, language: &str) -> Account {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4());
        let res = self
            .post(
                "/auth/signup",
                &serde_json::json!({
                    "email": email, "password": TEST_PASSWORD,
                    "name": "Test User", "phone": "+15555550100", "language": language,
                }),
                None,
            )
            .await;
        assert_eq!(res.status(), 201, "signup of {email}");
        let profile: Value = res.json().await.expect("profile");
        Account {
            email,
            password: TEST_PASSWORD.to_owned(),
            id: profile["id"].as_str().expect("id").to_owned(),
        }
    }

    /// Logs in and returns the whole answer (tokens and profile).
    pub async fn login(&self, account: &Account) -> Value {
        let res = self
            .post(
                "/auth/login",
                &serde_json::json!({ "email": account.email, "password": account.password }),
                None,
            )
            .await;
        assert_eq!(res.status(), 200, "login of {}", account.email);
        res.json().await.expect("login answer")
    }

    /// An access token of a fresh USER account.
    pub async fn user_token(&self) -> String {
        let account = self.new_account().await;
        access_token(&self.login(&account).await)
    }

    /// Access tokens of `n` fresh USER accounts, a few signed up at a time:
    /// sign-up and login hash with argon2id, and a burst of them on a
    /// two-core machine queues behind the local cloud's few instances past
    /// the function's timeout. What a test measures comes after.
    pub async fn user_tokens(&self, n: usize) -> Vec<String> {
        use futures::StreamExt;
        futures::stream::iter(0..n)
            .map(|_| self.user_token())
            .buffer_unordered(4)
            .collect()
            .await
    }

    /// Promotes the account with `platform-admin promote`, the operator's
    /// command, against this cloud.
    pub fn promote(&self, account: &Account) {
        let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/platform-admin");
        let out = std::process::Command::new(&bin)
            .args(["promote", &account.email, "--state-file"])
            .arg(state_path())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
        assert!(
            out.status.success(),
            "platform-admin promote failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// An access token of a fresh account promoted to ADMIN.
    pub async fn admin_token(&self) -> String {
        let account = self.new_account().await;
        self.promote(&account);
        access_token(&self.login(&account).await)
    }

    /// The refund policy the running cloud's functions apply.
    pub fn refund_policy(&self) -> shared::payment::RefundPolicy {
        self.parameter("RefundPolicy")
            .parse()
            .expect("the cloud's RefundPolicy parses")
    }

    /// The share of a confirmed booking of `slot` that the cloud's refund
    /// policy gives back for a cancellation now. Panics if the share would
    /// change within the next half hour: a test placed that close to a tier
    /// could see either share, so it is placed wrongly.
    pub fn refund_percent_now(&self, slot: &str) -> u32 {
        use shared::clock::Clock;
        let slot_id = shared::catalog::SlotId::parse(slot).expect("a slot id");
        let start = shared::clock::instant_at(slot_id.date, slot_id.start, dates::VENUE_ZONE);
        let policy = self.refund_policy();
        let now = shared::clock::SystemClock.now();
        let percent = policy.percent(start, now);
        assert_eq!(
            percent,
            policy.percent(start, now + chrono::Duration::minutes(30)),
            "{slot} is within 30 minutes of a tier of the refund policy {policy}"
        );
        percent
    }

    /// Runs the hold sweeper now, as its schedule would at `at`.
    pub async fn sweep_as_of(&self, at: chrono::DateTime<chrono::Utc>) -> Value {
        self.run_as_of("booking-sweeper", at).await
    }

    /// Invokes the scheduled function `binary` now, as its schedule would
    /// at `at`; its answer.
    pub async fn run_as_of(&self, binary: &str, at: chrono::DateTime<chrono::Utc>) -> Value {
        let event = serde_json::json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": "us-east-1", "resources": [], "detail": {}
        });
        let res = self
            .http
            .post(format!("{}/functions/{binary}/invoke", self.admin))
            .json(&event)
            .send()
            .await
            .expect("the admin API answers");
        assert_eq!(res.status(), 200);
        res.json().await.expect("the run's answer")
    }

    /// How many event-log items of `event_type` have `needle` in their
    /// envelope, across every page of the table.
    pub async fn logged_events_mentioning(&self, event_type: &str, needle: &str) -> usize {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(self.table())
                .filter_expression(
                    "entity = :event AND event_type = :type AND contains(envelope, :needle)",
                )
                .expression_attribute_values(":event", AttributeValue::S("EVENT".into()))
                .expression_attribute_values(":type", AttributeValue::S(event_type.into()))
                .expression_attribute_values(":needle", AttributeValue::S(needle.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scanning the event log");
            count += page.count() as usize;
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return count;
            }
        }
    }

    /// Every logged event whose envelope mentions `needle`, with its source.
    pub async fn logged_envelopes_mentioning(
        &self,
        needle: &str,
    ) -> Vec<(String, shared::EventEnvelope)> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(self.table())
                .filter_expression("entity = :event AND contains(envelope, :needle)")
                .expression_attribute_values(":event", AttributeValue::S("EVENT".into()))
                .expression_attribute_values(":needle", AttributeValue::S(needle.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scanning the event log");
            for item in page.items() {
                let text = |k: &str| item[k].as_s().expect("a string attribute").clone();
                let envelope = serde_json::from_str(&text("envelope")).expect("an envelope");
                out.push((text("source"), envelope));
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return out;
            }
        }
    }

    /// The keys (PK, SK) of every item of the table with any of `needles`
    /// (in any case) in any of its texts, keys and nested values included.
    pub async fn items_mentioning(
        &self,
        needles: &[&str],
    ) -> std::collections::BTreeSet<(String, String)> {
        use aws_sdk_dynamodb::types::AttributeValue;
        fn texts(value: &AttributeValue, out: &mut Vec<String>) {
            match value {
                AttributeValue::S(s) => out.push(s.to_lowercase()),
                AttributeValue::M(map) => map.values().for_each(|v| texts(v, out)),
                AttributeValue::L(list) => list.iter().for_each(|v| texts(v, out)),
                AttributeValue::Ss(set) => out.extend(set.iter().map(|s| s.to_lowercase())),
                _ => {}
            }
        }
        let needles: Vec<String> = needles.iter().map(|n| n.to_lowercase()).collect();
        let mut found = std::collections::BTreeSet::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb
                .scan()
                .table_name(self.table())
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .expect("scanning the table");
            for item in page.items() {
                let mut all = Vec::new();
                item.values().for_each(|v| texts(v, &mut all));
                if all.iter().any(|t| needles.iter().any(|n| t.contains(n))) {
                    let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                    found.insert((key("PK").unwrap_or_default(), key("SK").unwrap_or_default()));
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return found;
            }
        }
    }

    /// `!Ref` of a template resource in the running cloud.
    pub fn reference(&self, logical_id: &str) -> String {
        self.state["resources"][logical_id]["ref"]
            .as_str()
            .unwrap_or_else(|| panic!("no resource {logical_id}"))
            .to_owned()
    }

    /// `!GetAtt logical_id.attribute` in the running cloud.
    pub fn attribute(&self, logical_id: &str, attribute: &str) -> String {
        self.state["resources"][logical_id]["attributes"][attribute]
            .as_str()
            .unwrap_or_else(|| panic!("no attribute {logical_id}.{attribute}"))
            .to_owned()
    }

    pub fn table(&self) -> String {
        self.reference("Table")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// A GET of the local cloud's admin API, as JSON.
    pub async fn admin_get(&self, url: impl reqwest::IntoUrl) -> Value {
        self.http
            .get(url)
            .send()
            .await
            .expect("admin api answers")
            .json()
            .await
            .expect("json")
    }

    /// The admin API's view of one function's pool.
    pub async fn function(&self, binary: &str) -> Value {
        let all = self.admin_get(format!("{}/functions", self.admin)).await;
        all.as_array()
            .expect("a list")
            .iter()
            .find(|f| f["binary"] == binary)
            .cloned()
            .unwrap_or_else(|| panic!("no function {binary}"))
    }

    /// The lines of `binary`'s log (the last few thousand it wrote) that
    /// contain `needle`, oldest first.
    pub async fn log_lines(&self, binary: &str, needle: &str) -> Vec<String> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/functions/{binary}/log", self.admin),
            [("contains", needle)],
        )
        .expect("a URL");
        let answer = self.admin_get(url).await;
        answer["lines"]
            .as_array()
            .unwrap_or_else(|| panic!("no log for {binary}: {answer}"))
            .iter()
            .map(|line| line.as_str().expect("a line").to_owned())
            .collect()
    }

    /// Makes the next instance of `binary` that takes an invocation die holding it.
    pub async fn kill_next_invocation(&self, binary: &str) {
        let res = self
            .http
            .post(format!(
                "{}/functions/{binary}/kill-next?count=1",
                self.admin
            ))
            .send()
            .await
            .expect("admin api answers");
        assert!(res.status().is_success());
    }

    /// Kills every instance of `binary` that is running an invocation now
    /// (not before it starts, as `kill_next_invocation` does); returns how
    /// many died.
    pub async fn kill_running(&self, binary: &str) -> u64 {
        let res = self
            .http
            .post(format!("{}/functions/{binary}/kill-busy", self.admin))
            .send()
            .await
            .expect("admin api answers");
        assert!(res.status().is_success());
        res.json::<Value>().await.expect("json")["killed"]
            .as_u64()
            .expect("a count")
    }

    /// The event log's item for an event id, if recorded.
    pub async fn logged_event(
        &self,
        event_id: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.dynamodb
            .get_item()
            .table_name(self.table())
            .key("PK", AttributeValue::S(format!("EVENT#{event_id}")))
            .key("SK", AttributeValue::S("EVENT".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
    }

    /// The bodies of up to ten messages of a queue that mention `needle`,
    /// only peeked: each is visible again at once, for its consumer.
    pub async fn peek(&self, queue_url: &str, needle: &str) -> Vec<String> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .expect("peeking a queue");
        out.messages()
            .iter()
            .filter_map(|m| m.body())
            .filter(|b| b.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    /// Messages still in a queue: visible plus in flight.
    pub async fn queue_depth(&self, queue_url: &str) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|a| {
            attrs
                .get(a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
    }
}

/// The access token of a login or refresh answer.
pub fn access_token(answer: &Value) -> String {
    answer["access_token"]
        .as_str()
        .expect("an access_token")
        .to_owned()
}

/// Polls `check` until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Says in the run's output that a test did not run, and why. `cargo test`
/// shows what a passing test prints only with `--nocapture`, so this writes
/// to the process's stderr itself, past the harness's capture.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {why}");
}

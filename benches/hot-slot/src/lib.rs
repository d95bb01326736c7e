//! What the local-cloud benchmarks share: the running cloud's addresses
//! from its state file, an admin account, and fresh slots.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use shared::CorrelationId;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::service::{self, Attempt};
use shared::booking::{DEFAULT_HOLD_MINUTES, IdempotencyKey, ValidRequest};
use shared::identity::UserId;

use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The zone of the venues the benchmarks create.
pub const VENUE_ZONE: chrono_tz::Tz = chrono_tz::Tz::Asia__Seoul;

/// Today at the benchmarks' venues, so a slot 30 days ahead is 30 days
/// ahead there.
pub fn today_at_venue() -> chrono::NaiveDate {
    use shared::clock::Clock;
    shared::clock::today_in(VENUE_ZONE, shared::clock::SystemClock.now())
}

pub const PASSWORD: &str = "bench horse 7 battery";

/// The parts of the local cloud's state file the benchmark needs.
pub struct Cloud {
    pub api: String,
    /// The local cloud's admin API (what runs, pids).
    pub admin: String,
    pub dynamodb: String,
    /// moto's or LocalStack's address.
    pub aws: String,
    /// What the cloud's emulators are signed with (LocalStack reads the
    /// account from it).
    pub access_key_id: String,
    pub table: String,
    pub http: reqwest::Client,
}

/// Region and these credentials, for a client of the cloud's emulators.
async fn sdk_config(access_key_id: &str) -> aws_config::SdkConfig {
    let creds =
        aws_sdk_dynamodb::config::Credentials::new(access_key_id, "local", None, None, "bench");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(creds)
        .load()
        .await
}

impl Cloud {
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "no local cloud state at {} ({e}): start a local cloud first (see `cargo doc -p hot-slot-bench` or the top of benches/hot-slot/src/main.rs)",
                path.display()
            )
        })?;
        let state: Value = serde_json::from_str(&text)?;
        let field = |v: &Value, what: &str| -> Result<String, Error> {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("the state file has no {what}").into())
        };
        Ok(Self {
            api: field(&state["api"], "api")?,
            admin: field(&state["admin"], "admin")?,
            dynamodb: field(&state["dynamodb"], "dynamodb")?,
            aws: field(&state["aws"], "aws")?,
            access_key_id: field(&state["access_key_id"], "access_key_id")?,
            table: field(&state["resources"]["Table"]["ref"], "resources.Table.ref")?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(1024)
                .build()?,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// Every function pool as the admin API shows it (instances, pids).
    pub async fn functions(&self) -> Result<Vec<Value>, Error> {
        let pools: Value = self
            .http
            .get(format!("{}/functions", self.admin))
            .send()
            .await?
            .json()
            .await?;
        match pools {
            Value::Array(pools) => Ok(pools),
            _ => Err("the admin API lists no functions".into()),
        }
    }

    /// POSTs JSON and returns the body, or fails unless the status is `expect`.
    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
        expect: u16,
    ) -> Result<Value, Error> {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let text = res.text().await?;
        if status != expect {
            return Err(format!("POST {path} answered {status}, not {expect}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Requests the functions and the local cloud have made to an emulator
    /// (`aws`, moto or LocalStack, or `dynamodb`) so far, by `<service>:<action>`, as the local
    /// cloud's proxies counted them.
    pub async fn emulator_requests(
        &self,
        emulator: &str,
    ) -> Result<std::collections::BTreeMap<String, u64>, Error> {
        let res = self
            .http
            .get(format!("{}/emulators/{emulator}/requests", self.admin))
            .send()
            .await?
            .error_for_status()?;
        Ok(res.json().await?)
    }

    /// Region and the cloud's credentials, for a client of its emulators.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config(&self.access_key_id).await
    }

    pub async fn dynamo_client(&self) -> aws_sdk_dynamodb::Client {
        let sdk = self.sdk_config().await;
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .endpoint_url(&self.dynamodb)
                .build(),
        )
    }
}

/// Signs up a fresh account, promotes it and logs in: (user id, access token).
pub async fn admin(
    cloud: &Cloud,
    platform_admin: &Path,
    state_file: &Path,
) -> Result<(String, String), Error> {
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4());
    let profile = sign_up(cloud, &email).await?;
    let user_id = profile["id"]
        .as_str()
        .ok_or("the signup answer has no id")?
        .to_owned();
    if !platform_admin.is_file() {
        return Err(format!(
            "{} is missing: build it first with `cargo build -p platform-admin` (or `cargo build --workspace --bins`)",
            platform_admin.display()
        )
        .into());
    }
    let out = std::process::Command::new(platform_admin)
        .args(["promote", &email, "--state-file"])
        .arg(state_file)
        .output()
        .map_err(|e| format!("running {}: {e}", platform_admin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "platform-admin promote failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok((user_id, log_in(cloud, &email).await?))
}

/// Signs up `email` with the bench's password; returns the profile.
pub async fn sign_up(cloud: &Cloud, email: &str) -> Result<Value, Error> {
    cloud
        .post(
            "/auth/signup",
            &json!({ "email": email, "password": PASSWORD, "name": "Bench", "phone": "+15555550100" }),
            None,
            201,
        )
        .await
}

/// Logs `email` in with the bench's password; returns the access token.
pub async fn log_in(cloud: &Cloud, email: &str) -> Result<String, Error> {
    let login = cloud
        .post(
            "/auth/login",
            &json!({ "email": email, "password": PASSWORD }),
            None,
            200,
        )
        .await?;
    Ok(login["access_token"]
        .as_str()
        .ok_or("the login answer has no access_token")?
        .to_owned())
}

/// KiB of one field (`VmRSS:`, `VmHWM:`) of a process's `/proc/<pid>/status`.
pub fn status_kib(pid: u64, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A fresh venue, COURSE resource and one slot of `capacity` at 08:00 on
/// `date`; returns the slot id.
pub async fn new_slot(
    cloud: &Cloud,
    token: &str,
    date: &str,
    capacity: u32,
) -> Result<String, Error> {
    let company = cloud
        .post(
            "/admin/companies",
            &json!({ "name": "Bench Company", "contact_email": "bench@example.com" }),
            Some(token),
            201,
        )
        .await?;
    let company = company["id"].as_str().ok_or("the company has no id")?;
    let venue = cloud
        .post(
            "/admin/venues",
            &json!({ "company_id": company, "name": "Bench Venue", "kind": "GOLF_CLUB", "city": "Benchville", "time_zone": VENUE_ZONE.name() }),
            Some(token),
            201,
        )
        .await?;
    let venue = venue["id"].as_str().ok_or("the venue has no id")?;
    let resource = cloud
        .post(
            &format!("/admin/venues/{venue}/resources"),
            &json!({ "name": "Hot Course", "kind": "COURSE" }),
            Some(token),
            201,
        )
        .await?;
    let resource = resource["id"].as_str().ok_or("the resource has no id")?;
    cloud
        .post(
            &format!("/admin/resources/{resource}/slots/generate"),
            &json!({
                "from": date, "to": date, "start_times": ["08:00"],
                "duration_minutes": 10, "capacity": capacity,
                "prices": { "weekday": 5000, "weekend": 7000, "holiday": 9000 }
            }),
            Some(token),
            200,
        )
        .await?;
    Ok(format!("{resource}@{date}T08:00"))
}

/// booking-create's transaction, in-process over the DynamoDB adapters:
/// the same GetItem of the slot and TransactWriteItems of seven items.
pub async fn raw_booking(
    (bookings, catalog): &(DynamoBookings, DynamoCatalog),
    user: &UserId,
    request: &ValidRequest,
    fingerprint: &str,
) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let outcome = async {
        let key = IdempotencyKey::parse(Some(&uuid::Uuid::new_v4().to_string()))
            .map_err(|e| e.to_string())?;
        let now = Utc::now();
        let attempt = Attempt {
            user,
            key: &key,
            fingerprint,
            hold: chrono::Duration::minutes(DEFAULT_HOLD_MINUTES),
            cutoff: chrono::Duration::zero(),
            correlation_id: &CorrelationId::generate(),
            now,
            payment: None,
            // The bench's admin books as staff, as over HTTP.
            limits: None,
            pass_token: None,
            passes: None,
        };
        service::create(bookings, catalog, &attempt, request)
            .await
            .map(|_| ())
            .map_err(|e| format!("{} {}", e.status(), e.code()))
    }
    .await;
    (started.elapsed(), outcome)
}

/// Runs `count` calls of `op` with `concurrency` in flight; returns the wall
/// time and each call's outcome.
pub async fn drive<F, Fut>(
    count: usize,
    concurrency: usize,
    op: F,
) -> (Duration, Vec<(Duration, Result<(), String>)>)
where
    F: Fn() -> Fut,
    Fut: Future<Output = (Duration, Result<(), String>)>,
{
    let started = Instant::now();
    let outcomes = futures::stream::iter(0..count)
        .map(|_| op())
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    (started.elapsed(), outcomes)
}

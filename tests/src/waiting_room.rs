//! Driving waiting rooms through the running local cloud: creating one,
//! entering, polling, reading its figures, and running the admitter.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::Cloud;

/// Keeps the admitter running from now until the handle is aborted: one
/// invocation of `seconds` after another, so a run that was killed is
/// followed by the next at once. These run next to the schedule's (the
/// two write under the same conditions, so they never admit twice).
pub fn run_admitter(cloud: &Cloud, seconds: u64) -> tokio::task::JoinHandle<()> {
    let (http, admin) = (cloud.http.clone(), cloud.admin.clone());
    tokio::spawn(async move {
        loop {
            let event = json!({
                "version": "0", "id": uuid::Uuid::new_v4().to_string(),
                "detail-type": "Scheduled Event", "source": "aws.events",
                "account": "123456789012",
                "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "region": "us-east-1", "resources": [], "detail": { "run_seconds": seconds }
            });
            let answered = http
                .post(format!("{admin}/functions/waiting-room-admitter/invoke"))
                .timeout(Duration::from_secs(seconds + 30))
                .json(&event)
                .send()
                .await;
            if answered.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    })
}

/// Creates a room over `resource` with these settings; its id.
pub async fn create_room(cloud: &Cloud, admin: &str, resource: &str, settings: Value) -> String {
    let mut body = json!({ "name": "Flash sale", "resource_ids": [resource] });
    body.as_object_mut().expect("an object").extend(
        settings
            .as_object()
            .expect("settings are an object")
            .clone(),
    );
    let res = cloud.post("/admin/waiting-rooms", &body, Some(admin)).await;
    assert_eq!(res.status(), 201, "creating a room");
    let room: Value = res.json().await.expect("a room");
    room["id"].as_str().expect("an id").to_owned()
}

/// Enters the room: the status code (201 new, 200 the same ticket) and
/// the status.
pub async fn enter(cloud: &Cloud, room: &str, token: &str) -> (u16, Value) {
    let res = cloud
        .post(
            &format!("/waiting-rooms/{room}/ticket"),
            &json!({}),
            Some(token),
        )
        .await;
    let status = res.status().as_u16();
    assert!(res.headers().contains_key("retry-after"), "{status}");
    (status, res.json().await.expect("a status"))
}

/// The caller's status in the room.
pub async fn status(cloud: &Cloud, room: &str, token: &str) -> Value {
    let res = cloud
        .http
        .get(cloud.url(&format!("/waiting-rooms/{room}/ticket")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(res.status(), 200);
    res.json().await.expect("a status")
}

/// Each caller's status, in the order of `tokens`, at most 64 in flight.
pub async fn statuses(cloud: &Cloud, room: &str, tokens: &[String]) -> Vec<Value> {
    futures::stream::iter(tokens)
        .map(|t| status(cloud, room, t))
        .buffered(64)
        .collect()
        .await
}

/// The room's figures, as an admin reads them.
pub async fn figures(cloud: &Cloud, room: &str, admin: &str) -> Value {
    let res = cloud
        .http
        .get(cloud.url(&format!("/admin/waiting-rooms/{room}")))
        .bearer_auth(admin)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("a room")["figures"].clone()
}

/// The positions of the admitted tickets whose pass is unused, in order.
pub fn admitted(all: &[Value]) -> Vec<u64> {
    let mut positions: Vec<u64> = all
        .iter()
        .filter(|s| s["state"] == "ADMITTED" && s["pass_used"] == false)
        .map(|s| s["position"].as_u64().expect("a position"))
        .collect();
    positions.sort_unstable();
    positions
}

impl Cloud {
    /// Access tokens of `n` fresh USER callers, for tests that need
    /// thousands of them: each gets a session written straight to the
    /// table through the identity store (the row a login writes) and a
    /// token signed with the cloud's key. No account and no password, so no
    /// argon2 hashing, which would take minutes for 2,000 sign-ups here.
    /// The authorizer checks these like any other token: signature,
    /// claims, and that the session is active.
    pub async fn session_tokens(&self, n: usize) -> Vec<(shared::identity::UserId, String)> {
        use futures::StreamExt;
        use shared::adapters::dynamo::identity::DynamoIdentity;
        use shared::identity::tokens::{AccessTokens, SigningKey, TokenSettings};
        use shared::ports::{SessionStore, StoredRefreshToken};

        let key = SigningKey::new(self.signing_key().await).expect("the signing key");
        let tokens = AccessTokens::new(
            &key,
            TokenSettings {
                issuer: self.parameter("JwtIssuer"),
                audience: self.parameter("JwtAudience"),
                ..TokenSettings::default()
            },
        );
        let sessions = DynamoIdentity::new(self.dynamodb.clone(), self.table());
        let (tokens, sessions) = (&tokens, &sessions);
        futures::stream::iter(0..n)
            .map(|_| async move {
                let user = shared::identity::UserId::generate();
                let now = chrono::Utc::now();
                let session = StoredRefreshToken {
                    hash: uuid::Uuid::new_v4().simple().to_string(),
                    user_id: user.clone(),
                    family_id: uuid::Uuid::new_v4().to_string(),
                    expires_at: now + chrono::Duration::hours(1),
                };
                sessions
                    .start(&session, now)
                    .await
                    .expect("starting a session");
                let token = tokens
                    .issue(&user, shared::identity::Role::User, &session.family_id, now)
                    .expect("signing a token")
                    .token;
                (user, token)
            })
            .buffer_unordered(16)
            .collect()
            .await
    }
}

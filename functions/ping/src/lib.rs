//! POST /diagnostics/ping: writes a `Ping` event through the outbox, in the
//! same transaction as the platform's heartbeat item, and answers its event
//! id and correlation id so an operator can follow it to the event log.
//! Admins only (`diagnostics:run`).

use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::events::Ping;
use shared::http::{caller, correlation_id, error_response, json_response, parse_json};
use shared::identity::Permission;
use shared::ports::HeartbeatStore;
use shared::{AppError, EventEnvelope, EventSource};

/// The longest note a ping may carry.
pub const MAX_NOTE_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PingRequest {
    note: String,
}

/// A note of 1 to 200 printable characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note(String);

impl Note {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.chars().count() > MAX_NOTE_CHARS {
            return Err(AppError::validation(
                "INVALID_NOTE",
                format!("note must be 1 to {MAX_NOTE_CHARS} characters"),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(AppError::validation(
                "INVALID_NOTE",
                "note must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct PingAccepted {
    pub event_id: String,
    pub correlation_id: String,
}

pub async fn handle(
    store: &impl HeartbeatStore,
    req: Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let correlation_id = correlation_id(&req);
    let result = async {
        caller(&req)?.require(Permission::DiagnosticsRun)?;
        let body: PingRequest = parse_json(&req)?;
        let note = Note::parse(&body.note)?;
        let envelope =
            EventEnvelope::of(&Ping::Diagnostic { note: note.0 }, correlation_id.clone())
                .map_err(|e| AppError::internal("encoding the ping", e))?;
        store.beat(EventSource::Platform, &envelope).await?;
        Ok::<_, AppError>(envelope)
    }
    .await;
    Ok(match result {
        Ok(envelope) => {
            tracing::info!(event_id = %envelope.id, %correlation_id, "ping sent");
            json_response(
                202,
                &PingAccepted {
                    event_id: envelope.id.to_string(),
                    correlation_id: correlation_id.to_string(),
                },
                &correlation_id,
            )
        }
        Err(err) => error_response(&err, &correlation_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::request::from_str;
    use shared::adapters::memory::MemoryHeartbeats;

    fn request(body: Option<&str>) -> Request {
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/ping/post-ping.json")).unwrap();
        match body {
            Some(b) => event["body"] = serde_json::json!(b),
            None => {
                event.as_object_mut().unwrap().remove("body");
            }
        }
        from_str(&event.to_string()).unwrap()
    }

    fn code(res: &Response<Body>) -> String {
        let v: serde_json::Value = serde_json::from_slice(res.body().as_ref()).unwrap();
        v["code"].as_str().unwrap_or_default().to_owned()
    }

    #[tokio::test]
    async fn a_ping_writes_one_event_with_the_callers_correlation_id() {
        let store = MemoryHeartbeats::default();
        let res = handle(
            &store,
            from_str(include_str!("../../../events/ping/post-ping.json")).unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 202);
        let written = store.written();
        assert_eq!(written.len(), 1);
        assert_eq!(
            written[0].envelope.correlation_id.as_str(),
            "ping-fixture-1"
        );
        let accepted: PingAccepted = serde_json::from_slice(res.body().as_ref()).unwrap();
        assert_eq!(accepted.event_id, written[0].envelope.id.to_string());
    }

    #[tokio::test]
    async fn bad_bodies_are_400s_that_write_nothing() {
        let cases = [
            (None, "MISSING_BODY"),
            (Some("{\"note\":"), "MALFORMED_JSON"),
            (Some("[]"), "INVALID_BODY"),
            (Some("{\"note\":\"hi\",\"extra\":1}"), "INVALID_BODY"),
            (Some("{\"note\":\"   \"}"), "INVALID_NOTE"),
            (Some("{\"note\":\"a\\u0000b\"}"), "INVALID_NOTE"),
        ];
        let long = format!("{{\"note\":\"{}\"}}", "x".repeat(MAX_NOTE_CHARS + 1));
        let store = MemoryHeartbeats::default();
        for (body, expected) in cases
            .into_iter()
            .chain([(Some(long.as_str()), "INVALID_NOTE")])
        {
            let res = handle(&store, request(body)).await.unwrap();
            assert_eq!(res.status(), 400, "{body:?}");
            assert_eq!(code(&res), expected, "{body:?}");
        }
        assert!(store.written().is_empty());
    }

    #[tokio::test]
    async fn a_user_without_the_diagnostics_permission_is_refused_with_a_403() {
        let mut event: serde_json::Value =
            serde_json::from_str(include_str!("../../../events/ping/post-ping.json")).unwrap();
        event["requestContext"]["authorizer"]["lambda"]["role"] = "USER".into();
        let store = MemoryHeartbeats::default();
        let res = handle(&store, from_str(&event.to_string()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            (res.status().as_u16(), code(&res)),
            (403, "FORBIDDEN".to_owned())
        );
        assert!(store.written().is_empty());
    }

    #[tokio::test]
    async fn a_store_failure_is_a_500_without_details() {
        let store = MemoryHeartbeats::default();
        store.set_failing(true);
        let res = handle(&store, request(Some("{\"note\":\"hi\"}")))
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(code(&res), "INTERNAL_ERROR");
    }
}

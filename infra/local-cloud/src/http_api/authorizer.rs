//! Lambda authorizers of the REQUEST type, with simple responses.

use std::time::Instant;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};

use crate::model::AuthorizerSpec;
use crate::runtime::{FunctionPool, Outcome};

use super::*;

/// Runs a REQUEST authorizer: `Ok(context)` to go on, `Err` to answer now.
pub(super) async fn authorize(
    spec: &AuthorizerSpec,
    pool: &FunctionPool,
    event: &Json,
) -> Result<Json, Response> {
    let headers = event["headers"].as_object();
    let missing = spec
        .identity_headers
        .iter()
        .any(|h| headers.is_none_or(|m| m.get(h).and_then(Json::as_str).is_none_or(str::is_empty)));
    if missing {
        return Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    let cache_key = spec
        .identity_headers
        .iter()
        .map(|h| {
            headers
                .and_then(|m| m.get(h))
                .and_then(Json::as_str)
                .unwrap_or("")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let caching = !spec.cache_ttl.is_zero();
    let cached = || {
        let cache = spec
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(&cache_key)
            .filter(|(expires, _)| *expires > Instant::now())
            .map(|(_, answer)| answer.clone())
    };
    let refused = || gateway_error(StatusCode::FORBIDDEN, "Forbidden");
    if caching && let Some(answer) = cached() {
        return answer.ok_or_else(refused);
    }
    // Concurrent misses of one identity wait for the first one's answer.
    let _gate = if caching {
        let gate = spec
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(cache_key.clone())
            .or_default()
            .clone();
        let guard = gate.lock_owned().await;
        if let Some(answer) = cached() {
            return answer.ok_or_else(refused);
        }
        Some(guard)
    } else {
        None
    };
    let mut request = event.clone();
    request["type"] = json!("REQUEST");
    request["routeArn"] = json!(format!(
        "arn:aws:execute-api:us-east-1:123456789012:local/$default/{}",
        event["routeKey"].as_str().unwrap_or("").replace(' ', "")
    ));
    request["identitySource"] = json!(
        spec.identity_headers
            .iter()
            .filter_map(|h| headers.and_then(|m| m.get(h)).cloned())
            .collect::<Vec<_>>()
    );
    let answer = match pool.invoke(Bytes::from(request.to_string())).await {
        Outcome::Success(bytes) => {
            let answer: Json = serde_json::from_slice(&bytes).unwrap_or_default();
            let allowed = if spec.simple_responses {
                answer["isAuthorized"].as_bool().unwrap_or(false)
            } else {
                answer["policyDocument"]["Statement"]
                    .as_array()
                    .is_some_and(|s| s.iter().all(|st| st["Effect"] == "Allow") && !s.is_empty())
            };
            allowed.then(|| answer.get("context").cloned().unwrap_or_else(|| json!({})))
        }
        // As API Gateway does: an authorizer failing with exactly
        // "Unauthorized" means 401; any other failure is a 500.
        Outcome::FunctionError { message, .. } if message == "Unauthorized" => {
            return Err(gateway_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
        }
        Outcome::FunctionError { .. } | Outcome::Crashed(_) | Outcome::Timeout => {
            return Err(gateway_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
            ));
        }
    };
    if !spec.cache_ttl.is_zero() {
        let now = Instant::now();
        let mut cache = spec
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() >= 10_000 {
            cache.retain(|_, (expires, _)| *expires > now);
        }
        cache.insert(cache_key.clone(), (now + spec.cache_ttl, answer.clone()));
        spec.inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&cache_key);
    }
    answer.ok_or_else(|| gateway_error(StatusCode::FORBIDDEN, "Forbidden"))
}

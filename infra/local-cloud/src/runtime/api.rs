//! The Lambda Runtime API each instance's process talks to: the next
//! invocation (where the running time starts and the deadline is watched),
//! its response or error, and init errors.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::{FunctionPool, Held, Instance, Outcome, now_ms};

#[derive(Clone)]
struct ApiState {
    pool: Arc<FunctionPool>,
    instance: Instance,
}

pub(super) fn runtime_api(pool: Arc<FunctionPool>, instance: Instance) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(ApiState { pool, instance })
}

async fn next_invocation(State(api): State<ApiState>) -> Response {
    {
        let mut state = api.instance.lock().expect("lock");
        if state.ready_ms.is_none() {
            let ms = u64::try_from(state.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            state.ready_ms = Some(ms);
            tracing::debug!(target: "runtime", "{}#{} ready in {ms}ms", api.pool.spec.binary, state.slot);
        }
    }
    // An invocation whose caller stopped waiting is dropped unrun.
    let invocation = loop {
        let Ok(invocation) = api.pool.rx.recv().await else {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        };
        if !invocation.reply.is_closed() {
            break invocation;
        }
        tracing::warn!(target: "runtime", "{} {} dropped: its caller gave up while it was queued", api.pool.spec.binary, invocation.request_id);
    };
    let timeout = api.pool.timeout();
    let deadline_ms = now_ms() + u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let (kill, pid, trace) = {
        let mut state = api.instance.lock().expect("lock");
        if state.dead {
            drop(state);
            // The process is gone: hand the invocation to another instance.
            let _ = api.pool.tx.try_send(invocation);
            return StatusCode::GONE.into_response();
        }
        let doomed = api
            .pool
            .kill_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        state.current = Some(Held {
            request_id: invocation.request_id.clone(),
            trace: api.pool.spec.traced.then(crate::xray::Invocation::start),
            reply: invocation.reply,
            doomed,
        });
        let trace = state.current.as_ref().and_then(|h| h.trace.clone());
        (
            doomed.then(|| state.kill.clone()).flatten(),
            state.pid,
            trace,
        )
    };
    if let Some(kill) = kill {
        // The process dies holding the invocation, before it can act on it:
        // whatever happens next can only come from a redelivery or retry.
        tracing::warn!(target: "runtime", "fault injection: killing {} (pid {pid:?}) while it holds {}", api.pool.spec.binary, invocation.request_id);
        let _ = kill.send(()).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    tokio::spawn(watch_deadline(
        Arc::clone(&api.pool),
        Arc::clone(&api.instance),
        invocation.request_id.clone(),
        timeout,
    ));
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", invocation.request_id);
    put("lambda-runtime-deadline-ms", deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        api.pool.spec.arn.clone(),
    );
    // Root alone for a function that is not traced, as Lambda passes on;
    // a traced one also gets its invocation's segment as the parent.
    let header = match &trace {
        Some(trace) => trace.header(),
        None => format!("Root={}", crate::xray::Invocation::start().trace_id),
    };
    put("lambda-runtime-trace-id", header);
    put("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, invocation.payload).into_response()
}

/// Ends an invocation its instance still holds at the deadline as
/// `Timeout`, and kills the instance, which is then replaced.
async fn watch_deadline(
    pool: Arc<FunctionPool>,
    instance: Instance,
    request_id: String,
    timeout: Duration,
) {
    tokio::time::sleep(timeout).await;
    let (held, kill) = {
        let mut state = instance.lock().expect("lock");
        if !state
            .current
            .as_ref()
            .is_some_and(|h| h.request_id == request_id && !h.doomed)
        {
            return;
        }
        state.dead = true;
        (state.current.take(), state.kill.clone())
    };
    if let Some(held) = held {
        pool.traced_end(&held, true);
        let _ = held.reply.send(Outcome::Timeout);
    }
    if let Some(kill) = kill {
        let _ = kill.send(()).await;
    }
}

fn take_current(api: &ApiState, id: &str) -> Option<Held> {
    let mut state = api.instance.lock().expect("lock");
    if state
        .current
        .as_ref()
        .is_some_and(|h| h.request_id == id && !h.doomed)
    {
        state.current.take()
    } else {
        None
    }
}

async fn invocation_response(
    State(api): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    match take_current(&api, &id) {
        Some(held) => {
            api.pool.traced_end(&held, false);
            let _ = held.reply.send(Outcome::Success(body));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn invocation_error(
    State(api): State<ApiState>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let error_type = parsed["errorType"]
        .as_str()
        .unwrap_or("Unhandled")
        .to_owned();
    let message = parsed["errorMessage"].as_str().unwrap_or("").to_owned();
    match take_current(&api, &id) {
        Some(held) => {
            api.pool.traced_end(&held, true);
            let _ = held.reply.send(Outcome::FunctionError {
                error_type,
                message,
            });
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(api): State<ApiState>, body: Bytes) -> StatusCode {
    let slot = api.instance.lock().expect("lock").slot;
    tracing::error!(target: "runtime", "{}#{slot} init error: {}", api.pool.spec.binary, String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

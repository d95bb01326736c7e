//! A local API Gateway HTTP API: the template's routes, payload format 2.0,
//! and Lambda authorizers (REQUEST type) on routes that declare one.

mod authorizer;
mod payload;
mod routing;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::runtime::Outcome;

use authorizer::authorize;
use payload::{lambda_response, v2_event};
pub use routing::Route;
use routing::percent_decode;

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// An HTTP API's integration timeout: past it the client gets 503 whatever
/// the function's own timeout (the function, if running, runs on).
const INTEGRATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct HttpApi {
    routes: Vec<Route>,
}

impl HttpApi {
    pub fn new(mut routes: Vec<Route>) -> Self {
        routes.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        Self { routes }
    }

    fn find(&self, method: &Method, path: &str) -> Option<(&Route, HashMap<String, String>)> {
        self.routes.iter().find_map(|route| {
            let method_ok = route.method == "ANY" || route.method == method.as_str();
            if !method_ok {
                return None;
            }
            route.matches(path).map(|params| (route, params))
        })
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(handle).with_state(self)
    }
}

pub(super) fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({ "message": message }).to_string(),
    )
        .into_response()
}

async fn handle(
    State(api): State<Arc<HttpApi>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some((route, params)) = api.find(&parts.method, &path) else {
        return gateway_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let mut event = v2_event(
        route,
        &parts.method,
        &parts.uri,
        &parts.headers,
        &params,
        &body,
        peer,
    );

    if let Some((spec, authorizer)) = &route.authorizer {
        match authorize(spec, authorizer, &event).await {
            Ok(context) => {
                event["requestContext"]["authorizer"] = json!({ "lambda": context });
            }
            Err(response) => return response,
        }
    }
    let payload = Bytes::from(event.to_string());
    let outcome = tokio::time::timeout(INTEGRATION_TIMEOUT, route.function.invoke(payload))
        .await
        .unwrap_or(Outcome::Timeout);
    match outcome {
        Outcome::Success(bytes) => lambda_response(&bytes),
        Outcome::FunctionError { .. } => {
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Outcome::Crashed(_) => gateway_error(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        Outcome::Timeout => gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
    }
}

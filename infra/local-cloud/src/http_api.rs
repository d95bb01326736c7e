//! A local API Gateway HTTP API: the template's routes, payload format 2.0,
//! and Lambda authorizers (REQUEST type) on routes that declare one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value as Json, json};

use crate::model::AuthorizerSpec;
use crate::runtime::{FunctionPool, Outcome};

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

#[derive(Clone)]
pub struct Route {
    pub method: String,
    pub path: String,
    segments: Vec<Segment>,
    pub function: Arc<FunctionPool>,
    pub authorizer: Option<(AuthorizerSpec, Arc<FunctionPool>)>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Route {
    pub fn new(
        method: &str,
        path: &str,
        function: Arc<FunctionPool>,
        authorizer: Option<(AuthorizerSpec, Arc<FunctionPool>)>,
    ) -> Self {
        let segments = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(p) if p.ends_with('+') => {
                        Segment::Greedy(p.trim_end_matches('+').to_owned())
                    }
                    Some(p) => Segment::Param(p.to_owned()),
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        Self {
            // The default route catches every method.
            method: if path == "$default" {
                "ANY".to_owned()
            } else {
                method.to_ascii_uppercase()
            },
            path: path.to_owned(),
            segments,
            function,
            authorizer,
        }
    }

    fn route_key(&self) -> String {
        if self.path == "$default" {
            "$default".to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }

    /// Path parameters if `path` matches this route.
    fn matches(&self, path: &str) -> Option<HashMap<String, String>> {
        if self.path == "$default" {
            return Some(HashMap::new());
        }
        let parts: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let mut params = HashMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(lit) => {
                    if parts.get(i) != Some(&lit.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let value = parts.get(i)?;
                    params.insert(name.clone(), percent_decode(value));
                }
                Segment::Greedy(name) => {
                    if i >= parts.len() {
                        return None;
                    }
                    params.insert(name.clone(), parts[i..].join("/"));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// Higher is more specific: literal segments, then parameters, then a
    /// specific method over ANY; `$default` last.
    fn specificity(&self) -> (u8, usize, usize, u8) {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let greedy = self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Greedy(_)));
        (
            u8::from(self.path != "$default"),
            literals,
            usize::from(!greedy),
            u8::from(self.method != "ANY"),
        )
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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

fn gateway_error(status: StatusCode, message: &str) -> Response {
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
    match route.function.invoke(payload).await {
        Outcome::Success(bytes) => lambda_response(&bytes),
        Outcome::FunctionError { .. } => {
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Outcome::Crashed(_) => gateway_error(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        Outcome::Timeout => gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"),
    }
}

/// Runs a REQUEST authorizer: `Ok(context)` to go on, `Err` to answer now.
async fn authorize(
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
    if !spec.cache_ttl.is_zero() {
        let cache = spec
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((expires, answer)) = cache.get(&cache_key)
            && *expires > Instant::now()
        {
            return answer
                .clone()
                .ok_or_else(|| gateway_error(StatusCode::FORBIDDEN, "Forbidden"));
        }
    }
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
        cache.insert(cache_key, (now + spec.cache_ttl, answer.clone()));
    }
    answer.ok_or_else(|| gateway_error(StatusCode::FORBIDDEN, "Forbidden"))
}

fn v2_event(
    route: &Route,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    body: &Bytes,
    peer: SocketAddr,
) -> Json {
    let mut header_map = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(
                value
                    .split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        let key = name.as_str().to_owned();
        match header_map.get_mut(&key) {
            Some(Json::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                header_map.insert(key, Json::String(value));
            }
        }
    }
    header_map.insert("x-forwarded-for".into(), json!(peer.ip().to_string()));
    header_map.insert("x-forwarded-proto".into(), json!("http"));
    let raw_query = uri.query().unwrap_or("").to_owned();
    let mut query = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (
            percent_decode(&k.replace('+', " ")),
            percent_decode(&v.replace('+', " ")),
        );
        match query.get_mut(&k) {
            Some(Json::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Json::String(v));
            }
        }
    }
    let text_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/")
                || ct.contains("json")
                || ct.contains("xml")
                || ct.contains("x-www-form-urlencoded")
        });
    let (body_value, base64) = if body.is_empty() {
        (Json::Null, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) if text_body => (json!(text), false),
            _ => (
                json!(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            ),
        }
    };
    let now = chrono::Utc::now();
    let user_agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.route_key(),
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route.route_key(),
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Json::Object(query);
    }
    if !params.is_empty() {
        event["pathParameters"] = json!(params);
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// Maps a payload-2.0 function response to HTTP, as API Gateway does.
fn lambda_response(bytes: &[u8]) -> Response {
    let Ok(value) = serde_json::from_slice::<Json>(bytes) else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let Some(status) = value.get("statusCode") else {
        // Without statusCode the whole payload is a 200 JSON body.
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            value.to_string(),
        )
            .into_response();
    };
    let Some(status) = status
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let body = match value.get("body") {
        Some(Json::String(s)) if value["isBase64Encoded"].as_bool().unwrap_or(false) => {
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .unwrap_or_default()
        }
        Some(Json::String(s)) => s.clone().into_bytes(),
        Some(other) if !other.is_null() => other.to_string().into_bytes(),
        _ => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(map) = value.get("headers").and_then(Json::as_object) {
        for (k, v) in map {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            if let (Ok(name), Ok(val)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&text),
            ) {
                headers.insert(name, val);
            }
        }
    }
    if let Some(map) = value.get("multiValueHeaders").and_then(Json::as_object) {
        for (k, vs) in map {
            for v in vs.as_array().into_iter().flatten().filter_map(Json::as_str) {
                if let (Ok(name), Ok(val)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.append(name, val);
                }
            }
        }
    }
    for cookie in value
        .get("cookies")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
    {
        if let Ok(val) = HeaderValue::from_str(cookie) {
            headers.append("set-cookie", val);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        let spec = crate::model::FunctionSpec {
            logical_id: "F".into(),
            name: "f".into(),
            binary: "f".into(),
            arn: String::new(),
            timeout_secs: 1,
            memory_mb: 128,
            environment: Default::default(),
            log_format: None,
            log_level: None,
            routes: vec![],
            sqs: vec![],
            streams: vec![],
            schedules: vec![],
        };
        let launch = crate::runtime::LaunchConfig {
            bin_dir: ".".into(),
            base_env: Default::default(),
            log_format: None,
        };
        Route::new("GET", path, FunctionPool::new(spec, launch), None)
    }

    #[test]
    fn path_parameters_are_extracted_and_decoded() {
        let params = route("/bookings/{id}/history")
            .matches("/bookings/b%2D1/history")
            .unwrap();
        assert_eq!(params["id"], "b-1");
        assert!(route("/bookings/{id}").matches("/bookings").is_none());
        assert!(route("/bookings/{id}").matches("/bookings/1/x").is_none());
    }

    #[test]
    fn a_greedy_parameter_takes_the_rest_of_the_path() {
        let params = route("/files/{proxy+}").matches("/files/a/b/c").unwrap();
        assert_eq!(params["proxy"], "a/b/c");
    }

    #[test]
    fn the_most_specific_route_wins() {
        let api = HttpApi::new(vec![
            route("/bookings/{id}"),
            route("/bookings/mine"),
            route("$default"),
        ]);
        let (r, _) = api.find(&Method::GET, "/bookings/mine").unwrap();
        assert_eq!(r.path, "/bookings/mine");
        let (r, _) = api.find(&Method::GET, "/bookings/42").unwrap();
        assert_eq!(r.path, "/bookings/{id}");
        let (r, _) = api.find(&Method::GET, "/nothing").unwrap();
        assert_eq!(r.path, "$default");
        assert!(
            api.find(&Method::POST, "/bookings/42")
                .is_some_and(|(r, _)| r.path == "$default")
        );
    }

    #[test]
    fn a_response_without_status_code_is_a_200_json_body() {
        let res = lambda_response(br#"{"hello":"world"}"#);
        assert_eq!(res.status(), 200);
    }

    #[test]
    fn a_response_with_status_and_headers_is_passed_through() {
        let res = lambda_response(
            br#"{"statusCode":409,"headers":{"x-a":"1"},"body":"{}","cookies":["a=b"]}"#,
        );
        assert_eq!(res.status(), 409);
        assert_eq!(res.headers()["x-a"], "1");
        assert_eq!(res.headers()["set-cookie"], "a=b");
    }
}

//! Payload format 2.0: the event a function receives, and how its
//! answer becomes an HTTP response.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value as Json, json};

use super::*;

/// The payload format 2.0 event of a request to `route`.
pub(super) fn v2_event(
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
pub(super) fn lambda_response(bytes: &[u8]) -> Response {
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

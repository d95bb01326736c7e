//! The HTTP edge: request parsing and responses for `lambda_http` handlers.
//!
//! Status mapping lives in [`AppError::status`]; this module turns results
//! into API Gateway responses with a JSON body and the correlation id.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::identity::{Caller, Role, Staff, UserId};
use crate::{AppError, CorrelationId, correlation};

/// Request bodies above this size are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request's correlation id: the caller's header if valid, else a new one.
pub fn correlation_id(req: &Request) -> CorrelationId {
    CorrelationId::from_header_or_generate(
        req.headers()
            .get(correlation::HEADER)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A JSON response carrying the correlation id header.
pub fn json_response(
    status: u16,
    body: &impl Serialize,
    correlation_id: &CorrelationId,
) -> Response<Body> {
    let (status, text) = match serde_json::to_string(body) {
        Ok(text) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            text,
        ),
        Err(err) => {
            tracing::error!(error = %err, "response body could not be serialized");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"code":"INTERNAL_ERROR","message":"an internal error occurred; it has been logged"}"#
                    .to_owned(),
            )
        }
    };
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        headers.insert(correlation::HEADER, value);
    }
    response
}

/// What a 503 tells the client to wait before trying again: contention on
/// one item (a hot slot) clears within moments, so a second is plenty.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

/// The response for an error; internal errors are logged with their source.
pub fn error_response(err: &AppError, correlation_id: &CorrelationId) -> Response<Body> {
    if let AppError::Internal { context, source } = err {
        // The whole chain: an SDK error's own Display says only "service error".
        let mut error = source.to_string();
        let mut cause = source.source();
        while let Some(inner) = cause {
            error.push_str(": ");
            error.push_str(&inner.to_string());
            cause = inner.source();
        }
        tracing::error!(%correlation_id, context, %error, "request failed");
    } else {
        tracing::info!(%correlation_id, code = err.code(), "request refused");
    }
    let response = json_response(err.status(), &err.body(), correlation_id);
    let retry_after = match err {
        AppError::RateLimited {
            retry_after_secs, ..
        } => Some(*retry_after_secs),
        AppError::Unavailable { .. } => Some(UNAVAILABLE_RETRY_AFTER_SECS),
        _ => None,
    };
    match retry_after {
        Some(secs) => with_retry_after(response, secs),
        None => response,
    }
}

/// `response` telling the client to come back in `secs` seconds.
pub fn with_retry_after(mut response: Response<Body>, secs: u64) -> Response<Body> {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    response
}

/// The response for a handler's result: `status` with the JSON value, or
/// the error's status and body.
pub fn respond<T: Serialize>(
    status: u16,
    result: Result<T, AppError>,
    correlation_id: &CorrelationId,
) -> Response<Body> {
    match result {
        Ok(value) => json_response(status, &value, correlation_id),
        Err(err) => error_response(&err, correlation_id),
    }
}

/// A 204 with the correlation id and no body.
pub fn no_content(correlation_id: &CorrelationId) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        response.headers_mut().insert(correlation::HEADER, value);
    }
    response
}

/// The `Idempotency-Key` header a retry-safe POST requires.
pub fn idempotency_key(req: &Request) -> Result<crate::kernel::IdempotencyKey, AppError> {
    use crate::kernel::IdempotencyKey;
    IdempotencyKey::parse(
        req.headers()
            .get(IdempotencyKey::HEADER)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The first answer to a request sent again with the same idempotency key:
/// 201 with the stored body and `idempotent-replayed: true`.
pub fn replayed(first: &str, correlation_id: &CorrelationId) -> Response<Body> {
    let value: serde_json::Value = serde_json::from_str(first).unwrap_or_default();
    let mut response = json_response(201, &value, correlation_id);
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// A path parameter the route declares, e.g. `{booking_id}`.
pub fn path_param(req: &Request, name: &'static str) -> Result<String, AppError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| AppError::validation("MISSING_PATH_PARAMETER", format!("{name} is missing")))
}

/// A query string parameter, if given.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// The required `date` query parameter (`YYYY-MM-DD`) of a day's view.
pub fn date_query(req: &Request) -> Result<chrono::NaiveDate, AppError> {
    let date = query_param(req, "date").ok_or_else(|| {
        AppError::validation(
            "MISSING_DATE",
            "the date query parameter is required (YYYY-MM-DD)",
        )
    })?;
    chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .map_err(|_| AppError::validation("INVALID_DATE", "date must be YYYY-MM-DD"))
}

/// Keys of the Lambda authorizer's context, as the authorizer writes them.
pub mod authorizer_context {
    pub const USER_ID: &str = "user_id";
    pub const ROLE: &str = "role";
    pub const SESSION_ID: &str = "session_id";
    /// The caller's memberships, [`crate::identity::Staff::encode`]d.
    pub const STAFF: &str = "staff";
}

/// The `limit` query parameter of a paged list: 1 to `max`, `default`
/// when absent.
pub fn limit_param(req: &Request, default: u32, max: u32) -> Result<u32, AppError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                AppError::validation("INVALID_LIMIT", format!("limit must be 1 to {max}"))
            }),
    }
}

/// The caller the authorizer vouched for. Functions never read tokens: on a
/// protected route the authorizer has already verified one and put the user
/// id and role in the request context. Without that context (a route
/// deployed without the authorizer) the answer is 401, never a guess.
pub fn caller(req: &Request) -> Result<Caller, AppError> {
    let unauthenticated = || AppError::unauthorized("UNAUTHENTICATED", "sign in to use this route");
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Err(unauthenticated());
    };
    let fields = &ctx.authorizer.as_ref().ok_or_else(unauthenticated)?.fields;
    let text = |key: &str| fields.get(key).and_then(|v| v.as_str());
    let user_id = text(authorizer_context::USER_ID)
        .and_then(|id| UserId::parse(id).ok())
        .ok_or_else(unauthenticated)?;
    let role = text(authorizer_context::ROLE)
        .and_then(Role::parse)
        .ok_or_else(unauthenticated)?;
    // Absent: staff of no company (an authorizer answer cached before
    // memberships existed); present but unreadable: refused.
    let staff = match text(authorizer_context::STAFF) {
        None => Staff::default(),
        Some(staff) => Staff::decode(staff).ok_or_else(unauthenticated)?,
    };
    Ok(Caller {
        user_id,
        role,
        staff,
    })
}

/// The caller's session (refresh-token family), as the authorizer vouched
/// for it; `None` without one.
pub fn session_id(req: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    ctx.authorizer
        .as_ref()?
        .fields
        .get(authorizer_context::SESSION_ID)?
        .as_str()
        .map(str::to_owned)
}

/// Parses a JSON request body into `T`, refusing what is not JSON, too
/// large, or not the expected shape, with a 400 and a stable code.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    parse_json_up_to(req, MAX_BODY_BYTES)
}

/// [`parse_json`] for a route whose bodies may be larger (a seat map of
/// [`crate::catalog::MAX_SEATS`] seats): up to `max_bytes`.
pub fn parse_json_up_to<T: DeserializeOwned>(
    req: &Request,
    max_bytes: usize,
) -> Result<T, AppError> {
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        let is_json = content_type
            .to_str()
            .map(|ct| {
                let essence = ct.split(';').next().unwrap_or("").trim();
                essence.eq_ignore_ascii_case("application/json")
                    || essence.to_ascii_lowercase().ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::validation(
                "UNSUPPORTED_MEDIA_TYPE",
                "the request body must be application/json",
            ));
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.is_empty() {
        return Err(AppError::validation(
            "MISSING_BODY",
            "a JSON request body is required",
        ));
    }
    if bytes.len() > max_bytes {
        return Err(AppError::validation(
            "BODY_TOO_LARGE",
            format!("the request body exceeds {max_bytes} bytes"),
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| body_error(&err.path().to_string(), err.inner()))?;
    deserializer.end().map_err(|err| body_error("", &err))?;
    Ok(value)
}

/// The refusal of a body serde could not read: of the wrong shape at
/// `path`, or not JSON at all.
fn body_error(path: &str, err: &serde_json::Error) -> AppError {
    match err.classify() {
        serde_json::error::Category::Data => {
            AppError::validation("INVALID_BODY", describe_shape_error(path, err))
        }
        _ => AppError::validation(
            "MALFORMED_JSON",
            format!(
                "the request body is not valid JSON (line {}, column {})",
                err.line(),
                err.column()
            ),
        ),
    }
}

/// What was wrong with a body's shape, naming fields but never echoing a
/// value the client sent (which may be a password).
fn describe_shape_error(path: &str, err: &serde_json::Error) -> String {
    // serde's message, without the position it appends.
    let full = err.to_string();
    let mut text = full.split(" at line ").next().unwrap_or(&full);
    let mut path = path;
    // A body read in two steps (a tagged request) names its field first:
    // "`quantity` invalid type: ...".
    if let Some(rest) = text.strip_prefix('`')
        && let Some((inner, after)) = rest.split_once("` ")
    {
        path = inner;
        text = after;
    }
    let field = (!path.is_empty() && path != "." && !text.contains(&format!("`{path}`")))
        .then(|| format!("`{path}`"));
    let names_only = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| text.starts_with(p));
    let what = if names_only {
        text.split(", expected").next().unwrap_or(text).to_owned()
    } else if text.starts_with("unknown variant") {
        // The value sent is left out; the values allowed are named.
        let allowed = text
            .split("expected ")
            .nth(1)
            .unwrap_or("a documented value");
        format!("is not {allowed}")
    } else if let Some(expected) = text.split(", expected ").nth(1) {
        format!("must be {}", plain(expected))
    } else if text.starts_with("invalid value") || text.starts_with("invalid length") {
        format!(
            "must be {}",
            plain(text.split("expected ").nth(1).unwrap_or("as documented"))
        )
    } else {
        "does not have the expected type".to_owned()
    };
    match field {
        Some(field) if !names_only => format!("the request body is invalid: {field} {what}"),
        Some(field) => format!("the request body is invalid: in {field}, {what}"),
        None if names_only => format!("the request body is invalid: {what}"),
        None => format!("the request body is invalid: it {what}"),
    }
}

/// serde's name for an expected type, in words a client reads.
fn plain(expected: &str) -> String {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        other if other.starts_with("struct ") || other.starts_with("internally tagged enum") => {
            "an object".to_owned()
        }
        other if other.starts_with("a string") || other.starts_with("a boolean") => {
            other.to_owned()
        }
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Signup {
        email: String,
    }

    fn request(body: &str, content_type: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn malformed_json_is_a_400_with_a_stable_code() {
        let err =
            parse_json::<Signup>(&request("{\"email\":", Some("application/json"))).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "MALFORMED_JSON"));
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_invalid() {
        let err = parse_json::<Signup>(&request("{\"email\":3}", None)).unwrap_err();
        assert_eq!((err.status(), err.code()), (400, "INVALID_BODY"));
    }

    #[test]
    fn a_shape_error_never_echoes_a_value() {
        let err = parse_json::<Signup>(&request("{\"email\":12345678901}", None)).unwrap_err();
        assert_eq!(err.code(), "INVALID_BODY");
        assert!(!err.to_string().contains("12345678901"), "{err}");
        let err = parse_json::<Signup>(&request("{}", None)).unwrap_err();
        assert!(err.to_string().contains("missing field `email`"), "{err}");
    }

    #[test]
    fn a_shape_error_names_the_field_and_what_it_must_be() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        #[serde(deny_unknown_fields)]
        struct Order {
            quantity: i64,
            seats: Vec<String>,
        }
        let message = |body: &str| {
            parse_json::<Order>(&request(body, None))
                .unwrap_err()
                .to_string()
        };
        let fractional = message(r#"{"quantity":2.5,"seats":[]}"#);
        assert!(
            fractional.contains("`quantity` must be a whole number"),
            "{fractional}"
        );
        assert!(
            !fractional.contains("2.5") && !fractional.contains("line"),
            "{fractional}"
        );
        let nested = message(r#"{"quantity":1,"seats":["A-1",7]}"#);
        assert!(nested.contains("`seats[1]` must be a string"), "{nested}");
        let unknown = message(r#"{"quantity":1,"seats":[],"price":1}"#);
        assert!(unknown.contains("unknown field `price`"), "{unknown}");
        let trailing =
            parse_json::<Order>(&request(r#"{"quantity":1,"seats":[]} x"#, None)).unwrap_err();
        assert_eq!(trailing.code(), "MALFORMED_JSON");
    }

    #[test]
    fn a_non_json_content_type_is_refused() {
        let err = parse_json::<Signup>(&request("email=a", Some("text/plain"))).unwrap_err();
        assert_eq!(err.code(), "UNSUPPORTED_MEDIA_TYPE");
    }

    #[test]
    fn an_oversized_body_is_refused_before_parsing() {
        let big = format!("{{\"email\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let err = parse_json::<Signup>(&request(&big, Some("application/json"))).unwrap_err();
        assert_eq!(err.code(), "BODY_TOO_LARGE");
    }

    #[test]
    fn an_error_response_is_json_and_carries_the_correlation_id() {
        let id = CorrelationId::parse("abc-1").unwrap();
        let res = error_response(&AppError::validation("BAD", "bad"), &id);
        assert_eq!(res.status(), 400);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(res.headers()[correlation::HEADER], "abc-1");
    }

    #[test]
    fn a_contended_item_answers_503_with_retry_after() {
        let id = CorrelationId::parse("abc-1").unwrap();
        let busy = AppError::Unavailable {
            code: "CONTENTION",
            message: "busy".into(),
        };
        let res = error_response(&busy, &id);
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        let refused = error_response(&AppError::validation("BAD", "bad"), &id);
        assert!(!refused.headers().contains_key(header::RETRY_AFTER));
    }
}

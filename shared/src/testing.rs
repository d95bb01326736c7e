//! Helpers for handler tests: an `events/` fixture with one thing changed,
//! and what a response says. Compiled for this crate's tests and for the
//! function crates' tests (feature `test-support`), never into a function.

use lambda_http::{Body, Request, Response};
use serde_json::Value;

fn fixture_json(fixture: &str) -> Value {
    serde_json::from_str(fixture).expect("the fixture is JSON")
}

fn request_of(json: &Value) -> Request {
    lambda_http::request::from_str(&json.to_string()).expect("the fixture is an HTTP API event")
}

/// The fixture as the request a function receives.
pub fn request(fixture: &str) -> Request {
    request_of(&fixture_json(fixture))
}

/// The fixture with another body.
pub fn with_body(fixture: &str, body: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["body"] = body.into();
    request_of(&json)
}

/// The fixture as sent by a caller of another role (`USER`, `ADMIN`).
pub fn with_role(fixture: &str, role: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["requestContext"]["authorizer"]["lambda"]["role"] = role.into();
    request_of(&json)
}

/// The fixture with one path parameter changed.
pub fn with_path_param(fixture: &str, name: &str, value: &str) -> Request {
    let mut json = fixture_json(fixture);
    json["pathParameters"][name] = value.into();
    request_of(&json)
}

/// The response's JSON body.
pub fn body(res: &Response<Body>) -> Value {
    serde_json::from_slice(res.body().as_ref()).expect("a JSON body")
}

/// The stable code of an error response.
pub fn code(res: &Response<Body>) -> String {
    body(res)["code"].as_str().unwrap_or_default().to_owned()
}

/// Status and code of an error response, to compare in one assertion.
pub fn refusal(res: &Response<Body>) -> (u16, String) {
    (res.status().as_u16(), code(res))
}

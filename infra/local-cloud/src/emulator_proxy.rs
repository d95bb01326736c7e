//! The emulators' endpoints for the functions and the local cloud's own
//! pollers: a pass-through to moto, and one to DynamoDB Local, that count
//! every request by service and action (`GET /emulators/{moto,dynamodb}/
//! requests` on the admin API: what a benchmark divides by the bookings it
//! made). Moto's can be told to refuse the SES sends to one address for a
//! while, so tests can prove what the notification sender
//! does when SES throttles or rejects (`POST /faults/ses`). Only
//! `SendEmail` calls to that address are refused; everything else reaches
//! moto unchanged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Refuse the next `count` sends to `to` with `code`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct Fault {
    pub to: String,
    pub count: u32,
    /// An SES error code: `Throttling` (retried) or `MessageRejected`
    /// (permanent).
    pub code: String,
}

/// The faults in force, and how many sends they refused.
#[derive(Debug, Default)]
pub struct Faults {
    active: Mutex<Vec<Fault>>,
    refused: Mutex<u64>,
}

impl Faults {
    pub fn set(&self, fault: Fault) {
        let mut active = self.active.lock().expect("lock");
        active.retain(|f| f.to != fault.to);
        active.push(fault);
    }

    pub fn clear(&self) {
        self.active.lock().expect("lock").clear();
    }

    pub fn refused(&self) -> u64 {
        *self.refused.lock().expect("lock")
    }

    /// The code to refuse this request body with, if a fault matches it.
    fn refuse(&self, body: &str) -> Option<String> {
        if !body.contains("Action=SendEmail") {
            return None;
        }
        let mut active = self.active.lock().expect("lock");
        let fault = active
            .iter_mut()
            .find(|f| f.count > 0 && body.contains(&form_encoded(&f.to)))?;
        fault.count -= 1;
        *self.refused.lock().expect("lock") += 1;
        Some(fault.code.clone())
    }
}

/// `a+b@example.com` as an AWS query body carries it.
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Requests forwarded to moto, by `<service>:<action>` (`sqs:ReceiveMessage`).
#[derive(Debug, Default)]
pub struct Requests(Mutex<BTreeMap<String, u64>>);

impl Requests {
    fn count(&self, headers: &HeaderMap, method: &Method, body: &[u8]) {
        let key = format!("{}:{}", service(headers), action(headers, method, body));
        *self.0.lock().expect("lock").entry(key).or_default() += 1;
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().expect("lock").clone()
    }
}

/// The service a signed request is for: its SigV4 credential scope
/// (`Credential=KEY/20261204/us-east-1/sqs/aws4_request`).
fn service(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|credential| credential.split('/').nth(3))
        .unwrap_or("unsigned")
}

/// The operation: the JSON protocols' `X-Amz-Target` (`AmazonSQS.
/// ReceiveMessage`), the query protocol's `Action=` (SES, SNS), else the
/// REST method (S3).
fn action(headers: &HeaderMap, method: &Method, body: &[u8]) -> String {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let form = String::from_utf8_lossy(body.get(..body.len().min(256)).unwrap_or_default());
    form.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map_or_else(|| method.as_str().to_owned(), str::to_owned)
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    faults: Option<Arc<Faults>>,
    requests: Arc<Requests>,
}

/// Starts a proxy to `upstream` (moto, or DynamoDB Local with no faults)
/// on a free loopback port; its URL.
pub async fn start(
    upstream: String,
    faults: Option<Arc<Faults>>,
    requests: Arc<Requests>,
) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let proxy = Proxy {
        upstream,
        http: reqwest::Client::new(),
        faults,
        requests,
    };
    let app = Router::new().fallback(forward).with_state(proxy);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

async fn forward(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    proxy.requests.count(&headers, &method, &body);
    let refusal = proxy
        .faults
        .as_ref()
        .and_then(|faults| faults.refuse(&String::from_utf8_lossy(&body)));
    if let Some(code) = refusal {
        let xml = format!(
            "<ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>refused by the local cloud's fault injection</Message></Error>\
             <RequestId>{}</RequestId></ErrorResponse>",
            uuid::Uuid::new_v4()
        );
        return (StatusCode::BAD_REQUEST, [("content-type", "text/xml")], xml).into_response();
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = proxy
        .http
        .request(method, format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            req = req.header(name, value);
        }
    }
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            let headers = res.headers().clone();
            let bytes = res.bytes().await.unwrap_or_default();
            let mut out = (status, bytes).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    out.headers_mut().insert(name, value.clone());
                }
            }
            out
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_service_and_action() {
        let requests = Requests::default();
        let signed = |service: &str| {
            let mut headers = HeaderMap::new();
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential=local/20261204/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
            );
            headers.insert("authorization", auth.parse().unwrap());
            headers
        };
        let mut sqs = signed("sqs");
        sqs.insert("x-amz-target", "AmazonSQS.ReceiveMessage".parse().unwrap());
        requests.count(&sqs, &Method::POST, b"{}");
        requests.count(&sqs, &Method::POST, b"{}");
        requests.count(
            &signed("ses"),
            &Method::POST,
            b"Action=SendEmail&Version=2010-12-01",
        );
        requests.count(&signed("s3"), &Method::PUT, b"object bytes");
        requests.count(&HeaderMap::new(), &Method::GET, b"");
        let counted = requests.snapshot();
        assert_eq!(counted["sqs:ReceiveMessage"], 2);
        assert_eq!(counted["ses:SendEmail"], 1);
        assert_eq!(counted["s3:PUT"], 1);
        assert_eq!(counted["unsigned:GET"], 1);
        assert_eq!(counted.len(), 4);
    }

    #[test]
    fn only_sends_to_the_faulty_address_are_refused_and_only_so_often() {
        let faults = Faults::default();
        faults.set(Fault {
            to: "a+b@example.com".into(),
            count: 2,
            code: "Throttling".into(),
        });
        let to_a = "Action=SendEmail&Destination.ToAddresses.member.1=a%2Bb%40example.com";
        let to_c = "Action=SendEmail&Destination.ToAddresses.member.1=c%40example.com";
        assert_eq!(faults.refuse(to_c), None);
        assert_eq!(
            faults.refuse("Action=VerifyEmailIdentity&EmailAddress=a%2Bb%40example.com"),
            None
        );
        assert_eq!(faults.refuse(to_a).as_deref(), Some("Throttling"));
        assert_eq!(faults.refuse(to_a).as_deref(), Some("Throttling"));
        assert_eq!(faults.refuse(to_a), None);
        assert_eq!(faults.refused(), 2);
    }
}

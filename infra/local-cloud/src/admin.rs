//! The local cloud's admin API: what runs, where, and fault injection for
//! tests (kill the instance that takes the next invocation).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json as JsonResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};

use crate::provision;
use crate::runtime::{FunctionPool, Outcome};
use crate::template::{Context, Physical, Template};

/// Process ids of the servers the local cloud started, so tests can pause
/// one (SIGSTOP) and resume it (SIGCONT).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Pids {
    pub dynamodb: Option<u32>,
    /// moto's or LocalStack's; none for a LocalStack started elsewhere.
    pub aws: Option<u32>,
    pub gateway: Option<u32>,
}

pub struct State {
    pub pools: BTreeMap<String, Arc<FunctionPool>>,
    pub physical: BTreeMap<String, Physical>,
    pub api: String,
    pub dynamodb: String,
    /// moto's or LocalStack's address (the functions reach it through the
    /// counting proxy).
    pub aws: String,
    pub aws_backend: crate::emulators::AwsBackend,
    /// The fake payment gateway's URL, if the template asks for one.
    pub gateway: Option<String>,
    pub pids: Pids,
    pub template: Template,
    /// The parameter values functions were resolved with.
    pub parameters: HashMap<String, String>,
    pub clients: provision::Clients,
    pub options: provision::Options,
    pub stack_name: String,
    /// Refusals the SES proxy makes (`POST /faults/ses`).
    pub ses_faults: Arc<crate::emulator_proxy::Faults>,
    /// Requests made to moto (or LocalStack), by service and action.
    pub aws_requests: Arc<crate::emulator_proxy::Requests>,
    /// Requests made to DynamoDB Local (and its streams), the same way,
    /// when the cloud was started with `--count-dynamodb-requests`.
    pub dynamodb_requests: Option<Arc<crate::emulator_proxy::Requests>>,
    /// The trace segments the functions sent to the local X-Ray daemon.
    pub segments: Arc<crate::xray::Segments>,
}

impl State {
    /// Addresses and resources, as tests and tools need them.
    pub fn summary(&self, admin: &str) -> Json {
        json!({
            "api": self.api,
            "admin": admin,
            "dynamodb": self.dynamodb,
            "aws": self.aws,
            "aws_backend": self.aws_backend,
            "access_key_id": crate::ACCESS_KEY,
            "gateway": self.gateway,
            "pids": self.pids,
            "region": crate::REGION,
            "resources": self.physical,
            "parameters": self.parameters,
            "functions": self.pools.values().map(|p| json!({
                "logical_id": p.spec.logical_id,
                "name": p.spec.name,
                "binary": p.spec.binary,
            })).collect::<Vec<_>>(),
        })
    }

    fn pool(&self, id: &str) -> Option<&Arc<FunctionPool>> {
        self.pools.get(id).or_else(|| {
            self.pools
                .values()
                .find(|p| p.spec.binary == id || p.spec.name == id)
        })
    }
}

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        JsonResponse(json!({ "code": "NOT_FOUND", "message": format!("{what} not found") })),
    )
        .into_response()
}

/// `GET /sent?to=`: what the functions sent, as moto or LocalStack keeps it (every SES
/// message and every SMS publish), oldest first; `to` keeps only those to
/// one address or phone number.
#[derive(Debug, serde::Deserialize)]
struct SentQuery {
    to: Option<String>,
}

/// `GET /xray/segments?correlation_id=`: the traces annotated with it.
#[derive(Debug, serde::Deserialize)]
struct SegmentsQuery {
    correlation_id: String,
}

/// One email as `GET /sent` answers it.
fn email(id: &Json, from: &Json, to: &str, subject: &Json, body: &Json) -> Json {
    json!({ "id": id, "from": from, "to": to, "subject": subject, "body": body })
}

async fn sent(
    backend: crate::emulators::AwsBackend,
    aws: &str,
    q: &SentQuery,
) -> Result<Json, reqwest::Error> {
    let wanted = |to: &str| q.to.as_deref().is_none_or(|want| want == to);
    let get = |path: String| async move {
        reqwest::get(format!("{aws}{path}"))
            .await?
            .error_for_status()?
            .json::<Json>()
            .await
    };
    let array = |v: Option<&Json>| v.and_then(Json::as_array).cloned().unwrap_or_default();
    // To, Cc and Bcc, under the same names in moto's store and LocalStack's.
    let recipients = |destinations: Option<&Json>| -> Vec<String> {
        ["ToAddresses", "CcAddresses", "BccAddresses"]
            .iter()
            .filter_map(|k| destinations?.get(*k)?.as_array().cloned())
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_owned))
            .collect()
    };
    let (emails, sms): (Vec<Json>, Vec<Json>) = match backend {
        crate::emulators::AwsBackend::Moto => {
            let data = get("/moto-api/data.json".to_owned()).await?;
            let emails = array(data.get("ses").and_then(|s| s.get("Message")))
                .into_iter()
                .flat_map(|m| {
                    let to = recipients(m.get("destinations"));
                    to.into_iter().filter(|t| wanted(t)).map(move |to| {
                        email(&m["id"], &m["source"], &to, &m["subject"], &m["body"])
                    })
                })
                .collect();
            let sms = array(data.get("sns").and_then(|s| s.get("SMS")))
                .into_iter()
                .filter(|m| m["phone_number"].as_str().is_some_and(&wanted))
                .map(|m| json!({ "id": m["message_id"], "to": m["phone_number"], "message": m["message"] }))
                .collect();
            (emails, sms)
        }
        // LocalStack keeps them at its /_aws endpoints: each email with its
        // text and HTML parts (the HTML is what moto keeps, so that one).
        crate::emulators::AwsBackend::LocalStack => {
            let mail = get("/_aws/ses".to_owned()).await?;
            let emails = array(mail.get("messages"))
                .into_iter()
                .flat_map(|m| {
                    let to = recipients(m.get("Destination"));
                    let body = match &m["Body"]["html_part"] {
                        Json::Null => m["Body"]["text_part"].clone(),
                        html => html.clone(),
                    };
                    to.into_iter()
                        .filter(|t| wanted(t))
                        .map(move |to| email(&m["Id"], &m["Source"], &to, &m["Subject"], &body))
                })
                .collect();
            // Kept per account (the default is 000000000000, not ours).
            let texts = get(format!(
                "/_aws/sns/sms-messages?region={}&accountId={}",
                crate::REGION,
                crate::ACCOUNT
            ))
            .await?;
            let mut sms = Vec::new();
            if let Some(by_phone) = texts.get("sms_messages").and_then(Json::as_object) {
                for (phone, list) in by_phone.iter().filter(|(p, _)| wanted(p)) {
                    for m in list.as_array().into_iter().flatten() {
                        sms.push(
                            json!({ "id": m["MessageId"], "to": phone, "message": m["Message"] }),
                        );
                    }
                }
            }
            (emails, sms)
        }
    };
    Ok(json!({ "emails": emails, "sms": sms }))
}

pub fn router(state: Arc<State>) -> Router {
    let s1 = Arc::clone(&state);
    let s2 = Arc::clone(&state);
    let s3 = Arc::clone(&state);
    let s4 = Arc::clone(&state);
    let s5 = Arc::clone(&state);
    let s6 = Arc::clone(&state);
    let s7 = Arc::clone(&state);
    let s8 = Arc::clone(&state);
    let s9 = Arc::clone(&state);
    let s10 = Arc::clone(&state);
    let s11 = Arc::clone(&state);
    let s12 = Arc::clone(&state);
    let s13 = Arc::clone(&state);
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/state",
            get(move || async move { JsonResponse(s1.summary("")) }),
        )
        .route(
            "/functions",
            get(move || async move {
                JsonResponse(s2.pools.values().map(|p| p.view()).collect::<Vec<_>>())
            }),
        )
        .route(
            "/functions/{id}/kill-next",
            post(
                move |Path(id): Path<String>, Query(q): Query<BTreeMap<String, u32>>| async move {
                    let Some(pool) = s3.pool(&id) else {
                        return not_found(&id);
                    };
                    let count = q.get("count").copied().unwrap_or(1);
                    pool.arm_kill(count);
                    JsonResponse(json!({ "armed": count })).into_response()
                },
            ),
        )
        .route(
            "/functions/{id}/log",
            get(
                move |Path(id): Path<String>, Query(q): Query<BTreeMap<String, String>>| async move {
                    let Some(pool) = s10.pool(&id) else {
                        return not_found(&id);
                    };
                    let needle = q.get("contains").map_or("", String::as_str);
                    JsonResponse(json!({ "lines": pool.log_lines(needle) })).into_response()
                },
            ),
        )
        .route(
            "/functions/{id}/kill-busy",
            post(move |Path(id): Path<String>| async move {
                let Some(pool) = s6.pool(&id) else {
                    return not_found(&id);
                };
                JsonResponse(json!({ "killed": pool.kill_busy() })).into_response()
            }),
        )
        .route(
            "/functions/{id}/invoke",
            post(move |Path(id): Path<String>, body: Bytes| async move {
                let Some(pool) = s4.pool(&id) else {
                    return not_found(&id);
                };
                let outcome = pool.invoke(body).await;
                let (label, payload) = match &outcome {
                    Outcome::Success(bytes) => {
                        ("ok", serde_json::from_slice(bytes).unwrap_or(Json::Null))
                    }
                    Outcome::FunctionError {
                        error_type,
                        message,
                    } => (
                        "error",
                        json!({ "errorType": error_type, "errorMessage": message }),
                    ),
                    Outcome::Crashed(why) => ("crashed", json!(why)),
                    Outcome::Timeout => ("timeout", Json::Null),
                };
                JsonResponse(json!({ "outcome": label, "payload": payload })).into_response()
            }),
        )
        .route(
            "/sent",
            get(move |Query(q): Query<SentQuery>| async move {
                match sent(s7.aws_backend, &s7.aws, &q).await {
                    Ok(body) => JsonResponse(body).into_response(),
                    Err(e) => (
                        StatusCode::BAD_GATEWAY,
                        JsonResponse(
                            json!({ "code": "AWS_UNREACHABLE", "message": e.to_string() }),
                        ),
                    )
                        .into_response(),
                }
            }),
        )
        .route(
            "/emulators/aws/requests",
            get(move || async move { JsonResponse(json!(s11.aws_requests.snapshot())) }),
        )
        .route(
            "/xray/segments",
            get(move |Query(q): Query<SegmentsQuery>| async move {
                JsonResponse(json!({ "segments": s13.segments.of_correlation(&q.correlation_id) }))
            }),
        )
        .route(
            "/emulators/dynamodb/requests",
            get(move || async move {
                match &s12.dynamodb_requests {
                    Some(requests) => JsonResponse(json!(requests.snapshot())).into_response(),
                    None => (
                        StatusCode::NOT_FOUND,
                        JsonResponse(json!({
                            "code": "NOT_COUNTED",
                            "message": "DynamoDB requests are counted only when the local cloud is started with --count-dynamodb-requests",
                        })),
                    )
                        .into_response(),
                }
            }),
        )
        .route(
            "/faults/ses",
            post(
                move |axum::Json(fault): axum::Json<crate::emulator_proxy::Fault>| async move {
                    s8.ses_faults.set(fault);
                    JsonResponse(json!({ "refused": s8.ses_faults.refused() }))
                },
            )
            .delete(move || async move {
                s9.ses_faults.clear();
                JsonResponse(json!({ "refused": s9.ses_faults.refused() }))
            }),
        )
        .route(
            "/provision",
            post(move || async move {
                let mut ctx = Context {
                    stack_name: s5.stack_name.clone(),
                    region: "us-east-1".into(),
                    account_id: "123456789012".into(),
                    parameters: s5.parameters.clone(),
                    physical: BTreeMap::new(),
                };
                match provision::provision(&s5.template, &mut ctx, &s5.clients, &s5.options).await {
                    Ok(()) => {
                        let same = ctx.physical.iter().all(|(k, v)| {
                            s5.physical
                                .get(k)
                                .is_some_and(|p| p.reference == v.reference)
                        });
                        JsonResponse(
                            json!({ "provisioned": ctx.physical.len(), "unchanged": same }),
                        )
                        .into_response()
                    }
                    Err(e) => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        JsonResponse(
                            json!({ "code": "PROVISION_FAILED", "message": e.to_string() }),
                        ),
                    )
                        .into_response(),
                }
            }),
        )
}

//! What the local cloud runs, read from the resolved template: functions,
//! their environment, routes, authorizers and event sources.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::template::{Context, Template, TemplateError, merge_globals, resolve};

#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The physical function name (what `!Ref` gives).
    pub name: String,
    /// The binary built by cargo (SAM `Metadata.BuildProperties.Binary`).
    pub binary: String,
    pub arn: String,
    pub timeout_secs: u64,
    pub memory_mb: u64,
    pub environment: BTreeMap<String, String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    /// `Tracing: Active`: each invocation is traced (sampled) and recorded
    /// as an X-Ray segment.
    pub traced: bool,
    pub routes: Vec<RouteSpec>,
    pub sqs: Vec<SqsSource>,
    pub streams: Vec<StreamSource>,
    pub schedules: Vec<ScheduleSource>,
}

#[cfg(test)]
impl FunctionSpec {
    /// A function with no routes, sources or environment: `binary`, run
    /// with `timeout_secs`, for the runtime's and the router's tests.
    pub fn bare(binary: &str, timeout_secs: u64) -> Self {
        Self {
            logical_id: binary.to_owned(),
            name: binary.to_owned(),
            binary: binary.to_owned(),
            arn: String::new(),
            timeout_secs,
            memory_mb: 128,
            environment: BTreeMap::new(),
            log_format: None,
            log_level: None,
            traced: false,
            routes: vec![],
            sqs: vec![],
            streams: vec![],
            schedules: vec![],
        }
    }
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: String,
    pub path: String,
    /// `None`: public. `Some(name)`: the API's authorizer of that name.
    pub authorizer: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SqsSource {
    pub queue_arn: String,
    pub batch_size: usize,
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct StreamSource {
    pub stream_arn: String,
    pub trim_horizon: bool,
    pub batch_size: i32,
    pub report_batch_item_failures: bool,
    /// -1: retry until the record expires from the stream.
    pub maximum_retry_attempts: i64,
    /// Split a batch the function failed on in two, until the bad record
    /// stands alone.
    pub bisect_on_error: bool,
    /// The queue (ARN) told where a batch is that exhausted its retries.
    pub on_failure: Option<String>,
    pub filters: Vec<Json>,
    pub enabled: bool,
}

#[derive(Debug, Clone)]
pub struct ScheduleSource {
    pub event_name: String,
    pub expression: String,
    pub enabled: bool,
    pub input: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AuthorizerSpec {
    pub function_arn: String,
    /// Headers that must be present (lower-case); missing ones answer 401.
    pub identity_headers: Vec<String>,
    pub simple_responses: bool,
    /// `Identity.ReauthorizeEvery`: how long an answer is cached per identity
    /// source (0: never cached).
    pub cache_ttl: std::time::Duration,
    /// Cached answers, shared by every route using this authorizer.
    pub cache: AuthorizerCache,
    /// One gate per identity source being authorized now: requests that
    /// miss the cache together wait for the first one's answer instead of
    /// each invoking the authorizer (a burst of one client's requests
    /// costs one invocation, not one per request).
    pub inflight: Inflight,
}

/// Identity source values -> the gate of the invocation answering them.
pub type Inflight = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
>;

/// Identity source values -> (when the answer expires, the context if allowed).
pub type AuthorizerCache = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, Option<Json>)>>,
>;

#[derive(Debug, Clone, Default)]
pub struct ApiSpec {
    pub authorizers: BTreeMap<String, AuthorizerSpec>,
    pub default_authorizer: Option<String>,
}

fn str_of(v: &Json, key: &str) -> Option<String> {
    match v.get(key)? {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn u64_of(v: &Json, key: &str) -> Option<u64> {
    v.get(key)
        .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()))
}

fn bool_of(v: &Json, key: &str) -> Option<bool> {
    v.get(key)
        .and_then(|x| x.as_bool().or_else(|| x.as_str()?.parse().ok()))
}

fn reports_failures(props: &Json) -> bool {
    props
        .get("FunctionResponseTypes")
        .and_then(Json::as_array)
        .is_some_and(|t| t.iter().any(|x| x == "ReportBatchItemFailures"))
}

/// Reads the HTTP APIs' authorizers. The local cloud serves every HttpApi of
/// the template on one address, so authorizer names must be unique.
pub fn api_spec(template: &Template, ctx: &Context) -> Result<ApiSpec, TemplateError> {
    let mut spec = ApiSpec::default();
    for r in template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::Serverless::HttpApi")
    {
        let props = resolve(&r.properties, ctx, &r.logical_id)?;
        let Some(auth) = props.get("Auth") else {
            continue;
        };
        if let Some(default) = str_of(auth, "DefaultAuthorizer") {
            spec.default_authorizer = Some(default);
        }
        if let Some(Json::Object(authorizers)) = auth.get("Authorizers") {
            for (name, a) in authorizers {
                let function_arn = str_of(a, "FunctionArn").ok_or_else(|| {
                    TemplateError::Invalid(format!(
                        "authorizer {name} has no FunctionArn (only Lambda authorizers run locally)"
                    ))
                })?;
                let identity_headers = a
                    .get("Identity")
                    .and_then(|i| i.get("Headers"))
                    .and_then(Json::as_array)
                    .map(|h| {
                        h.iter()
                            .filter_map(Json::as_str)
                            .map(str::to_ascii_lowercase)
                            .collect()
                    })
                    .unwrap_or_default();
                spec.authorizers.insert(
                    name.clone(),
                    AuthorizerSpec {
                        function_arn,
                        identity_headers,
                        simple_responses: bool_of(a, "EnableSimpleResponses").unwrap_or(false),
                        cache_ttl: std::time::Duration::from_secs(
                            a.get("Identity")
                                .and_then(|i| i.get("ReauthorizeEvery"))
                                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                                .unwrap_or(0),
                        ),
                        cache: AuthorizerCache::default(),
                        inflight: Inflight::default(),
                    },
                );
            }
        }
    }
    Ok(spec)
}

/// Reads every `AWS::Serverless::Function` with its globals merged in.
pub fn functions(
    template: &Template,
    ctx: &Context,
    api: &ApiSpec,
) -> Result<Vec<FunctionSpec>, TemplateError> {
    let globals = resolve(&template.function_globals, ctx, "Globals")?;
    let mut out = Vec::new();
    for r in template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::Serverless::Function")
    {
        let own = resolve(&r.properties, ctx, &r.logical_id)?;
        let props = merge_globals(&globals, &own);
        let physical = ctx.physical.get(&r.logical_id);
        let binary = r
            .metadata
            .get("BuildProperties")
            .and_then(|b| b.get("Binary"))
            .and_then(|b| b.as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                TemplateError::Invalid(format!(
                    "{} has no Metadata.BuildProperties.Binary",
                    r.logical_id
                ))
            })?;
        let environment = props
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Json::as_object)
            .map(|vars| {
                vars.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let logging = props.get("LoggingConfig").cloned().unwrap_or(Json::Null);
        let mut spec = FunctionSpec {
            logical_id: r.logical_id.clone(),
            name: physical
                .map(|p| p.reference.clone())
                .unwrap_or_else(|| r.logical_id.clone()),
            arn: physical
                .and_then(|p| p.attributes.get("Arn").cloned())
                .unwrap_or_default(),
            binary,
            timeout_secs: u64_of(&props, "Timeout").unwrap_or(3),
            memory_mb: u64_of(&props, "MemorySize").unwrap_or(128),
            environment,
            log_format: str_of(&logging, "LogFormat"),
            log_level: str_of(&logging, "ApplicationLogLevel"),
            traced: str_of(&props, "Tracing").as_deref() == Some("Active"),
            routes: Vec::new(),
            sqs: Vec::new(),
            streams: Vec::new(),
            schedules: Vec::new(),
        };
        if let Some(Json::Object(events)) = props.get("Events") {
            for (event_name, event) in events {
                let kind = str_of(event, "Type").unwrap_or_default();
                let p = event.get("Properties").cloned().unwrap_or(Json::Null);
                match kind.as_str() {
                    "HttpApi" => {
                        let authorizer = match p.get("Auth").and_then(|a| str_of(a, "Authorizer")) {
                            Some(name) if name == "NONE" => None,
                            Some(name) => Some(name),
                            None => api.default_authorizer.clone(),
                        };
                        if let Some(name) = &authorizer
                            && !api.authorizers.contains_key(name)
                        {
                            return Err(TemplateError::Invalid(format!(
                                "{}.{event_name} uses the unknown authorizer {name}",
                                r.logical_id
                            )));
                        }
                        spec.routes.push(RouteSpec {
                            method: str_of(&p, "Method")
                                .unwrap_or_else(|| "ANY".into())
                                .to_ascii_uppercase(),
                            path: str_of(&p, "Path").unwrap_or_else(|| "$default".into()),
                            authorizer,
                        });
                    }
                    "SQS" => spec.sqs.push(SqsSource {
                        queue_arn: str_of(&p, "Queue").unwrap_or_default(),
                        batch_size: usize::try_from(u64_of(&p, "BatchSize").unwrap_or(10))
                            .unwrap_or(10),
                        report_batch_item_failures: reports_failures(&p),
                        enabled: bool_of(&p, "Enabled").unwrap_or(true),
                    }),
                    "DynamoDB" => spec.streams.push(StreamSource {
                        stream_arn: str_of(&p, "Stream").unwrap_or_default(),
                        trim_horizon: str_of(&p, "StartingPosition").as_deref() != Some("LATEST"),
                        batch_size: i32::try_from(u64_of(&p, "BatchSize").unwrap_or(100).min(1000))
                            .unwrap_or(100),
                        report_batch_item_failures: reports_failures(&p),
                        maximum_retry_attempts: p
                            .get("MaximumRetryAttempts")
                            .and_then(Json::as_i64)
                            .unwrap_or(-1),
                        bisect_on_error: bool_of(&p, "BisectBatchOnFunctionError").unwrap_or(false),
                        on_failure: p
                            .get("DestinationConfig")
                            .and_then(|d| d.get("OnFailure"))
                            .and_then(|o| str_of(o, "Destination")),
                        filters: p
                            .get("FilterCriteria")
                            .and_then(|f| f.get("Filters"))
                            .and_then(Json::as_array)
                            .map(|fs| {
                                fs.iter()
                                    .filter_map(|f| f.get("Pattern"))
                                    .filter_map(|p| match p {
                                        Json::String(s) => serde_json::from_str(s).ok(),
                                        other => Some(other.clone()),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                        enabled: bool_of(&p, "Enabled").unwrap_or(true),
                    }),
                    "Schedule" | "ScheduleV2" => spec.schedules.push(ScheduleSource {
                        event_name: event_name.clone(),
                        expression: str_of(&p, "Schedule")
                            .or_else(|| str_of(&p, "ScheduleExpression"))
                            .unwrap_or_default(),
                        enabled: bool_of(&p, "Enabled").unwrap_or(true)
                            && str_of(&p, "State").is_none_or(|s| s == "ENABLED"),
                        input: str_of(&p, "Input"),
                    }),
                    other => {
                        return Err(TemplateError::Invalid(format!(
                            "{}.{event_name}: the event type {other} is not supported by the local cloud",
                            r.logical_id
                        )));
                    }
                }
            }
        }
        out.push(spec);
    }
    Ok(out)
}

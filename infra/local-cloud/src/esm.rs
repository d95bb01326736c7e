//! Event source mappings, as Lambda runs them: SQS pollers with partial
//! batch responses, DynamoDB stream pollers that keep each shard in order,
//! and schedules (rate and cron).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, Record, ShardIteratorType};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use axum::body::Bytes;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;

use crate::model::{ScheduleSource, SqsSource, StreamSource};
use crate::pattern;
use crate::runtime::{FunctionPool, Outcome};

const REGION: &str = "us-east-1";

/// Pollers per SQS mapping: a batch stuck in one invocation does not stop
/// the queue.
pub const SQS_POLLERS: usize = 2;

fn stopped(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow()
}

/// The message ids a partial batch response names as failed; `None` when
/// the response is malformed, which fails the whole batch as Lambda does.
fn failed_ids(response: &[u8], batch: &HashSet<String>) -> Option<HashSet<String>> {
    if response.is_empty() || response == b"null" {
        return Some(HashSet::new());
    }
    let value: Json = serde_json::from_slice(response).ok()?;
    let Some(failures) = value.get("batchItemFailures") else {
        return Some(HashSet::new());
    };
    let mut ids = HashSet::new();
    for failure in failures.as_array()? {
        let id = failure.get("itemIdentifier")?.as_str()?;
        if id.is_empty() || !batch.contains(id) {
            return None;
        }
        ids.insert(id.to_owned());
    }
    Some(ids)
}

pub async fn sqs_poller(
    sqs: aws_sdk_sqs::Client,
    pool: Arc<FunctionPool>,
    source: SqsSource,
    queue_url: String,
    shutdown: watch::Receiver<bool>,
) {
    let batch_size = i32::try_from(source.batch_size.clamp(1, 10)).unwrap_or(10);
    let mut failures_in_a_row = 0u32;
    while !stopped(&shutdown) {
        let received = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(batch_size)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(out) => {
                failures_in_a_row = 0;
                out.messages.unwrap_or_default()
            }
            Err(err) => {
                failures_in_a_row += 1;
                if failures_in_a_row == 1 || failures_in_a_row.is_multiple_of(30) {
                    tracing::warn!(target: "esm", "{}: cannot receive from {}: {}", pool.spec.binary, source.queue_arn, aws_sdk_sqs::error::DisplayErrorContext(err));
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Json> = messages
            .iter()
            .map(|m| {
                let attributes: Map<String, Json> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), json!(v))).collect())
                    .unwrap_or_default();
                let message_attributes: Map<String, Json> = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    json!({
                                        "stringValue": v.string_value(),
                                        "binaryValue": v.binary_value().map(|b| base64::engine::general_purpose::STANDARD.encode(b.as_ref())),
                                        "stringListValues": [],
                                        "binaryListValues": [],
                                        "dataType": v.data_type(),
                                    }),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": message_attributes,
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": source.queue_arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        let payload = Bytes::from(json!({ "Records": records }).to_string());
        let ids: HashSet<String> = messages
            .iter()
            .filter_map(|m| m.message_id().map(str::to_owned))
            .collect();
        let failed = match pool.invoke(payload).await {
            Outcome::Success(body) if source.report_batch_item_failures => failed_ids(&body, &ids).unwrap_or_else(|| {
                tracing::warn!(target: "esm", "{}: malformed batch response; the whole batch will be retried", pool.spec.binary);
                ids.clone()
            }),
            Outcome::Success(_) => HashSet::new(),
            // The messages become visible again after their visibility timeout.
            _ => ids.clone(),
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.message_id().is_some_and(|id| !failed.contains(id)))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(format!("m{i}"))
                    .receipt_handle(m.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect();
        if !failed.is_empty() {
            tracing::info!(target: "esm", "{}: {} of {} messages failed and return to the queue", pool.spec.binary, failed.len(), messages.len());
        }
        if !done.is_empty()
            && let Err(err) = sqs
                .delete_message_batch()
                .queue_url(&queue_url)
                .set_entries(Some(done))
                .send()
                .await
        {
            tracing::warn!(target: "esm", "{}: delete failed (messages will be redelivered): {}", pool.spec.binary, aws_sdk_sqs::error::DisplayErrorContext(err));
        }
    }
}

/// A stream attribute value in DynamoDB JSON, as Lambda events carry it.
fn attribute_json(value: &StreamValue) -> Json {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        StreamValue::S(s) => json!({ "S": s }),
        StreamValue::N(n) => json!({ "N": n }),
        StreamValue::B(b) => json!({ "B": b64(b) }),
        StreamValue::Ss(v) => json!({ "SS": v }),
        StreamValue::Ns(v) => json!({ "NS": v }),
        StreamValue::Bs(v) => json!({ "BS": v.iter().map(b64).collect::<Vec<_>>() }),
        StreamValue::M(m) => json!({ "M": image_json(m) }),
        StreamValue::L(l) => json!({ "L": l.iter().map(attribute_json).collect::<Vec<_>>() }),
        StreamValue::Null(n) => json!({ "NULL": n }),
        StreamValue::Bool(b) => json!({ "BOOL": b }),
        _ => Json::Null,
    }
}

fn image_json(image: &HashMap<String, StreamValue>) -> Json {
    Json::Object(
        image
            .iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect(),
    )
}

fn record_json(record: &Record, stream_arn: &str) -> Json {
    let mut dynamodb = Map::new();
    if let Some(r) = record.dynamodb() {
        if let Some(t) = r.approximate_creation_date_time() {
            dynamodb.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        if let Some(k) = r.keys() {
            dynamodb.insert("Keys".into(), image_json(k));
        }
        if let Some(i) = r.new_image() {
            dynamodb.insert("NewImage".into(), image_json(i));
        }
        if let Some(i) = r.old_image() {
            dynamodb.insert("OldImage".into(), image_json(i));
        }
        dynamodb.insert("SequenceNumber".into(), json!(r.sequence_number()));
        dynamodb.insert("SizeBytes".into(), json!(r.size_bytes()));
        dynamodb.insert(
            "StreamViewType".into(),
            json!(r.stream_view_type().map(|v| v.as_str())),
        );
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// Invokes the function with `records` until it has taken all of them,
/// resuming after each partial failure from the first failed record.
async fn deliver(
    pool: &FunctionPool,
    source: &StreamSource,
    mut records: Vec<Json>,
    shutdown: &watch::Receiver<bool>,
) {
    let mut attempt: u32 = 0;
    while !records.is_empty() && !stopped(shutdown) {
        let payload = Bytes::from(json!({ "Records": records }).to_string());
        let resume_from = match pool.invoke(payload).await {
            Outcome::Success(body) if source.report_batch_item_failures => {
                let seqs: Vec<&str> = records
                    .iter()
                    .filter_map(|r| r["dynamodb"]["SequenceNumber"].as_str())
                    .collect();
                let batch: HashSet<String> = seqs.iter().map(|s| (*s).to_owned()).collect();
                match failed_ids(&body, &batch) {
                    Some(failed) if failed.is_empty() => None,
                    Some(failed) => seqs.iter().position(|s| failed.contains(*s)),
                    None => Some(0),
                }
            }
            Outcome::Success(_) => None,
            _ => Some(0),
        };
        let Some(index) = resume_from else { return };
        attempt += 1;
        let limit = source.maximum_retry_attempts;
        if limit >= 0 && i64::from(attempt) > limit {
            tracing::error!(target: "esm", "{}: {} stream records dropped after {attempt} attempts", pool.spec.binary, records.len() - index);
            return;
        }
        records.drain(..index);
        let delay = Duration::from_millis((100 * 2u64.pow(attempt.min(6))).min(5_000));
        tracing::warn!(target: "esm", "{}: retrying {} stream records in {}ms (attempt {attempt})", pool.spec.binary, records.len(), delay.as_millis());
        tokio::time::sleep(delay).await;
    }
}

pub async fn stream_poller(
    streams: aws_sdk_dynamodbstreams::Client,
    pool: Arc<FunctionPool>,
    source: StreamSource,
    shutdown: watch::Receiver<bool>,
) {
    // Shards are read one after another so records keep the table's order.
    let mut iterators: HashMap<String, Option<String>> = HashMap::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut last_describe = std::time::Instant::now() - Duration::from_secs(60);
    while !stopped(&shutdown) {
        if last_describe.elapsed() > Duration::from_secs(5) || iterators.is_empty() {
            last_describe = std::time::Instant::now();
            match streams
                .describe_stream()
                .stream_arn(&source.stream_arn)
                .send()
                .await
            {
                Ok(out) => {
                    for shard in out
                        .stream_description()
                        .map(|d| d.shards())
                        .unwrap_or_default()
                    {
                        let Some(id) = shard.shard_id() else { continue };
                        if iterators.contains_key(id) || finished.contains(id) {
                            continue;
                        }
                        if let Some(parent) = shard.parent_shard_id()
                            && iterators.contains_key(parent)
                            && !finished.contains(parent)
                        {
                            continue;
                        }
                        let kind = if source.trim_horizon {
                            ShardIteratorType::TrimHorizon
                        } else {
                            ShardIteratorType::Latest
                        };
                        match streams
                            .get_shard_iterator()
                            .stream_arn(&source.stream_arn)
                            .shard_id(id)
                            .shard_iterator_type(kind)
                            .send()
                            .await
                        {
                            Ok(it) => {
                                iterators
                                    .insert(id.to_owned(), it.shard_iterator().map(str::to_owned));
                            }
                            Err(err) => {
                                tracing::warn!(target: "esm", "{}: no iterator for {id}: {}", pool.spec.binary, aws_sdk_dynamodbstreams::error::DisplayErrorContext(err))
                            }
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(target: "esm", "{}: cannot describe {}: {}", pool.spec.binary, source.stream_arn, aws_sdk_dynamodbstreams::error::DisplayErrorContext(err));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let mut got_any = false;
        let shard_ids: Vec<String> = iterators.keys().cloned().collect();
        for shard in shard_ids {
            let Some(Some(iterator)) = iterators.get(&shard).cloned() else {
                iterators.remove(&shard);
                finished.insert(shard);
                continue;
            };
            match streams
                .get_records()
                .shard_iterator(&iterator)
                .limit(source.batch_size)
                .send()
                .await
            {
                Ok(out) => {
                    let records: Vec<Json> = out
                        .records()
                        .iter()
                        .map(|r| record_json(r, &source.stream_arn))
                        .filter(|r| {
                            source.filters.is_empty()
                                || source.filters.iter().any(|f| pattern::matches(f, r))
                        })
                        .collect();
                    got_any |= !out.records().is_empty();
                    if !records.is_empty() {
                        deliver(&pool, &source, records, &shutdown).await;
                    }
                    iterators.insert(shard, out.next_shard_iterator().map(str::to_owned));
                }
                Err(err) => {
                    tracing::warn!(target: "esm", "{}: get_records failed on {shard}: {}", pool.spec.binary, aws_sdk_dynamodbstreams::error::DisplayErrorContext(err));
                    // An expired iterator is renewed on the next describe.
                    iterators.remove(&shard);
                    last_describe = std::time::Instant::now() - Duration::from_secs(60);
                }
            }
        }
        if !got_any {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A parsed schedule expression.
#[derive(Debug, Clone)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<cron::Schedule>),
}

impl FromStr for Schedule {
    type Err = String;

    /// Parses `rate(5 minutes)` or the six-field `cron(0 12 * * ? *)`.
    fn from_str(expr: &str) -> Result<Self, Self::Err> {
        let expr = expr.trim();
        if let Some(inner) = expr.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            let (n, unit) = inner
                .trim()
                .split_once(' ')
                .ok_or_else(|| format!("bad rate: {expr}"))?;
            let n: u64 = n.parse().map_err(|_| format!("bad rate value: {expr}"))?;
            if n == 0 {
                return Err(format!("a rate must be positive: {expr}"));
            }
            let secs = match unit.trim() {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3600,
                "day" | "days" => 86_400,
                other => return Err(format!("bad rate unit {other}")),
            };
            return Ok(Self::Rate(Duration::from_secs(n * secs)));
        }
        if let Some(inner) = expr.strip_prefix("cron(").and_then(|e| e.strip_suffix(')')) {
            let fields: Vec<&str> = inner.split_whitespace().collect();
            if fields.len() != 6 {
                return Err(format!("an AWS cron has six fields: {expr}"));
            }
            // AWS: minutes hours day-of-month month day-of-week year, with `?`.
            // The cron crate: seconds first, `?` not needed.
            let converted = format!(
                "0 {}",
                fields
                    .iter()
                    .map(|f| if *f == "?" { "*" } else { f })
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            let schedule = cron::Schedule::from_str(&converted)
                .map_err(|e| format!("bad cron {expr}: {e}"))?;
            return Ok(Self::Cron(Box::new(schedule)));
        }
        Err(format!("a schedule is rate(...) or cron(...): {expr}"))
    }
}

impl Schedule {
    /// The next firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Rate(every) => Some(after + chrono::Duration::from_std(*every).ok()?),
            Self::Cron(schedule) => schedule.after(&after).next(),
        }
    }
}

/// The event a scheduled rule delivers.
pub fn scheduled_event(rule_arn: &str, at: DateTime<Utc>) -> Json {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    })
}

pub fn schedule_rule_arn(pool: &FunctionPool, source: &ScheduleSource) -> String {
    format!(
        "arn:aws:events:{REGION}:123456789012:rule/{}-{}",
        pool.spec.name, source.event_name
    )
}

/// Fires the function on its schedule; a failed invocation is retried twice,
/// as EventBridge's asynchronous invoke does.
pub async fn scheduler(
    pool: Arc<FunctionPool>,
    source: ScheduleSource,
    schedule: Schedule,
    mut shutdown: watch::Receiver<bool>,
) {
    let arn = schedule_rule_arn(&pool, &source);
    let mut from = Utc::now();
    while let Some(next) = schedule.next_after(from) {
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        from = next;
        let payload = match &source.input {
            Some(input) => input.clone(),
            None => scheduled_event(&arn, next).to_string(),
        };
        for attempt in 0..3u64 {
            if matches!(
                pool.invoke(Bytes::from(payload.clone())).await,
                Outcome::Success(_)
            ) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1 + attempt)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rate_expressions_parse() {
        let Ok(Schedule::Rate(d)) = "rate(5 minutes)".parse::<Schedule>() else {
            panic!()
        };
        assert_eq!(d, Duration::from_secs(300));
        assert!("rate(0 minutes)".parse::<Schedule>().is_err());
        assert!("rate(5 fortnights)".parse::<Schedule>().is_err());
    }

    #[test]
    fn aws_cron_expressions_fire_when_aws_would() {
        let daily: Schedule = "cron(0 0 * * ? *)".parse().unwrap();
        let from = Utc.with_ymd_and_hms(2026, 11, 21, 13, 0, 0).unwrap();
        assert_eq!(
            daily.next_after(from),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap())
        );
        let quarter: Schedule = "cron(0/15 * * * ? *)".parse().unwrap();
        assert_eq!(
            quarter.next_after(from),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 13, 15, 0).unwrap())
        );
        assert!("cron(0 0 * *)".parse::<Schedule>().is_err());
    }

    #[test]
    fn a_partial_batch_response_names_only_known_messages() {
        let batch: HashSet<String> = ["a".to_owned(), "b".to_owned()].into();
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[{"itemIdentifier":"b"}]}"#, &batch),
            Some(["b".to_owned()].into())
        );
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[]}"#, &batch),
            Some(HashSet::new())
        );
        assert_eq!(failed_ids(b"null", &batch), Some(HashSet::new()));
        assert_eq!(
            failed_ids(
                br#"{"batchItemFailures":[{"itemIdentifier":"zzz"}]}"#,
                &batch
            ),
            None
        );
        assert_eq!(
            failed_ids(br#"{"batchItemFailures":[{"itemIdentifier":""}]}"#, &batch),
            None
        );
    }
}

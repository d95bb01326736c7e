//! DynamoDB stream event source mappings: one poller per stream that
//! keeps each shard in order, with the records in Lambda's shape.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, Record, ShardIteratorType};
use axum::body::Bytes;
use base64::Engine;
use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;

use super::{REGION, failed_ids, stopped};
use crate::model::StreamSource;
use crate::pattern;
use crate::runtime::{FunctionPool, Outcome};

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

/// Where a batch that exhausted its retries is reported: the mapping's
/// on-failure queue.
#[derive(Clone)]
pub struct OnFailure {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
}

/// Lambda's on-failure record of a stream batch: where it is in the
/// stream, not the records themselves.
fn failure_record(
    source: &StreamSource,
    pool: &FunctionPool,
    records: &[Json],
    attempts: u32,
) -> Json {
    let seq = |r: &Json| {
        r["dynamodb"]["SequenceNumber"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let arrival = |r: &Json| r["dynamodb"]["ApproximateCreationDateTime"].clone();
    let (first, last) = (records.first(), records.last());
    json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": pool.spec.logical_id,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": attempts,
        },
        "version": "1.0",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "DDBStreamBatchInfo": {
            "shardId": "local",
            "startSequenceNumber": first.map(seq),
            "endSequenceNumber": last.map(seq),
            "approximateArrivalOfFirstRecord": first.map(arrival),
            "approximateArrivalOfLastRecord": last.map(arrival),
            "batchSize": records.len(),
            "streamArn": source.stream_arn,
        },
    })
}

/// Invokes the function with `records` until it has taken all of them:
/// after a partial failure it resumes from the first failed record; after
/// a failed invocation it splits the batch in two (when the mapping says
/// `BisectBatchOnFunctionError`); a batch that exhausted
/// `MaximumRetryAttempts` is reported to the on-failure queue (when there
/// is one) and skipped, as Lambda does.
async fn deliver(
    pool: &FunctionPool,
    source: &StreamSource,
    records: Vec<Json>,
    on_failure: Option<&OnFailure>,
    shutdown: &watch::Receiver<bool>,
) {
    let mut batches: std::collections::VecDeque<Vec<Json>> = [records].into();
    while let Some(mut records) = batches.pop_front() {
        let mut attempt: u32 = 0;
        while !records.is_empty() && !stopped(shutdown) {
            let payload = Bytes::from(json!({ "Records": records }).to_string());
            let outcome = pool.invoke(payload).await;
            let function_error = !matches!(outcome, Outcome::Success(_));
            let resume_from = match outcome {
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
            let Some(index) = resume_from else { break };
            attempt += 1;
            records.drain(..index);
            let limit = source.maximum_retry_attempts;
            if limit >= 0 && i64::from(attempt) > limit {
                tracing::error!(target: "esm", "{}: {} stream records skipped after {attempt} attempts", pool.spec.binary, records.len());
                if let Some(target) = on_failure {
                    let record = failure_record(source, pool, &records, attempt);
                    if let Err(err) = target
                        .sqs
                        .send_message()
                        .queue_url(&target.queue_url)
                        .message_body(record.to_string())
                        .send()
                        .await
                    {
                        tracing::error!(target: "esm", "{}: cannot report the skipped batch: {}", pool.spec.binary, aws_sdk_sqs::error::DisplayErrorContext(err));
                    }
                }
                break;
            }
            if function_error && source.bisect_on_error && records.len() > 1 {
                let second = records.split_off(records.len() / 2);
                tracing::warn!(target: "esm", "{}: bisecting a failed batch into {} and {} records", pool.spec.binary, records.len(), second.len());
                batches.push_front(second);
                batches.push_front(std::mem::take(&mut records));
                break;
            }
            let delay = Duration::from_millis((100 * 2u64.pow(attempt.min(6))).min(5_000));
            tracing::warn!(target: "esm", "{}: retrying {} stream records in {}ms (attempt {attempt})", pool.spec.binary, records.len(), delay.as_millis());
            tokio::time::sleep(delay).await;
        }
    }
}

pub async fn stream_poller(
    streams: aws_sdk_dynamodbstreams::Client,
    pool: Arc<FunctionPool>,
    source: StreamSource,
    on_failure: Option<OnFailure>,
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
                        deliver(&pool, &source, records, on_failure.as_ref(), &shutdown).await;
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

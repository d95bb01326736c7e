//! Firehose delivery streams, locally: what an `AWS::KinesisFirehose::
//! DeliveryStream` with an S3 destination does on AWS, for the parts the
//! template uses, done by the local cloud because moto's EventBridge has no
//! Firehose target.
//!
//! At provisioning, each stream gets a queue of its own in moto, and every
//! rule target naming the stream is pointed at that queue instead. A
//! delivery task reads the queue, applies the target's `InputPath`, the
//! stream's `MetadataExtraction` query (the JQ subset `{key: .field,
//! key: .field[a:b]}`) and `AppendDelimiterToRecord`, and writes each
//! partition's records to the bucket as one object under the stream's
//! `Prefix` (`!{partitionKeyFromQuery:…}`, `!{timestamp:…}`), named as
//! Firehose names them; a record that cannot be partitioned goes under
//! `ErrorOutputPrefix`. Messages are deleted only after their object is
//! written, so a crash in between delivers them again: at least once, as
//! on AWS.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use tokio::sync::watch;

/// Receives in flight at once on a stream's queue.
const RECEIVERS: usize = 4;

/// One stream, as provisioning read it from the template.
#[derive(Debug, Clone)]
pub struct StreamSpec {
    pub name: String,
    pub queue_url: String,
    pub bucket: String,
    pub prefix: String,
    pub error_prefix: String,
    pub query: Option<Query>,
    pub delimiter: Option<String>,
    /// The `InputPath` of the rule target that feeds it (`$.detail`).
    pub input_path: Option<String>,
    /// How long records are buffered before an object is written (locally
    /// a second, not the template's 60: tests read the bucket).
    pub interval: Duration,
}

/// One partition key of a query: its name, the path to its value, and the
/// slice of the value's text (`[a:b]`) if any.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    name: String,
    path: Vec<String>,
    slice: Option<(usize, usize)>,
}

/// A metadata extraction query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query(Vec<Key>);

impl Query {
    /// Parses the JQ subset `{key: .a.b, key: .c[0:10]}`; anything else is
    /// an error naming what the local cloud cannot run.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let unsupported = || {
            format!(
                "the MetadataExtractionQuery {raw:?} is not of the form {{key: .field[a:b], ...}}"
            )
        };
        let inner = raw
            .trim()
            .strip_prefix('{')
            .and_then(|r| r.strip_suffix('}'))
            .ok_or_else(unsupported)?;
        let mut keys = Vec::new();
        for part in inner.split(',') {
            let (key, path) = part.split_once(':').ok_or_else(unsupported)?;
            let path = path.trim().strip_prefix('.').ok_or_else(unsupported)?;
            let (path, slice) = match path.split_once('[') {
                Some((p, s)) => {
                    let s = s.strip_suffix(']').ok_or_else(unsupported)?;
                    let (a, b) = s.split_once(':').ok_or_else(unsupported)?;
                    let a = a.trim().parse().map_err(|_| unsupported())?;
                    let b = b.trim().parse().map_err(|_| unsupported())?;
                    (p, Some((a, b)))
                }
                None => (path, None),
            };
            let fields: Vec<String> = path.split('.').map(str::to_owned).collect();
            if fields
                .iter()
                .any(|f| f.is_empty() || !f.chars().all(|c| c.is_alphanumeric() || c == '_'))
            {
                return Err(unsupported());
            }
            keys.push(Key {
                name: key.trim().to_owned(),
                path: fields,
                slice,
            });
        }
        Ok(Self(keys))
    }

    /// The partition keys of `record`, or `None` if one is missing.
    pub fn keys(&self, record: &Json) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for Key {
            name: key,
            path: fields,
            slice,
        } in &self.0
        {
            let mut at = record;
            for f in fields {
                at = at.get(f)?;
            }
            let text = match at {
                Json::String(s) => s.clone(),
                Json::Null => return None,
                other => other.to_string(),
            };
            let text = match slice {
                Some((a, b)) => text.get(*a..(*b).min(text.len()))?.to_owned(),
                None => text,
            };
            out.insert(key.clone(), text);
        }
        Some(out)
    }
}

/// `$.a.b` of `value`.
fn input_path<'a>(value: &'a Json, path: Option<&str>) -> Option<&'a Json> {
    let Some(path) = path else {
        return Some(value);
    };
    let mut at = value;
    for field in path.strip_prefix('$')?.split('.').filter(|f| !f.is_empty()) {
        at = at.get(field)?;
    }
    Some(at)
}

/// A Java-style date pattern (`yyyy-MM-dd`, `HH`) as chrono's.
fn date_pattern(java: &str) -> String {
    java.replace("yyyy", "%Y")
        .replace("MM", "%m")
        .replace("dd", "%d")
        .replace("HH", "%H")
        .replace("mm", "%M")
        .replace("ss", "%S")
}

/// `prefix` with its expressions evaluated.
pub fn evaluate(
    prefix: &str,
    keys: &BTreeMap<String, String>,
    at: DateTime<Utc>,
    error: &str,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = prefix;
    while let Some(start) = rest.find("!{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("unclosed expression in {prefix:?}"))?;
        let expr = &rest[start + 2..start + end];
        let value = match expr.split_once(':') {
            Some(("partitionKeyFromQuery", key)) => keys
                .get(key)
                .cloned()
                .ok_or_else(|| format!("no partition key {key}"))?,
            Some(("timestamp", pattern)) => at.format(&date_pattern(pattern)).to_string(),
            Some(("firehose", "error-output-type")) => error.to_owned(),
            Some(("firehose", "random-string")) => uuid::Uuid::new_v4().simple().to_string(),
            _ => {
                return Err(format!(
                    "the prefix expression !{{{expr}}} is not supported locally"
                ));
            }
        };
        out.push_str(&value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads the stream's queue and writes what it buffers to the bucket, until
/// shutdown.
pub async fn deliver(
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    spec: StreamSpec,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sequence: u64 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let started = Instant::now();
        let mut messages = Vec::new();
        while started.elapsed() < spec.interval && messages.len() < 500 {
            // Several receives at once: every event of the bus comes here,
            // and one receive of ten at a time fell behind a busy pipeline
            // (1,375 records queued after a benchmark), which made every
            // send to the queue slower in moto.
            let receives = (0..RECEIVERS).map(|_| {
                sqs.receive_message()
                    .queue_url(&spec.queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
            });
            let received = tokio::select! {
                r = futures::future::join_all(receives) => r,
                _ = shutdown.changed() => return,
            };
            let mut failed = false;
            for answer in received {
                match answer {
                    Ok(out) => messages.extend(out.messages().iter().cloned()),
                    Err(e) => {
                        tracing::warn!(target: "local-cloud", stream = %spec.name, error = %aws_sdk_sqs::error::DisplayErrorContext(e), "firehose: receiving failed");
                        failed = true;
                    }
                }
            }
            if failed {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if messages.is_empty() {
            continue;
        }
        let now = Utc::now();
        let mut objects: BTreeMap<String, String> = BTreeMap::new();
        // Receives at once may hand out one message twice (moto marks a
        // message received without a lock): it is written once, and every
        // copy's receipt is deleted below.
        let mut seen = std::collections::HashSet::new();
        for message in &messages {
            if let Some(id) = message.message_id()
                && !seen.insert(id)
            {
                continue;
            }
            let body = message.body().unwrap_or_default();
            let (prefix, record) = match partition(&spec, body, now) {
                Ok(found) => found,
                Err(why) => {
                    tracing::warn!(target: "local-cloud", stream = %spec.name, %why, "firehose: record to the error prefix");
                    let prefix = evaluate(
                        &spec.error_prefix,
                        &BTreeMap::new(),
                        now,
                        "processing-failed",
                    )
                    .unwrap_or_else(|_| "errors/".to_owned());
                    (prefix, body.to_owned())
                }
            };
            let object = objects.entry(prefix).or_default();
            object.push_str(&record);
            if let Some(d) = &spec.delimiter {
                object.push_str(d);
            }
        }
        let mut written = true;
        for (prefix, body) in objects {
            sequence += 1;
            let key = format!(
                "{prefix}{}-1-{}-{sequence}-{}",
                spec.name,
                now.format("%Y-%m-%d-%H-%M-%S"),
                uuid::Uuid::new_v4()
            );
            if let Err(e) = s3
                .put_object()
                .bucket(&spec.bucket)
                .key(&key)
                .content_type("application/x-ndjson")
                .body(body.into_bytes().into())
                .send()
                .await
            {
                tracing::warn!(target: "local-cloud", stream = %spec.name, error = %aws_sdk_s3::error::DisplayErrorContext(e), "firehose: writing an object failed; the records come again");
                written = false;
            }
        }
        if !written {
            continue;
        }
        let deletes = messages.chunks(10).map(|chunk| {
            let mut batch = sqs.delete_message_batch().queue_url(&spec.queue_url);
            for (i, m) in chunk.iter().enumerate() {
                batch = batch.entries(
                    aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .expect("id and handle"),
                );
            }
            batch.send()
        });
        for answer in futures::future::join_all(deletes).await {
            if let Err(e) = answer {
                tracing::warn!(target: "local-cloud", stream = %spec.name, error = %aws_sdk_sqs::error::DisplayErrorContext(e), "firehose: deleting delivered records failed; they come again");
            }
        }
    }
}

/// The prefix and the record a message becomes.
fn partition(
    spec: &StreamSpec,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(String, String), String> {
    let event: Json = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let record = input_path(&event, spec.input_path.as_deref())
        .ok_or_else(|| format!("no {:?} in the event", spec.input_path))?;
    let keys = match &spec.query {
        Some(q) => q.keys(record).ok_or("a partition key is missing")?,
        None => BTreeMap::new(),
    };
    Ok((
        evaluate(&spec.prefix, &keys, now, "processing-failed")?,
        record.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_query_and_prefix_partition_an_envelope() {
        let query = Query::parse("{type: .type, date: .occurred_at[0:10]}").unwrap();
        let envelope = serde_json::json!({"id": "e", "type": "BookingCreated", "occurred_at": "2027-01-02T23:00:00.123Z"});
        let keys = query.keys(&envelope).unwrap();
        let at = "2027-01-03T01:00:00Z".parse().unwrap();
        let prefix =
            "events/type=!{partitionKeyFromQuery:type}/date=!{partitionKeyFromQuery:date}/";
        assert_eq!(
            evaluate(prefix, &keys, at, "x").unwrap(),
            "events/type=BookingCreated/date=2027-01-02/"
        );
        let errors = "errors/!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/";
        assert_eq!(
            evaluate(errors, &keys, at, "processing-failed").unwrap(),
            "errors/processing-failed/date=2027-01-03/"
        );
        assert!(query.keys(&serde_json::json!({"type": "X"})).is_none());
        assert!(Query::parse("{type: .type | ascii}").is_err());
        let bus = serde_json::json!({"detail": envelope});
        assert_eq!(input_path(&bus, Some("$.detail")), Some(&envelope));
    }
}

//! Event source mappings, as Lambda runs them: SQS pollers with partial
//! batch responses, DynamoDB stream pollers that keep each shard in order,
//! and schedules (rate and cron).

mod schedule;
mod sqs;
mod streams;

use std::collections::HashSet;

use serde_json::Value as Json;
use tokio::sync::watch;

pub use schedule::{Schedule, scheduler};
pub use sqs::{SQS_POLLERS, sqs_poller};
pub use streams::{OnFailure, stream_poller};

const REGION: &str = "us-east-1";

fn stopped(shutdown: &watch::Receiver<bool>) -> bool {
    *shutdown.borrow()
}

/// The message ids a partial batch response names as failed; `None` when
/// the response is malformed, which fails the whole batch as Lambda does.
pub(super) fn failed_ids(response: &[u8], batch: &HashSet<String>) -> Option<HashSet<String>> {
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

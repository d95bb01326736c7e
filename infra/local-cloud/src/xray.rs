//! A local X-Ray daemon: the functions send their trace segments here over
//! UDP (`AWS_XRAY_DAEMON_ADDRESS`), as they do to the daemon Lambda runs,
//! and tests read them back (`GET /xray/segments` on the admin API).
//!
//! The runtime API records, as Lambda does, one segment per invocation
//! (named after the function, `origin` `AWS::Lambda::Function`), whose id
//! is the `Parent` of the trace header the function receives; the
//! functions add their subsegments to it. Every trace is sampled here.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{Value as Json, json};
use tokio::net::UdpSocket;

/// Segments kept, oldest dropped first.
const KEPT: usize = 20_000;

/// The segment documents received, newest last; a document sent again
/// with the same id (an in-progress subsegment, then the finished one)
/// replaces the earlier.
#[derive(Default)]
pub struct Segments(Mutex<Kept>);

#[derive(Default)]
struct Kept {
    documents: VecDeque<Json>,
    /// The sequence number of `documents[0]` (one per document kept).
    first: u64,
    /// The in-progress documents by id, with their sequence numbers: what a
    /// finished one may replace, found without a scan.
    open: HashMap<String, u64>,
}

impl Segments {
    pub fn record(&self, document: Json) {
        let mut kept = self.0.lock().expect("lock");
        let kept = &mut *kept;
        let id = document["id"].as_str().map(str::to_owned);
        let in_progress = document["in_progress"] == true;
        if let Some(id) = &id
            && let Some(seq) = kept.open.remove(id)
            && let Some(earlier) = seq
                .checked_sub(kept.first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| kept.documents.get_mut(i))
        {
            *earlier = document;
            if in_progress {
                kept.open.insert(id.clone(), seq);
            }
            return;
        }
        let seq = kept.first + kept.documents.len() as u64;
        if in_progress && let Some(id) = id {
            kept.open.insert(id, seq);
        }
        kept.documents.push_back(document);
        if kept.documents.len() > KEPT
            && let Some(oldest) = kept.documents.pop_front()
        {
            kept.first += 1;
            if let Some(id) = oldest["id"].as_str()
                && kept.open.get(id) == Some(&(kept.first - 1))
            {
                kept.open.remove(id);
            }
        }
    }

    /// One packet as the daemon protocol has it: a JSON header line, then
    /// the segment document.
    pub fn receive(&self, packet: &[u8]) -> Result<(), &'static str> {
        let text = std::str::from_utf8(packet).map_err(|_| "not UTF-8")?;
        let (header, body) = text.split_once('\n').ok_or("no header line")?;
        let header: Json = serde_json::from_str(header).map_err(|_| "the header is not JSON")?;
        if header["format"] != "json" {
            return Err("the header's format is not json");
        }
        let document: Json = serde_json::from_str(body).map_err(|_| "the segment is not JSON")?;
        if !document.is_object() {
            return Err("the segment is not an object");
        }
        self.record(document);
        Ok(())
    }

    /// The traces that hold a subsegment annotated with this correlation
    /// id: every segment and subsegment of them.
    pub fn of_correlation(&self, correlation_id: &str) -> Vec<Json> {
        let documents = &self.0.lock().expect("lock").documents;
        let traces: std::collections::HashSet<&str> = documents
            .iter()
            .filter(|d| d["annotations"]["correlation_id"].as_str() == Some(correlation_id))
            .filter_map(|d| d["trace_id"].as_str())
            .collect();
        documents
            .iter()
            .filter(|d| d["trace_id"].as_str().is_some_and(|t| traces.contains(t)))
            .cloned()
            .collect()
    }

    /// The segment Lambda records for one invocation.
    pub fn invocation(&self, invocation: &Invocation, function: &str, ended: f64, fault: bool) {
        self.record(json!({
            "name": function,
            "id": invocation.segment_id,
            "trace_id": invocation.trace_id,
            "start_time": invocation.started,
            "end_time": ended,
            "origin": "AWS::Lambda::Function",
            "fault": fault,
        }));
    }
}

impl std::fmt::Debug for Segments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().map_or(0, |k| k.documents.len());
        f.debug_struct("Segments").field("kept", &kept).finish()
    }
}

/// The trace of one invocation, as its header gives it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub trace_id: String,
    pub segment_id: String,
    /// Seconds since the epoch.
    pub started: f64,
}

impl Invocation {
    pub fn start() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            trace_id: format!("1-{:08x}-{}", now.as_secs(), &random[..24]),
            segment_id: random[16..].to_owned(),
            started: now.as_secs_f64(),
        }
    }

    /// The `Lambda-Runtime-Trace-Id` header.
    pub fn header(&self) -> String {
        format!(
            "Root={};Parent={};Sampled=1",
            self.trace_id, self.segment_id
        )
    }
}

pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Binds the daemon's socket on an ephemeral port and serves it.
pub async fn start(segments: Arc<Segments>) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let address = socket.local_addr()?;
    tokio::spawn(async move {
        // A segment document is at most 64 KiB (the daemon's own limit).
        let mut buffer = vec![0u8; 65_536];
        loop {
            match socket.recv_from(&mut buffer).await {
                Ok((n, _)) => {
                    if let Err(why) = segments.receive(&buffer[..n]) {
                        tracing::warn!(target: "xray", "a segment refused: {why}");
                    }
                }
                Err(error) => {
                    tracing::warn!(target: "xray", "the daemon's socket failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(document: &Json) -> Vec<u8> {
        format!("{{\"format\": \"json\", \"version\": 1}}\n{document}").into_bytes()
    }

    #[test]
    fn a_finished_subsegment_replaces_its_in_progress_one_and_traces_are_found_by_correlation() {
        let segments = Segments::default();
        let lambda = Invocation::start();
        let sub = |done: bool| {
            json!({
                "type": "subsegment", "id": "0123456789abcdef", "trace_id": lambda.trace_id,
                "parent_id": lambda.segment_id, "name": "POST /bookings",
                "in_progress": !done, "annotations": {"correlation_id": "c-1"},
            })
        };
        segments.receive(&packet(&sub(false))).unwrap();
        segments.receive(&packet(&sub(true))).unwrap();
        segments.invocation(&lambda, "booking-create", now(), false);
        segments
            .receive(&packet(&json!({"id": "x", "trace_id": "1-other", "annotations": {"correlation_id": "c-2"}})))
            .unwrap();
        let found = segments.of_correlation("c-1");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0]["in_progress"], false);
        assert_eq!(found[1]["name"], "booking-create");
        assert!(segments.of_correlation("c-3").is_empty());
    }

    #[test]
    fn the_oldest_documents_go_first_and_a_late_ending_still_finds_its_start() {
        let segments = Segments::default();
        segments.record(json!({"id": "open", "trace_id": "t", "in_progress": true}));
        for i in 0..KEPT - 1 {
            segments.record(json!({"id": format!("s{i}"), "trace_id": "t"}));
        }
        segments
            .record(json!({"id": "open", "trace_id": "t", "annotations": {"correlation_id": "c"}}));
        let found = segments.of_correlation("c");
        assert_eq!(
            found.len(),
            KEPT,
            "the finished document replaced its start"
        );
        segments.record(json!({"id": "one more", "trace_id": "t"}));
        assert_eq!(segments.0.lock().unwrap().documents.len(), KEPT);
        assert!(
            segments.of_correlation("c").is_empty(),
            "the oldest went first"
        );
    }

    #[test]
    fn a_packet_without_the_protocol_header_is_refused() {
        let segments = Segments::default();
        assert!(segments.receive(b"{\"id\": \"a\"}").is_err());
        assert!(
            segments
                .receive(b"{\"format\": \"json\"}\nnot json")
                .is_err()
        );
    }

    #[test]
    fn the_header_names_a_sampled_trace_and_its_parent() {
        let invocation = Invocation::start();
        let header = invocation.header();
        assert!(header.starts_with("Root=1-"), "{header}");
        assert!(header.ends_with(";Sampled=1"), "{header}");
        assert_eq!(invocation.trace_id.len(), 35);
        assert_eq!(invocation.segment_id.len(), 16);
    }
}

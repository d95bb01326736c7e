//! X-Ray: every trace carries the correlation id of what it handled.
//!
//! With `Tracing: Active` (template.yaml) Lambda records one segment per
//! invocation and passes its ids in `_X_AMZN_TRACE_ID` (lambda_runtime sets
//! it for each invocation). Each request or event a function handles adds
//! one subsegment to it, annotated `correlation_id`, sent to the X-Ray
//! daemon Lambda runs beside the function (UDP, `AWS_XRAY_DAEMON_ADDRESS`).
//! The console's filter `annotation.correlation_id = "<id>"` then finds every
//! trace one booking caused, across the functions its events reach. Nothing
//! is sent for a trace that is not sampled, nor where no daemon is given.
//!
//! The segment documents and the daemon's wire format are `xray-lite`'s
//! (docs/observability.md says why that crate).

use std::collections::HashMap;
use std::sync::OnceLock;

use xray_lite::{
    Annotation, Context as _, DaemonClient, Namespace, Subsegment, SubsegmentContext,
    SubsegmentSession,
};

use crate::CorrelationId;

/// The annotation key (X-Ray allows letters, digits and `_`).
pub const CORRELATION_ANNOTATION: &str = "correlation_id";

/// One subsegment in progress; dropping it ends it and sends it.
pub struct Traced(SubsegmentSession<DaemonClient, Handled>);

impl Traced {
    /// Marks the subsegment by the outcome: a 5xx or a failed event is a
    /// fault, a 4xx an error, as X-Ray's SDKs mark them.
    pub fn outcome(&mut self, outcome: Outcome) {
        if let Some(handled) = self.0.namespace_mut() {
            handled.outcome = Some(outcome);
        }
    }
}

/// How a request or an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The caller's error (a 4xx).
    Refused,
    /// Ours (a 5xx, or an event that will be retried).
    Failed,
}

impl Outcome {
    pub fn of_status(status: u16) -> Self {
        match status {
            500.. => Self::Failed,
            400..=499 => Self::Refused,
            _ => Self::Ok,
        }
    }
}

/// What a subsegment records: its name, the correlation id and the outcome.
struct Handled {
    name: String,
    correlation_id: String,
    outcome: Option<Outcome>,
}

impl Namespace for Handled {
    fn name(&self, _prefix: &str) -> String {
        self.name.clone()
    }

    fn update_subsegment(&self, subsegment: &mut Subsegment) {
        subsegment.annotations = Some(HashMap::from([(
            CORRELATION_ANNOTATION.to_owned(),
            Annotation::String(self.correlation_id.clone()),
        )]));
        subsegment.error = self.outcome == Some(Outcome::Refused);
        subsegment.fault = self.outcome == Some(Outcome::Failed);
    }
}

/// Starts a subsegment of the current invocation's trace, named `name`
/// (the route, or the event's type), when the trace is sampled and a
/// daemon is given; otherwise nothing.
pub fn subsegment(name: &str, correlation_id: &CorrelationId) -> Option<Traced> {
    let header = std::env::var("_X_AMZN_TRACE_ID").ok()?;
    if !sampled(&header) {
        return None;
    }
    let client = daemon()?.clone();
    let context = SubsegmentContext::from_lambda_env(client).ok()?;
    Some(Traced(context.enter_subsegment(Handled {
        name: name_of(name).to_owned(),
        correlation_id: correlation_id.as_str().to_owned(),
        outcome: None,
    })))
}

/// X-Ray keeps 200 bytes of a name (xray-lite cuts it there, and would
/// panic inside a character): cut at the last whole character before.
fn name_of(name: &str) -> &str {
    let mut end = name.len().min(NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

const NAME_BYTES: usize = 200;

/// The daemon's client, made once per process (it binds a UDP socket).
fn daemon() -> Option<&'static DaemonClient> {
    static DAEMON: OnceLock<Option<DaemonClient>> = OnceLock::new();
    DAEMON
        .get_or_init(|| match DaemonClient::from_lambda_env() {
            Ok(client) => Some(client),
            Err(xray_lite::Error::MissingEnvVar(_)) => None,
            Err(error) => {
                tracing::warn!(%error, "no X-Ray subsegments: the daemon address is unusable");
                None
            }
        })
        .as_ref()
}

/// Whether the trace header says the trace is sampled (`Sampled=1`).
fn sampled(header: &str) -> bool {
    header.split(';').any(|part| part.trim() == "Sampled=1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sampled_trace_is_sent() {
        assert!(sampled(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ));
        assert!(!sampled(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
        ));
        assert!(!sampled("Root=1-5759e988-bd862e3fe1be46a994272793"));
    }

    #[test]
    fn a_long_name_is_cut_at_a_whole_character_within_200_bytes() {
        assert_eq!(name_of("POST /bookings"), "POST /bookings");
        let long = format!("GET /x{}", "가".repeat(100));
        let cut = name_of(&long);
        assert!(cut.len() <= 200 && long.starts_with(cut), "{cut}");
        assert_eq!(cut.len(), 198, "64 whole characters after 6 bytes");
    }

    #[test]
    fn outcomes_follow_the_status_as_x_ray_marks_them() {
        assert_eq!(Outcome::of_status(201), Outcome::Ok);
        assert_eq!(Outcome::of_status(409), Outcome::Refused);
        assert_eq!(Outcome::of_status(503), Outcome::Failed);
    }

    #[test]
    fn the_subsegment_carries_the_correlation_id_and_the_outcome() {
        let handled = Handled {
            name: "POST /bookings".into(),
            correlation_id: "corr-1".into(),
            outcome: Some(Outcome::Failed),
        };
        let mut subsegment = Subsegment::begin(xray_lite::TraceId::new(), None, handled.name(""));
        handled.update_subsegment(&mut subsegment);
        let json = serde_json::to_value(&subsegment).unwrap();
        assert_eq!(json["annotations"]["correlation_id"], "corr-1");
        assert_eq!(json["name"], "POST /bookings");
        assert_eq!(json["fault"], true);
        assert_eq!(json["type"], "subsegment");
    }
}

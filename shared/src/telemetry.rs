//! Logs and metrics of every function.
//!
//! Metrics go through the [`metrics`] facade to a CloudWatch Embedded
//! Metric Format (EMF) recorder (`metrics_cloudwatch_embedded`): after each
//! invocation the figures it recorded are written to stdout as one JSON line
//! per set of dimensions, and CloudWatch Logs turns those lines into metrics,
//! with no API call and no agent (docs/observability.md). Locally the lines
//! appear in the local cloud's log, prefixed by the function's name.
//!
//! Every metric is named here, with its few dimensions: a custom metric is
//! billed per name and dimension set, so none takes an id or a free text.
//! Code that records one calls the function below, not the facade, so the
//! names cannot drift from the dashboard and alarms in template.yaml.

use std::fmt::Debug;
use std::future::Future;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::Duration;

use std::pin::Pin;

use futures::FutureExt;
use futures::future::Inspect;
use lambda_http::http::HeaderValue;
use lambda_http::request::RequestContext;
use lambda_http::{IntoResponse, Request, RequestExt, Response};
use lambda_runtime::{Diagnostic, IntoFunctionResponse, LambdaEvent, Service};
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::{Builder, Collector};

use crate::booking::Booking;
use crate::{CorrelationId, correlation};

pub mod xray;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "BookingPlatform";

static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Sets up logging (lambda_runtime's subscriber: JSON when the function's
/// log format is JSON, at its log level) and the EMF recorder, in the
/// namespace `METRICS_NAMESPACE`, and counts this cold start. Called first
/// in every function's `main`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
    let namespace =
        std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| DEFAULT_NAMESPACE.to_owned());
    match Builder::new().cloudwatch_namespace(namespace).init() {
        Ok(collector) => {
            let _ = COLLECTOR.set(collector);
            for name in COUNTERS {
                describe_counter!(name, Unit::Count, "");
            }
            describe_histogram!(PAYMENT_LATENCY, Unit::Milliseconds, "");
            let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
            counter!(COLD_START, "Function" => function).increment(1);
        }
        Err(error) => tracing::warn!(%error, "no metrics: the recorder could not be installed"),
    }
}

/// `lambda_http::run`, tracing each request (see [`xray`]) and writing the
/// invocation's metrics after it.
pub async fn run_http<'a, B, S, E>(handler: S) -> Result<(), lambda_http::Error>
where
    S: Service<Request, Response = Response<B>, Error = E>,
    S::Future: Send + 'a,
    Response<B>: IntoResponse,
    B: Send,
    E: Debug + Into<Diagnostic> + Send,
{
    lambda_http::run(Flushing(TracedHttp(handler))).await
}

/// A handler whose requests all carry a correlation id (a new one when the
/// caller sent none or an invalid one, put into the request so the handler,
/// its response and its events carry the id the trace is annotated with),
/// each traced as one subsegment named after its route.
struct TracedHttp<S>(S);

impl<S, B> Service<Request> for TracedHttp<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = TracedResponse<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = CorrelationId::from_header_or_generate(
            req.headers()
                .get(correlation::HEADER)
                .and_then(|v| v.to_str().ok()),
        );
        if let Ok(value) = HeaderValue::from_str(id.as_str()) {
            req.headers_mut().insert(correlation::HEADER, value);
        }
        let route = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.route_key.clone(),
            _ => None,
        }
        .unwrap_or_else(|| format!("{} {}", req.method(), req.uri().path()));
        TracedResponse {
            traced: xray::subsegment(&route, &id),
            inner: Box::pin(self.0.call(req)),
        }
    }
}

/// The handler's answer; the subsegment ends with it, marked by its status.
struct TracedResponse<F> {
    inner: Pin<Box<F>>,
    traced: Option<xray::Traced>,
}

impl<F, B, E> Future for TracedResponse<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = std::task::ready!(self.inner.as_mut().poll(cx));
        if let Some(mut traced) = self.traced.take() {
            traced.outcome(match &answer {
                Ok(response) => xray::Outcome::of_status(response.status().as_u16()),
                Err(_) => xray::Outcome::Failed,
            });
        }
        Poll::Ready(answer)
    }
}

/// `lambda_runtime::run`, writing the invocation's metrics after each event.
pub async fn run<A, F, R, B, S, D, E>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>>,
    F::Error: Into<Diagnostic> + Debug,
    A: for<'de> serde::Deserialize<'de>,
    R: IntoFunctionResponse<B, S>,
    B: serde::Serialize,
    S: futures::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send,
    E: Into<lambda_runtime::Error> + Send + Debug,
{
    lambda_runtime::run(Flushing(handler)).await
}

/// A handler that writes the metrics recorded so far once its answer is
/// ready (Lambda may freeze the process right after).
struct Flushing<S>(S);

impl<S, Req> Service<Req> for Flushing<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Inspect<S::Future, fn(&Result<S::Response, S::Error>)>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        self.0.call(req).inspect(flush_after)
    }
}

fn flush_after<T>(_: &T) {
    flush();
}

/// Writes the metrics recorded since the last flush to stdout.
pub fn flush() {
    if let Some(collector) = COLLECTOR.get()
        && let Err(error) = collector.flush(std::io::stdout().lock())
    {
        tracing::warn!(%error, "writing the metrics");
    }
}

// ------------------------------------------------------------------ names

pub const COLD_START: &str = "ColdStart";
pub const BOOKINGS_CREATED: &str = "BookingsCreated";
pub const BOOKINGS_CONFIRMED: &str = "BookingsConfirmed";
pub const BOOKINGS_FAILED: &str = "BookingsFailed";
pub const BOOKINGS_EXPIRED: &str = "BookingsExpired";
pub const BOOKINGS_CANCELLED: &str = "BookingsCancelled";
pub const SOLD_OUT_REFUSALS: &str = "SoldOutRefusals";
pub const PAYMENTS: &str = "Payments";
pub const PAYMENT_LATENCY: &str = "PaymentLatency";
pub const BREAKER_OPENED: &str = "BreakerOpened";
pub const BREAKER_CLOSED: &str = "BreakerClosed";
pub const WAITING_ROOM_ADMITTED: &str = "WaitingRoomAdmitted";

/// Every metric that counts something (all but [`PAYMENT_LATENCY`]).
const COUNTERS: [&str; 11] = [
    COLD_START,
    BOOKINGS_CREATED,
    BOOKINGS_CONFIRMED,
    BOOKINGS_FAILED,
    BOOKINGS_EXPIRED,
    BOOKINGS_CANCELLED,
    SOLD_OUT_REFUSALS,
    PAYMENTS,
    BREAKER_OPENED,
    BREAKER_CLOSED,
    WAITING_ROOM_ADMITTED,
];

/// A booking's shape, the one dimension of the booking metrics: `counted`,
/// `seated`, `range` (a room's time range) or `round` (18 holes).
pub fn booking_shape(booking: &Booking) -> &'static str {
    if !booking.seats.is_empty() {
        "seated"
    } else if !booking.units.is_empty() {
        "range"
    } else if booking.back_nine_slot_id.is_some() {
        "round"
    } else {
        "counted"
    }
}

/// What became of a booking, for its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingMetric {
    Created,
    Confirmed,
    Failed,
    Expired,
    Cancelled,
}

/// Counts one booking's step.
pub fn booking(step: BookingMetric, booking: &Booking) {
    let name = match step {
        BookingMetric::Created => BOOKINGS_CREATED,
        BookingMetric::Confirmed => BOOKINGS_CONFIRMED,
        BookingMetric::Failed => BOOKINGS_FAILED,
        BookingMetric::Expired => BOOKINGS_EXPIRED,
        BookingMetric::Cancelled => BOOKINGS_CANCELLED,
    };
    counter!(name, "Kind" => booking_shape(booking)).increment(1);
}

/// Counts a booking refused because its slot, seats or range were taken.
pub fn sold_out(code: &'static str) {
    counter!(SOLD_OUT_REFUSALS, "Code" => code).increment(1);
}

/// Counts a payment's outcome (its status, `COMPLETED`, or the reason it
/// failed, e.g. `INSUFFICIENT_FUNDS`, `CARD_DECLINED`) and records how long
/// it took, by method (`wallet`, `card`).
pub fn payment(method: &'static str, outcome: &'static str, took: Duration) {
    counter!(PAYMENTS, "Method" => method, "Outcome" => outcome).increment(1);
    histogram!(PAYMENT_LATENCY, "Method" => method).record(took.as_secs_f64() * 1000.0);
}

/// Counts a dependency's circuit breaker (the card gateway's) opening, or
/// closing again.
pub fn breaker(dependency: &'static str, opened: bool) {
    let name = if opened {
        BREAKER_OPENED
    } else {
        BREAKER_CLOSED
    };
    counter!(name, "Dependency" => dependency).increment(1);
}

/// Counts users a waiting room admitted.
pub fn admitted(users: u64) {
    counter!(WAITING_ROOM_ADMITTED).increment(users);
}

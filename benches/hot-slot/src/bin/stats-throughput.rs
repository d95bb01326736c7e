//! Stats consumer throughput: booking events counted per second by the
//! stats consumer through its queue on the running local cloud, against
//! the raw rate of its transaction shape (the counted marker, the
//! resource's and the venue's day, the slot: one `TransactWriteItems`)
//! issued in-process on the same DynamoDB Local.
//!
//! It is a benchmark, not a test: it asserts nothing and prints figures.
//! Both phases count `--events` BookingCreated events of bookings written
//! straight to the table, all of one day of one resource: every tally
//! updates the same day items, the consumer's real hot spot.
//!
//! ```sh
//! cargo build --workspace --bins
//! target/debug/local-cloud --api-port 3200 --admin-port 3201 \
//!     --dynamodb-port 8200 --moto-port 5200 --gateway-port 3202 \
//!     --state-file .local/run/bench-cloud.json &
//! cargo run -p hot-slot-bench --bin stats-throughput -- \
//!     --state-file .local/run/bench-cloud.json --events 2000
//! ```

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt;
use hot_slot_bench::{Cloud, Error, today_at_venue};
use serde_json::{Value, json};
use shared::adapters::dynamo::reporting::DynamoFigures;
use shared::booking::events::BookingCreated;
use shared::booking::{Booking, BookingId, BookingNumber, BookingStatus};
use shared::catalog::{ResourceId, SlotId, TimeZone, VenueId};
use shared::reporting::ports::FiguresStore;
use shared::reporting::{Counter, DateRange, Subject};
use shared::{CorrelationId, EventEnvelope};

#[derive(Debug, Parser)]
#[command(about = "Events counted per second by the stats consumer, against its raw transaction")]
struct Args {
    #[arg(long, default_value = ".local/run/local-cloud.json")]
    state_file: PathBuf,
    #[arg(long, default_value_t = 2000)]
    events: usize,
    /// Transactions in flight in the raw phase.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Batches in flight when invoking the consumer straight (the local
    /// cloud runs 4 instances of each function).
    #[arg(long, default_value_t = 4)]
    instances: usize,
    /// Give up waiting for the consumer after this long.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
}

/// `n` PENDING bookings of one slot of a fresh resource and venue, and the
/// BookingCreated of each.
fn bookings(n: usize) -> (VenueId, Vec<(Booking, EventEnvelope)>) {
    let venue = VenueId::generate();
    let resource = ResourceId::generate();
    let zone = TimeZone::parse("Asia/Seoul").expect("a zone");
    let day = today_at_venue() + chrono::Duration::days(14);
    let slot = SlotId::parse(&format!("{resource}@{day}T08:00")).expect("a slot");
    let now = chrono::Utc::now();
    let out = (0..n)
        .map(|_| {
            let booking = Booking {
                id: BookingId::generate(),
                number: BookingNumber::generate(),
                user_id: shared::identity::UserId::generate(),
                kind: "counted".into(),
                venue_id: venue.clone(),
                company_id: None,
                time_zone: zone,
                slot_id: slot.clone(),
                starts_at: zone.local(zone.starts_at(&slot)),
                quantity: 1,
                unit_price_cents: Some(5000),
                seats: Vec::new(),
                back_nine_slot_id: None,
                ends_at: None,
                units: Vec::new(),
                price_cents: 5000,
                currency: "EUR".into(),
                payment: None,
                status: BookingStatus::Expired,
                confirmed_at: None,
                hold_expires_at: now,
                created_at: now,
                updated_at: now,
            };
            let event = EventEnvelope::of(
                &BookingCreated {
                    booking_id: booking.id.clone(),
                    number: booking.number.clone(),
                    user_id: booking.user_id.clone(),
                    kind: booking.kind.clone(),
                    slot_id: booking.slot_id.clone(),
                    quantity: 1,
                    price_cents: 5000,
                    currency: "EUR".into(),
                    hold_expires_at: now,
                    starts_at: booking.starts_at.to_utc(),
                    payment: None,
                },
                CorrelationId::generate(),
            )
            .expect("an event");
            (booking, event)
        })
        .collect();
    (venue, out)
}

async fn write_bookings(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    all: &[(Booking, EventEnvelope)],
) -> Result<(), Error> {
    let items: Vec<_> = all
        .iter()
        .map(|(b, _)| shared::adapters::dynamo::booking::bulk_item(b))
        .collect::<Result<_, _>>()?;
    let writes = items.chunks(25).map(|chunk| {
        let mut pending: Vec<_> = chunk
            .iter()
            .map(|item| {
                aws_sdk_dynamodb::types::WriteRequest::builder()
                    .put_request(
                        aws_sdk_dynamodb::types::PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .expect("an item"),
                    )
                    .build()
            })
            .collect();
        async move {
            while !pending.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await?;
                pending = out
                    .unprocessed_items()
                    .and_then(|u| u.get(table))
                    .cloned()
                    .unwrap_or_default();
            }
            Ok::<(), Error>(())
        }
    });
    for result in futures::stream::iter(writes)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
    {
        result?;
    }
    Ok(())
}

async fn created(figures: &DynamoFigures, venue: &VenueId) -> Result<i64, Error> {
    let day = today_at_venue() + chrono::Duration::days(14);
    let days = figures
        .days(&Subject::Venue(venue.clone()), DateRange::new(day, day)?)
        .await?;
    Ok(days.get(&day).map_or(0, |f| f.get(Counter::Created)))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let cloud = Cloud::load(&args.state_file)?;
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&args.state_file)?)?;
    let queue = state["resources"]["StatsConsumerQueue"]["ref"]
        .as_str()
        .ok_or("the state file names no StatsConsumerQueue")?
        .to_owned();
    let dynamodb = cloud.dynamo_client().await;
    let figures = DynamoFigures::new(dynamodb.clone(), &cloud.table);
    let n = args.events;

    // Raw: the tally's transaction, in-process.
    let (raw_venue, raw) = bookings(n);
    let tallies: Vec<_> = raw
        .iter()
        .map(|(b, e)| {
            shared::reporting::tally(e, b)
                .expect("decodes")
                .expect("counted")
        })
        .collect();
    let started = Instant::now();
    let applied: Vec<_> = futures::stream::iter(tallies.iter().map(|t| figures.apply(t)))
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let raw_secs = started.elapsed().as_secs_f64();
    let raw_failed = applied.iter().filter(|r| r.is_err()).count();
    let raw_counted = created(&figures, &raw_venue).await?;

    // Through the consumer: the events put on its queue as EventBridge
    // delivers them, counted when the venue's day says all are in.
    let (venue, through) = bookings(n);
    write_bookings(&dynamodb, &cloud.table, &through).await?;
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&cloud.sdk_config().await)
            .endpoint_url(&cloud.aws)
            .build(),
    );
    let started = Instant::now();
    let sends = through.chunks(10).map(|chunk| {
        let entries: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, (_, e))| {
                let body = json!({
                    "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": e.event_type.as_str(),
                    "source": "booking-platform.booking", "account": "123456789012",
                    "time": e.occurred_at.to_rfc3339(), "region": "us-east-1", "resources": [], "detail": e,
                });
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body.to_string())
                    .build()
                    .expect("an entry")
            })
            .collect();
        let (sqs, queue) = (sqs.clone(), queue.clone());
        async move { sqs.send_message_batch().queue_url(queue).set_entries(Some(entries)).send().await }
    });
    for sent in futures::stream::iter(sends)
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await
    {
        sent?;
    }
    let sent_secs = started.elapsed().as_secs_f64();
    let deadline = started + Duration::from_secs(args.timeout_secs);
    let mut counted = 0;
    while Instant::now() < deadline {
        counted = created(&figures, &venue).await?;
        if counted >= n as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let consumer_secs = started.elapsed().as_secs_f64();

    // The consumer's runtime invoked straight, batches of 10 as SQS hands
    // them over, one batch in flight per function instance: the function's
    // own rate, without moto's queue in the way.
    let (direct_venue, direct) = bookings(n);
    write_bookings(&dynamodb, &cloud.table, &direct).await?;
    let admin_api = state["admin"]
        .as_str()
        .ok_or("no admin address")?
        .to_owned();
    let started = Instant::now();
    let invokes = direct.chunks(10).map(|chunk| {
        let records: Vec<Value> = chunk
            .iter()
            .map(|(_, e)| {
                json!({
                    "messageId": uuid::Uuid::new_v4().to_string(), "receiptHandle": "rh",
                    "body": json!({
                        "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": e.event_type.as_str(),
                        "source": "booking-platform.booking", "account": "123456789012",
                        "time": e.occurred_at.to_rfc3339(), "region": "us-east-1", "resources": [], "detail": e,
                    }).to_string(),
                    "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "bench",
                                    "ApproximateFirstReceiveTimestamp": "1" },
                    "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench", "awsRegion": "us-east-1",
                })
            })
            .collect();
        let (http, url) = (cloud.http.clone(), format!("{admin_api}/functions/stats-consumer/invoke"));
        async move { http.post(url).json(&json!({ "Records": records })).send().await }
    });
    for invoked in futures::stream::iter(invokes)
        .buffer_unordered(args.instances)
        .collect::<Vec<_>>()
        .await
    {
        invoked?;
    }
    let direct_secs = started.elapsed().as_secs_f64();
    let direct_counted = created(&figures, &direct_venue).await?;

    println!("stats consumer throughput, {n} BookingCreated events of one day (one hot venue day)");
    println!(
        "  raw transaction (in-process, {} in flight): {:>7.0} events/s ({raw_secs:.2} s; {raw_failed} failed; day counts {raw_counted})",
        args.concurrency,
        n as f64 / raw_secs
    );
    println!(
        "  stats-consumer via its queue:              {:>7.0} events/s ({consumer_secs:.2} s, of which {sent_secs:.2} s sending; day counts {counted})",
        counted as f64 / consumer_secs
    );
    println!(
        "  stats-consumer invoked straight ({} batches of 10 in flight): {:>7.0} events/s ({direct_secs:.2} s; day counts {direct_counted})",
        args.instances,
        direct_counted as f64 / direct_secs
    );
    println!(
        "  ratios against raw: via the queue {:.2}, invoked straight {:.2}",
        (counted as f64 / consumer_secs) / (n as f64 / raw_secs),
        (direct_counted as f64 / direct_secs) / (n as f64 / raw_secs)
    );
    Ok(())
}

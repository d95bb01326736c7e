use chrono::Duration;
use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::DEFAULT_HOLD_MINUTES;
use shared::clock::SystemClock;
use shared::config::{booking_cutoff, parsed_or, required};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let hold = Duration::minutes(parsed_or("HOLD_MINUTES", DEFAULT_HOLD_MINUTES)?);
    let cutoff = booking_cutoff()?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let bookings = DynamoBookings::new(client.clone(), &table);
    let catalog = DynamoCatalog::new(client, table);
    run(service_fn(|req: Request| {
        booking_create::handle(&bookings, &catalog, &SystemClock, hold, cutoff, req)
    }))
    .await
}

use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::rules::Policy;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let policy = Policy::from_env()?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let bookings = DynamoBookings::new(client.clone(), &table);
    let catalog = DynamoCatalog::new(client, table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        booking_modify::handle(&bookings, &catalog, &SystemClock, &policy, req)
    }))
    .await
}

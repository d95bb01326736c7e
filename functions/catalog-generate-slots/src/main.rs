use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::clock::SystemClock;
use shared::config::{booking_cutoff, required};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let cutoff = booking_cutoff()?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCatalog::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        catalog_generate_slots::handle(&store, &SystemClock, cutoff, req)
    }))
    .await
}

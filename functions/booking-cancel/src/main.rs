use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::clock::SystemClock;
use shared::config::{parsed_or, required};
use shared::payment::RefundPolicy;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let policy: RefundPolicy = parsed_or("REFUND_POLICY", RefundPolicy::default())?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoBookings::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        booking_cancel::handle(&store, &SystemClock, &policy, req)
    }))
    .await
}

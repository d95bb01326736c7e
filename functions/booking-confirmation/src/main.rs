use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoBookings::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        booking_confirmation::handle(&store, &SystemClock, event)
    }))
    .await
}

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::eventbridge::EventBridgePublisher;
use shared::adapters::sqs::SqsParking;
use shared::config::{PlatformConfig, required};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = PlatformConfig::from_env()?;
    let parking_queue = required("OUTBOX_PARKING_QUEUE_URL")?;
    let aws = aws_config::load_from_env().await;
    let publisher = EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(&aws),
        &config.event_bus_name,
    );
    let parking = SqsParking::new(aws_sdk_sqs::Client::new(&aws), parking_queue);
    shared::telemetry::run(service_fn(|event: LambdaEvent<Event>| {
        outbox_relay::handle(&publisher, &parking, event)
    }))
    .await
}

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::messaging::notifications_from_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = aws_config::load_from_env().await;
    let notifications = notifications_from_env(
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_ses::Client::new(&aws),
        aws_sdk_sns::Client::new(&aws),
    )?;
    shared::telemetry::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        notification_sender::handle(&notifications, event)
    }))
    .await
}

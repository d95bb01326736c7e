use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoHeartbeats;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoHeartbeats::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run(service_fn(
        |event: LambdaEvent<EventBridgeEvent<serde_json::Value>>| heartbeat::handle(&store, event),
    ))
    .await
}

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::dynamo::DynamoEventLog;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let log = DynamoEventLog::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        event_log::handle(&log, event)
    }))
    .await
}

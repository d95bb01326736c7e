use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::dynamo::reporting::live_reporting;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let reporting = live_reporting(client, &table);
    shared::telemetry::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        stats_consumer::handle(&reporting, event)
    }))
    .await
}

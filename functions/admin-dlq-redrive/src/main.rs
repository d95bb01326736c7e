use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::DynamoOutbox;
use shared::adapters::sqs::DeadLetters;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let queues = required("DEAD_LETTER_QUEUES")?;
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let activity = DynamoOutbox::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let queues = DeadLetters::new(aws_sdk_sqs::Client::new(&aws), &queues)
        .map_err(|e| format!("DEAD_LETTER_QUEUES is not valid JSON: {e}"))?;
    run(service_fn(|req: Request| {
        admin_dlq_redrive::handle(&queues, &activity, req)
    }))
    .await
}

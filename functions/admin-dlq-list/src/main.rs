use lambda_http::{Error, Request, service_fn};
use shared::adapters::sqs::DeadLetters;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let queues = required("DEAD_LETTER_QUEUES")?;
    let aws = aws_config::load_from_env().await;
    let queues = DeadLetters::new(aws_sdk_sqs::Client::new(&aws), &queues)
        .map_err(|e| format!("DEAD_LETTER_QUEUES is not valid JSON: {e}"))?;
    shared::telemetry::run_http(service_fn(|req: Request| {
        admin_dlq_list::handle(&queues, req)
    }))
    .await
}

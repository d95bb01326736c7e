use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::DynamoEventLog;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let log = DynamoEventLog::new(aws_sdk_dynamodb::Client::new(&aws), table);
    run(service_fn(|req: Request| {
        admin_activity_list::handle(&log, req)
    }))
    .await
}

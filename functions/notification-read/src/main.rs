use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::notification::DynamoNotifications;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoNotifications::new(aws_sdk_dynamodb::Client::new(&aws), table);
    run(service_fn(|req: Request| {
        notification_read::handle(&store, &SystemClock, req)
    }))
    .await
}

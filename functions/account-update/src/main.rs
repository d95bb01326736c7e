use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::LoginPolicy;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let policy = LoginPolicy::from_env()?;
    shared::identity::password::warm_up();
    let aws = aws_config::load_from_env().await;
    let store = DynamoIdentity::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        account_update::handle(&store, &policy, &SystemClock, req)
    }))
    .await
}

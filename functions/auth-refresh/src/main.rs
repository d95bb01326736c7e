use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::tokens::{AccessTokens, TokenSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let settings = TokenSettings::from_env()?;
    let aws = aws_config::load_from_env().await;
    let key = shared::adapters::ssm::signing_key(&aws).await?;
    let tokens = AccessTokens::new(&key, settings);
    let store = DynamoIdentity::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        auth_refresh::handle(&store, &store, &tokens, &SystemClock, req)
    }))
    .await
}

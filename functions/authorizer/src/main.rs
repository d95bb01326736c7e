use lambda_runtime::{Error, run, service_fn};
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::tokens::{AccessTokens, TokenSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let settings = TokenSettings::from_env()?;
    let aws = aws_config::load_from_env().await;
    let key = shared::adapters::ssm::signing_key(&aws).await?;
    let tokens = AccessTokens::new(&key, settings);
    let sessions = DynamoIdentity::new(aws_sdk_dynamodb::Client::new(&aws), table);
    run(service_fn(|event| {
        authorizer::handle(&tokens, &sessions, &SystemClock, event)
    }))
    .await
}

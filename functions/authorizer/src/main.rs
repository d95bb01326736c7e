use lambda_runtime::{Error, service_fn};
use shared::adapters::dynamo::company::DynamoCompanies;
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
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let sessions = DynamoIdentity::new(client.clone(), table.clone());
    let companies = DynamoCompanies::new(client, table);
    shared::telemetry::run(service_fn(|event| {
        authorizer::handle(&tokens, &sessions, &companies, &SystemClock, event)
    }))
    .await
}

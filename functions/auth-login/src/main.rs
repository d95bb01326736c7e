use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::service::{Identity, LoginPolicy};
use shared::identity::tokens::{AccessTokens, TokenSettings};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let policy = LoginPolicy::from_env()?;
    shared::identity::password::warm_up();
    let settings = TokenSettings::from_env()?;
    let aws = aws_config::load_from_env().await;
    let key = shared::adapters::ssm::signing_key(&aws).await?;
    let tokens = AccessTokens::new(&key, settings);
    let store = DynamoIdentity::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let identity = Identity::single_store(&store, &tokens, &policy);
    shared::telemetry::run_http(service_fn(|req: Request| {
        auth_login::handle(&identity, &SystemClock, req)
    }))
    .await
}

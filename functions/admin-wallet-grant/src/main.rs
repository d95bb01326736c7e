use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let wallets = DynamoPayments::new(client.clone(), table.clone());
    let users = DynamoIdentity::new(client, table);
    run(service_fn(|req: Request| {
        admin_wallet_grant::handle(&wallets, &users, &SystemClock, req)
    }))
    .await
}

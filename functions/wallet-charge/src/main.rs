use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::adapters::gateway::{CardGateway, GatewayConfig};
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let gateway = CardGateway::new(GatewayConfig::from_env()?)?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoPayments::new(aws_sdk_dynamodb::Client::new(&aws), table);
    run(service_fn(|req: Request| {
        wallet_charge::handle(&store, &gateway, &SystemClock, req)
    }))
    .await
}

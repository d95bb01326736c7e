use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::adapters::gateway::{CardGateway, GatewayConfig};
use shared::clock::SystemClock;
use shared::config::required;
use shared::payment::service::Payments;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let gateway = CardGateway::new(GatewayConfig::from_env()?)?;
    let aws = aws_config::load_from_env().await;
    let payments = Payments {
        store: DynamoPayments::new(aws_sdk_dynamodb::Client::new(&aws), table),
        cards: gateway,
        clock: SystemClock,
    };
    shared::telemetry::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        payment_refunder::handle(&payments, event)
    }))
    .await
}

use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::adapters::dynamo::reporting::live_reporting;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let payments = DynamoPayments::new(client.clone(), table.clone());
    let reporting = live_reporting(client, &table);
    run(service_fn(|req: Request| {
        booking_export::handle(&reporting, &payments, req)
    }))
    .await
}

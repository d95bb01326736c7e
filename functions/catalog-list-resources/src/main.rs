use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCatalog::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        catalog_list_resources::handle(&store, req)
    }))
    .await
}

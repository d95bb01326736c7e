use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let store = DynamoCatalog::new(client.clone(), table.clone());
    let companies = DynamoCompanies::new(client, table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        catalog_create_venue::handle(&store, &companies, req)
    }))
    .await
}

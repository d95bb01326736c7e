use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let companies = DynamoCompanies::new(client.clone(), table.clone());
    let sessions = DynamoIdentity::new(client, table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        company_staff_remove::handle(&companies, &sessions, &SystemClock, req)
    }))
    .await
}

use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::reporting::live_reporting;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let reporting = live_reporting(client, &table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        stats_dashboard::handle(&reporting, req)
    }))
    .await
}

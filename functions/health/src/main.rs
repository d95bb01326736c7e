use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::TableProbe;
use shared::adapters::eventbridge::BusProbe;
use shared::config::PlatformConfig;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = PlatformConfig::from_env()?;
    let aws = aws_config::load_from_env().await;
    let table = TableProbe::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name);
    let bus = BusProbe::new(
        aws_sdk_eventbridge::Client::new(&aws),
        &config.event_bus_name,
    );
    shared::telemetry::run_http(service_fn(|req: Request| health::handle(&table, &bus, req))).await
}

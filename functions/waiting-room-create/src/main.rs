use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::waiting_room::DynamoWaitingRooms;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let rooms = DynamoWaitingRooms::new(client.clone(), &table);
    let catalog = DynamoCatalog::new(client, table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        waiting_room_create::handle(&rooms, &catalog, &SystemClock, req)
    }))
    .await
}

use lambda_http::{Error, Request, run, service_fn};
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::waiting_room::DynamoWaitingRooms;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let rooms = DynamoWaitingRooms::new(client.clone(), &table);
    let catalog = DynamoCatalog::new(client, table);
    run(service_fn(|req: Request| {
        waiting_room_create::handle(&rooms, &catalog, &SystemClock, req)
    }))
    .await
}

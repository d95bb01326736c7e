use lambda_runtime::{Error, service_fn};
use shared::adapters::dynamo::waiting_room::DynamoWaitingRooms;
use shared::clock::SystemClock;
use shared::config::required;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let aws = aws_config::load_from_env().await;
    let rooms = DynamoWaitingRooms::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run(service_fn(|event| {
        waiting_room_admitter::handle(&rooms, &SystemClock, event)
    }))
    .await
}

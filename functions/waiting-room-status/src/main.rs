use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::waiting_room::DynamoWaitingRooms;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::tokens::TokenSettings;
use shared::waiting_room::pass::PassKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let settings = TokenSettings::from_env()?;
    let aws = aws_config::load_from_env().await;
    let key = shared::adapters::ssm::signing_key(&aws).await?;
    let passes = PassKeys::new(&key, &settings.issuer);
    let rooms = DynamoWaitingRooms::new(aws_sdk_dynamodb::Client::new(&aws), table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        waiting_room_status::handle(&rooms, &passes, &SystemClock, req)
    }))
    .await
}

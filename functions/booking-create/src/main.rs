use lambda_http::{Error, Request, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::booking::rules::Policy;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::tokens::TokenSettings;
use shared::waiting_room::pass::PassKeys;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let policy = Policy::from_env()?;
    let settings = TokenSettings::from_env()?;
    let aws = aws_config::load_from_env().await;
    // Passes of the waiting rooms are verified with a key derived from the
    // platform's, read once per instance.
    let key = shared::adapters::ssm::signing_key(&aws).await?;
    let passes = PassKeys::new(&key, &settings.issuer);
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let bookings = DynamoBookings::new(client.clone(), &table);
    let catalog = DynamoCatalog::new(client, table);
    shared::telemetry::run_http(service_fn(|req: Request| {
        booking_create::handle(
            &bookings,
            &catalog,
            &SystemClock,
            &policy,
            Some(&passes),
            req,
        )
    }))
    .await
}

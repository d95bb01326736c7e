use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::adapters::dynamo::notification::DynamoNotifications;
use shared::adapters::messaging::{SesMailer, SnsTexter};
use shared::clock::SystemClock;
use shared::config::{parsed_or, required};
use shared::notification::service::{DEFAULT_LEASE, Notifications};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let table = required("TABLE_NAME")?;
    let lease = parsed_or("NOTIFY_SEND_LEASE_SECONDS", DEFAULT_LEASE.num_seconds())?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let notifications = Notifications {
        users: DynamoIdentity::new(dynamodb.clone(), table.clone()),
        bookings: DynamoBookings::new(dynamodb.clone(), table.clone()),
        catalog: DynamoCatalog::new(dynamodb.clone(), table.clone()),
        store: DynamoNotifications::new(dynamodb, table),
        mail: SesMailer::from_env(aws_sdk_ses::Client::new(&aws))?,
        sms: SnsTexter::new(aws_sdk_sns::Client::new(&aws)),
        clock: SystemClock,
        lease: chrono::Duration::seconds(lease.max(1)),
    };
    run(service_fn(|event: LambdaEvent<SqsEvent>| {
        notification_sender::handle(&notifications, event)
    }))
    .await
}

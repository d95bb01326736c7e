use lambda_runtime::{Error, service_fn};
use shared::adapters::dynamo::notification::DynamoNotifications;
use shared::adapters::messaging::SesMailer;
use shared::adapters::sqs::DeadLetters;
use shared::clock::SystemClock;
use shared::config::required;
use shared::identity::Email;
use shared::notification::alerts::AdminAlerts;
use shared::notification::service::DEFAULT_LEASE;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let to = Email::parse(&required("ADMIN_ALERT_EMAIL")?)
        .map_err(|e| format!("ADMIN_ALERT_EMAIL: {e}"))?;
    let queues = required("DEAD_LETTER_QUEUES")?;
    let aws = aws_config::load_from_env().await;
    let alerts = AdminAlerts {
        queues: DeadLetters::new(aws_sdk_sqs::Client::new(&aws), &queues)
            .map_err(|e| format!("DEAD_LETTER_QUEUES is not valid JSON: {e}"))?,
        ledger: DynamoNotifications::new(aws_sdk_dynamodb::Client::new(&aws), table),
        mail: SesMailer::from_env(aws_sdk_ses::Client::new(&aws))?,
        clock: SystemClock,
        to,
        lease: DEFAULT_LEASE,
    };
    shared::telemetry::run(service_fn(|event| admin_alerts::handle(&alerts, event))).await
}

use lambda_http::{Error, Request, service_fn};
use shared::account::AccountPorts;
use shared::adapters::dynamo::account::DynamoAccounts;
use shared::adapters::dynamo::booking::DynamoBookings;
use shared::adapters::dynamo::company::DynamoCompanies;
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::adapters::dynamo::payment::DynamoPayments;
use shared::clock::SystemClock;
use shared::config::{parsed_or, required};
use shared::identity::LoginPolicy;
use shared::payment::RefundPolicy;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let table = required("TABLE_NAME")?;
    let login = LoginPolicy::from_env()?;
    let refunds: RefundPolicy = parsed_or("REFUND_POLICY", RefundPolicy::default())?;
    shared::identity::password::warm_up();
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let identity = DynamoIdentity::new(client.clone(), table.clone());
    let bookings = DynamoBookings::new(client.clone(), table.clone());
    let payments = DynamoPayments::new(client.clone(), table.clone());
    let companies = DynamoCompanies::new(client.clone(), table.clone());
    let closer = DynamoAccounts::new(client, table);
    let ports = AccountPorts {
        identity: &identity,
        bookings: &bookings,
        payments: &payments,
        companies: &companies,
        closer: &closer,
        login: &login,
        refunds: &refunds,
    };
    shared::telemetry::run_http(service_fn(|req: Request| {
        account_delete::handle(&ports, &SystemClock, req)
    }))
    .await
}

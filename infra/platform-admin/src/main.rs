//! `platform-admin promote <email>`: makes an existing account an ADMIN.
//!
//! There is no seeded admin and no password in the code: an operator signs
//! up like anyone else, then runs this with credentials that may write the
//! table. Locally it finds the table and DynamoDB Local through the running
//! local cloud's state file; on AWS pass `--table` and use the usual AWS
//! credentials. The change and an AdminActivity event are written in one
//! transaction, then the account's sessions are ended so the next login
//! carries the new role.

use std::path::PathBuf;
use std::process::ExitCode;

mod adopt;
mod demo;

use clap::{Parser, Subcommand};
use shared::CorrelationId;
use shared::adapters::dynamo::catalog::DynamoCatalog;
use shared::adapters::dynamo::identity::DynamoIdentity;
use shared::identity::Role;
use shared::identity::service::change_role;

#[derive(Debug, Parser)]
#[command(about = "Operator commands for the booking platform")]
struct Args {
    /// The table to change (on AWS: the stack's TableName output). Without
    /// it, the running local cloud's table is used.
    #[arg(long, global = true)]
    table: Option<String>,
    /// The local cloud's state file, read when --table is not given.
    #[arg(
        long,
        global = true,
        env = "LOCAL_CLOUD_STATE",
        default_value = ".local/run/local-cloud.json"
    )]
    state_file: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Give an existing account the ADMIN role.
    Promote { email: String },
    /// Give an account back the USER role.
    Demote { email: String },
    /// Load the demo catalog (a golf course with a back nine, a seated
    /// concert, a meeting room), slots from today for `days` days. Safe to
    /// run again: fixed ids, and existing items are left as they are.
    SeedDemo {
        #[arg(long, default_value_t = 7)]
        days: i64,
    },
    /// Give every venue that has no company the default company (created
    /// if absent, with this contact), and every booking its venue's
    /// company. Safe to run again: the second run changes nothing.
    AdoptVenues {
        #[arg(long, default_value = "operator@example.com")]
        contact_email: String,
    },
    /// Recount a venue's daily figures over a date range from its bookings
    /// and their payments, and print (JSON) every day whose kept figures
    /// differ. Exits 2 when there is a difference. Reads only.
    StatsRebuild {
        #[arg(long)]
        venue: String,
        /// First day (YYYY-MM-DD, at the venue).
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(message) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{message}");
            }
            ExitCode::SUCCESS
        }
        Err(err) if err.is::<Differences>() => {
            #[allow(clippy::print_stdout)]
            {
                println!("{err}");
            }
            eprintln!("platform-admin: the kept figures differ from the recount");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("platform-admin: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<String, Box<dyn std::error::Error>> {
    let (table, endpoint) = match &args.table {
        Some(table) => (table.clone(), None),
        None => local_target(&args.state_file)?,
    };
    let mut loader = aws_config::from_env();
    if let Some(endpoint) = &endpoint {
        loader = loader
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-cloud",
            ));
    }
    let sdk = loader.load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoIdentity::new(client.clone(), &table);
    let (email, role) = match &args.command {
        Command::Promote { email } => (email, Role::Admin),
        Command::Demote { email } => (email, Role::User),
        Command::AdoptVenues { contact_email } => {
            return adopt::adopt(&client, &table, contact_email)
                .await
                .map_err(|e| e.body().message.into());
        }
        Command::StatsRebuild { venue, from, to } => {
            return rebuild(client, &table, venue, from, to).await;
        }
        Command::SeedDemo { days } => {
            let companies = shared::adapters::dynamo::company::DynamoCompanies::new(
                client.clone(),
                table.clone(),
            );
            return demo::seed(&DynamoCatalog::new(client, &table), &companies, *days)
                .await
                .map_err(|e| e.body().message.into());
        }
    };
    let actor = format!(
        "platform-admin cli ({})",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let profile = change_role(
        &store,
        &store,
        email,
        role,
        &actor,
        &CorrelationId::generate(),
    )
    .await
    .map_err(|e| e.body().message)?;
    Ok(format!(
        "{} ({}) is now {} in {table}; their sessions were ended, the role applies from their next login",
        profile.email,
        profile.id,
        profile.role.as_str()
    ))
}

/// The reconciliation of `venue` over `from`..=`to`, as JSON; an error
/// (exit 1, or 2 via [`Differences`]) when the figures differ.
async fn rebuild(
    client: aws_sdk_dynamodb::Client,
    table: &str,
    venue: &str,
    from: &str,
    to: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    use shared::adapters::dynamo::payment::DynamoPayments;
    use shared::adapters::dynamo::reporting::live_reporting;
    use shared::reporting::DateRange;
    let venue = shared::catalog::VenueId::parse(venue).map_err(|e| e.body().message)?;
    let range = DateRange::parse(Some(from), Some(to)).map_err(|e| e.body().message)?;
    let reporting = live_reporting(client.clone(), table);
    let payments = DynamoPayments::new(client, table);
    let report = reporting
        .rebuild(&payments, &venue, range)
        .await
        .map_err(|e| e.body().message)?;
    let json = serde_json::to_string_pretty(&report)?;
    if report.differences.is_empty() {
        Ok(json)
    } else {
        Err(Box::new(Differences(json)))
    }
}

/// A reconciliation that found differences: printed, exit code 2.
#[derive(Debug)]
struct Differences(String);

impl std::fmt::Display for Differences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Differences {}

/// The table and DynamoDB endpoint of the running local cloud.
fn local_target(state_file: &PathBuf) -> Result<(String, Option<String>), String> {
    let text = std::fs::read_to_string(state_file).map_err(|e| {
        format!(
            "cannot read {} ({e}); start the local cloud with infra/up.sh, or pass --table for AWS",
            state_file.display()
        )
    })?;
    let state: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", state_file.display()))?;
    let table = state["resources"]["Table"]["ref"]
        .as_str()
        .ok_or("the state file names no Table")?;
    let endpoint = state["dynamodb"]
        .as_str()
        .ok_or("the state file names no DynamoDB endpoint")?;
    Ok((table.to_owned(), Some(endpoint.to_owned())))
}

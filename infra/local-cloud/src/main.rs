//! The local cloud: DynamoDB Local and moto server (or LocalStack, with
//! `--localstack`), everything template.yaml declares provisioned onto them,
//! every function run as Lambda runs it, the HTTP API on 127.0.0.1, and the
//! event source mappings. No Docker, no account.

mod admin;
mod emulator_proxy;
mod emulators;
mod esm;
mod firehose;
mod http_api;
mod model;
mod pattern;
mod provision;
mod runtime;
mod secrets;
mod template;
mod xray;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::sync::watch;

use crate::emulators::AwsBackend;
use crate::runtime::{FunctionPool, LaunchConfig};
use crate::template::{Context, Template};

#[derive(Debug, Parser)]
#[command(
    about = "Runs the booking platform locally: emulators, provisioning, functions, HTTP API, event sources"
)]
struct Args {
    /// The SAM template to run.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// Where the function binaries are (cargo's output folder).
    #[arg(long, default_value = "target/debug")]
    bin_dir: PathBuf,
    /// The project-local folder infra/install.sh fills.
    #[arg(long, default_value = ".local")]
    local_dir: PathBuf,
    #[arg(long, env = "LOCAL_CLOUD_API_PORT", default_value_t = 3000)]
    api_port: u16,
    #[arg(long, env = "LOCAL_CLOUD_ADMIN_PORT", default_value_t = 3001)]
    admin_port: u16,
    #[arg(long, env = "LOCAL_CLOUD_DYNAMODB_PORT", default_value_t = 8000)]
    dynamodb_port: u16,
    #[arg(long, env = "LOCAL_CLOUD_MOTO_PORT", default_value_t = 5000)]
    moto_port: u16,
    /// Serve SQS, EventBridge, SNS, SES, SSM and S3 with LocalStack
    /// (installed by `infra/install.sh --localstack`) in place of moto.
    #[arg(long)]
    localstack: bool,
    /// The port of the LocalStack `--localstack` starts.
    #[arg(long, env = "LOCAL_CLOUD_LOCALSTACK_PORT", default_value_t = 4566)]
    localstack_port: u16,
    /// Use the LocalStack already running at this address (for example a
    /// Docker one at http://localhost:4566) in place of moto; it is not
    /// started nor stopped here.
    #[arg(long, value_name = "URL", conflicts_with = "localstack")]
    localstack_url: Option<String>,
    /// The fake card payment gateway's port (started only when the template's
    /// Metadata.LocalCloud names a PaymentGatewayParameter).
    #[arg(long, env = "LOCAL_CLOUD_GATEWAY_PORT", default_value_t = 3002)]
    gateway_port: u16,
    /// Processes per function.
    #[arg(long, default_value_t = 4)]
    instances: usize,
    /// Overrides every queue's visibility timeout (seconds), so retries and
    /// dead-lettering happen in seconds rather than minutes.
    #[arg(long)]
    visibility_timeout: Option<u32>,
    /// Keep DynamoDB's data in .local/state/dynamodb instead of in memory.
    #[arg(long)]
    persist: bool,
    /// Route DynamoDB requests through a proxy that counts them by action
    /// (`GET /emulators/dynamodb/requests`). Off by default: the extra hop
    /// costs the local cloud CPU on every table request.
    #[arg(long)]
    count_dynamodb_requests: bool,
    /// Function log format: Text (readable) or JSON (as on AWS).
    #[arg(long, default_value = "Text")]
    log_format: String,
    /// The stack name physical resource names are derived from.
    #[arg(long, default_value = "booking-local")]
    stack_name: String,
    /// Where to write the running cloud's addresses and resources (JSON).
    #[arg(long)]
    state_file: Option<PathBuf>,
    /// Overrides a template parameter's default, as `NAME=VALUE`
    /// (repeatable), e.g. `--parameter AuthorizerCacheSeconds=10`.
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    parameters: Vec<String>,
}

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// The access key everything here signs with. LocalStack takes a 12-digit
/// access key as the account id; moto's account is this one anyway. So ARNs
/// built from the template's `AWS::AccountId` name real resources on both.
pub const ACCESS_KEY: &str = ACCOUNT;

fn endpoint_env(dynamodb: &str, aws: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for (k, v) in [
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // Function logs are read through the local cloud's prefixed output.
        ("NO_COLOR", "1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
        ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", dynamodb),
        ("AWS_ENDPOINT_URL_SQS", aws),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", aws),
        ("AWS_ENDPOINT_URL_SES", aws),
        ("AWS_ENDPOINT_URL_SNS", aws),
        ("AWS_ENDPOINT_URL_SSM", aws),
    ] {
        env.insert(k.to_owned(), v.to_owned());
    }
    env
}

/// The local cloud's own SDK settings: fixed region and dummy credentials;
/// each client gets its emulator's endpoint.
async fn sdk_config() -> aws_config::SdkConfig {
    let creds =
        aws_sdk_dynamodb::config::Credentials::new(ACCESS_KEY, "local", None, None, "local-cloud");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .credentials_provider(creds)
        .load()
        .await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOCAL_CLOUD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .compact()
        .init();
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(target: "local-cloud", "{err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut template = Template::load(&args.template)?;
    for pair in &args.parameters {
        template.override_parameter(pair)?;
    }
    let paths = emulators::read_paths(&args.local_dir)?;
    let log_dir = args.local_dir.join("logs");
    let data_dir = args.persist.then(|| args.local_dir.join("state/dynamodb"));
    let start_gateway = async {
        match template.payment_gateway_parameter {
            Some(_) => emulators::start_fake_gateway(&args.bin_dir, args.gateway_port, &log_dir)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let start_aws = async {
        if let Some(url) = &args.localstack_url {
            emulators::localstack_ready(url, Duration::from_secs(10))
                .await
                .map_err(emulators::EmulatorError::Unusable)?;
            return Ok((
                AwsBackend::LocalStack,
                url.trim_end_matches('/').to_owned(),
                None,
            ));
        }
        let (backend, emulator) = if args.localstack {
            let state_dir = args
                .local_dir
                .join(format!("run/localstack-{}", args.localstack_port));
            let started =
                emulators::start_localstack(&paths, args.localstack_port, &state_dir, &log_dir)
                    .await?;
            (AwsBackend::LocalStack, started)
        } else {
            let started = emulators::start_moto(&paths, args.moto_port, &log_dir).await?;
            (AwsBackend::Moto, started)
        };
        Ok((backend, emulator.endpoint.clone(), Some(emulator)))
    };
    let (dynamodb, (aws_backend, aws_endpoint, aws), gateway) = tokio::try_join!(
        emulators::start_dynamodb(&paths, args.dynamodb_port, data_dir.as_deref(), &log_dir),
        start_aws,
        start_gateway,
    )?;
    let gateway_url = gateway.as_ref().map(|g| g.endpoint.clone());
    // Everything reaches moto (or LocalStack) through a proxy that counts
    // the requests and that tests can make refuse SES sends.
    let ses_faults = Arc::new(emulator_proxy::Faults::default());
    let aws_requests = Arc::new(emulator_proxy::Requests::default());
    let aws_url = emulator_proxy::start(
        aws_endpoint.clone(),
        Some(Arc::clone(&ses_faults)),
        Arc::clone(&aws_requests),
    )
    .await?;
    let dynamodb_requests = args
        .count_dynamodb_requests
        .then(|| Arc::new(emulator_proxy::Requests::default()));
    let dynamodb_url = match &dynamodb_requests {
        Some(requests) => {
            emulator_proxy::start(dynamodb.endpoint.clone(), None, Arc::clone(requests)).await?
        }
        None => dynamodb.endpoint.clone(),
    };

    let sdk = sdk_config().await;
    let ddb_conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(&dynamodb_url)
        .build();
    let streams_conf = aws_sdk_dynamodbstreams::config::Builder::from(&sdk)
        .endpoint_url(&dynamodb_url)
        .build();
    let sqs_conf = aws_sdk_sqs::config::Builder::from(&sdk)
        .endpoint_url(&aws_url)
        .build();
    let events_conf = aws_sdk_eventbridge::config::Builder::from(&sdk)
        .endpoint_url(&aws_url)
        .build();
    let clients = provision::Clients {
        dynamodb: aws_sdk_dynamodb::Client::from_conf(ddb_conf),
        sqs: aws_sdk_sqs::Client::from_conf(sqs_conf),
        events: aws_sdk_eventbridge::Client::from_conf(events_conf),
        ses: aws_sdk_ses::Client::from_conf(
            aws_sdk_ses::config::Builder::from(&sdk)
                .endpoint_url(&aws_url)
                .build(),
        ),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .endpoint_url(&aws_url)
                .force_path_style(true)
                .build(),
        ),
    };
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(streams_conf);
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(&sdk)
            .endpoint_url(&aws_url)
            .build(),
    );
    let keep_secrets = args.persist.then(|| args.local_dir.join("state/secrets"));
    let secrets = secrets::provision(&template, &ssm, keep_secrets.as_deref()).await?;
    if !secrets.is_empty() {
        tracing::info!(target: "local-cloud", "generated secrets in SSM: {}", secrets.join(", "));
    }

    let mut ctx = Context {
        stack_name: args.stack_name.clone(),
        region: REGION.to_owned(),
        account_id: ACCOUNT.to_owned(),
        parameters: template.local_parameters(gateway_url.as_deref()),
        physical: BTreeMap::new(),
    };
    let options = provision::Options {
        visibility_timeout: args.visibility_timeout,
    };
    provision::provision(&template, &mut ctx, &clients, &options).await?;
    tracing::info!(target: "local-cloud", "provisioned {} resources from {}", ctx.physical.len(), args.template.display());

    let api_spec = model::api_spec(&template, &ctx)?;
    let functions = model::functions(&template, &ctx, &api_spec)?;
    let mut base_env = endpoint_env(&dynamodb_url, &aws_url);
    // The X-Ray daemon Lambda runs beside each function, played here.
    let segments = Arc::new(xray::Segments::default());
    let daemon = xray::start(Arc::clone(&segments))
        .await
        .map_err(|e| format!("cannot start the X-Ray daemon: {e}"))?;
    base_env.insert("AWS_XRAY_DAEMON_ADDRESS".to_owned(), daemon.to_string());
    let launch = LaunchConfig {
        bin_dir: args.bin_dir.clone(),
        base_env,
        log_format: Some(args.log_format.clone()),
        segments: Arc::clone(&segments),
    };
    let (shutdown_tx, shutdown) = watch::channel(false);
    let mut pools: BTreeMap<String, Arc<FunctionPool>> = BTreeMap::new();
    for spec in functions {
        let pool = FunctionPool::new(spec, launch.clone());
        if !pool.binary_path().exists() {
            return Err(format!(
                "{} is not built: run `cargo build --workspace` (looked for {})",
                pool.spec.binary,
                pool.binary_path().display()
            )
            .into());
        }
        pool.start(args.instances, shutdown.clone());
        pools.insert(pool.spec.logical_id.clone(), pool);
    }

    // Routes, with their authorizers resolved to the function that runs them.
    let by_arn: HashMap<String, Arc<FunctionPool>> = pools
        .values()
        .map(|p| (p.spec.arn.clone(), Arc::clone(p)))
        .collect();
    let mut routes = Vec::new();
    for pool in pools.values() {
        for route in &pool.spec.routes {
            let authorizer = match &route.authorizer {
                Some(name) => {
                    let spec = api_spec.authorizers[name].clone();
                    let runner = by_arn.get(&spec.function_arn).cloned().ok_or_else(|| {
                        format!(
                            "authorizer {name}: no function has the ARN {}",
                            spec.function_arn
                        )
                    })?;
                    Some((spec, runner))
                }
                None => None,
            };
            routes.push(http_api::Route::new(
                &route.method,
                &route.path,
                Arc::clone(pool),
                authorizer,
            ));
        }
    }
    let route_count = routes.len();
    let api = Arc::new(http_api::HttpApi::new(routes));
    let api_addr = SocketAddr::from(([127, 0, 0, 1], args.api_port));
    let listener = tokio::net::TcpListener::bind(api_addr)
        .await
        .map_err(|e| format!("cannot listen on {api_addr}: {e}"))?;
    let mut api_shutdown = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            api.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = api_shutdown.changed().await;
        })
        .await;
    });

    // Firehose streams, delivered by the local cloud (crate::firehose).
    for stream in ctx
        .physical
        .values()
        .filter(|p| p.kind == "AWS::KinesisFirehose::DeliveryStream")
    {
        let a = &stream.attributes;
        let spec = firehose::StreamSpec {
            name: stream.reference.clone(),
            queue_url: a["QueueUrl"].clone(),
            bucket: a["Bucket"].clone(),
            prefix: a["Prefix"].clone(),
            error_prefix: a["ErrorOutputPrefix"].clone(),
            query: a
                .get("Query")
                .map(|q| firehose::Query::parse(q))
                .transpose()?,
            delimiter: a.get("Delimiter").cloned(),
            input_path: a.get("InputPath").cloned(),
            interval: Duration::from_secs(1),
        };
        tracing::info!(target: "local-cloud", "firehose {} -> s3://{}/{}", spec.name, spec.bucket, spec.prefix);
        tokio::spawn(firehose::deliver(
            clients.sqs.clone(),
            clients.s3.clone(),
            spec,
            shutdown.clone(),
        ));
    }

    // Event source mappings.
    for pool in pools.values() {
        for source in pool.spec.sqs.iter().filter(|s| s.enabled) {
            let url = ctx
                .physical
                .values()
                .find(|p| p.attributes.get("Arn") == Some(&source.queue_arn))
                .map(|p| p.reference.clone())
                .ok_or_else(|| {
                    format!(
                        "{}: no queue has the ARN {}",
                        pool.spec.logical_id, source.queue_arn
                    )
                })?;
            for _ in 0..esm::SQS_POLLERS {
                tokio::spawn(esm::sqs_poller(
                    clients.sqs.clone(),
                    Arc::clone(pool),
                    source.clone(),
                    url.clone(),
                    shutdown.clone(),
                ));
            }
        }
        for source in pool.spec.streams.iter().filter(|s| s.enabled) {
            let on_failure = match &source.on_failure {
                None => None,
                Some(arn) => Some(esm::OnFailure {
                    sqs: clients.sqs.clone(),
                    queue_url: ctx
                        .physical
                        .values()
                        .find(|p| p.attributes.get("Arn") == Some(arn))
                        .map(|p| p.reference.clone())
                        .ok_or_else(|| {
                            format!("{}: no queue has the ARN {arn}", pool.spec.logical_id)
                        })?,
                }),
            };
            tokio::spawn(esm::stream_poller(
                streams.clone(),
                Arc::clone(pool),
                source.clone(),
                on_failure,
                shutdown.clone(),
            ));
        }
        for source in pool.spec.schedules.iter().filter(|s| s.enabled) {
            let schedule: esm::Schedule = source
                .expression
                .parse()
                .map_err(|e| format!("{}.{}: {e}", pool.spec.logical_id, source.event_name))?;
            tokio::spawn(esm::scheduler(
                Arc::clone(pool),
                source.clone(),
                schedule,
                shutdown.clone(),
            ));
        }
    }

    // Wait until every function has a ready instance.
    let deadline = Instant::now() + Duration::from_secs(60);
    while pools.values().any(|p| p.ready_instances() == 0) {
        if Instant::now() > deadline {
            let waiting: Vec<_> = pools
                .values()
                .filter(|p| p.ready_instances() == 0)
                .map(|p| p.spec.binary.clone())
                .collect();
            return Err(format!("functions never became ready: {waiting:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let state = admin::State {
        pools: pools.clone(),
        physical: ctx.physical.clone(),
        api: format!("http://{api_addr}"),
        dynamodb: dynamodb.endpoint.clone(),
        aws: aws_endpoint.clone(),
        aws_backend,
        gateway: gateway_url.clone(),
        pids: admin::Pids {
            dynamodb: dynamodb.pid(),
            aws: aws.as_ref().and_then(emulators::Emulator::pid),
            gateway: gateway.as_ref().and_then(emulators::Emulator::pid),
        },
        template: template.clone(),
        parameters: ctx.parameters.clone(),
        clients: clients.clone(),
        options: options.clone(),
        stack_name: args.stack_name.clone(),
        ses_faults,
        aws_requests,
        dynamodb_requests,
        segments,
    };
    let admin_addr = SocketAddr::from(([127, 0, 0, 1], args.admin_port));
    let admin_listener = tokio::net::TcpListener::bind(admin_addr)
        .await
        .map_err(|e| format!("cannot listen on {admin_addr}: {e}"))?;
    let state = Arc::new(state);
    let summary = state.summary(&format!("http://{admin_addr}"));
    let mut admin_shutdown = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(admin_listener, admin::router(state))
            .with_graceful_shutdown(async move {
                let _ = admin_shutdown.changed().await;
            })
            .await;
    });
    if let Some(path) = &args.state_file {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)?;
    }

    tracing::info!(
        target: "local-cloud",
        "ready in {}ms: {} functions x {} instances, {} routes",
        started.elapsed().as_millis(),
        pools.len(),
        args.instances,
        route_count
    );
    announce(
        &api_addr,
        &admin_addr,
        &dynamodb.endpoint,
        (aws_backend, &aws_endpoint),
        gateway_url.as_deref(),
    );

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm.recv() => {}
    }
    tracing::info!(target: "local-cloud", "stopping");
    let _ = shutdown_tx.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::join!(
        dynamodb.stop(),
        async {
            if let Some(aws) = aws {
                aws.stop().await;
            }
        },
        async {
            if let Some(gateway) = gateway {
                gateway.stop().await;
            }
        }
    );
    Ok(())
}

/// The lines a person starting the cloud is waiting for, on stdout.
#[allow(clippy::print_stdout)]
fn announce(
    api: &SocketAddr,
    admin: &SocketAddr,
    dynamodb: &str,
    (backend, aws): (AwsBackend, &str),
    gateway: Option<&str>,
) {
    println!("Local cloud is up.");
    println!("  API:      http://{api}   (try: curl http://{api}/health)");
    println!("  Admin:    http://{admin}");
    println!("  DynamoDB: {dynamodb}");
    let name = match backend {
        AwsBackend::Moto => "moto:      ",
        AwsBackend::LocalStack => "LocalStack:",
    };
    println!("  {name} {aws}  (SQS, EventBridge, SNS, SES, SSM, S3)");
    if let Some(gateway) = gateway {
        println!("  Gateway:  {gateway}  (fake card gateway; PUT /control/mode)");
    }
    println!("Press Ctrl-C to stop.");
}

//! Starting DynamoDB Local and moto server (or LocalStack in moto's place),
//! installed by infra/install.sh into `.local/` (whose `paths.env` says where
//! everything is), and the fake payment gateway built with the workspace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::process::{Child, Command};

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{0} is missing: run infra/install.sh first")]
    NotInstalled(String),
    #[error("{name} is not built: run `cargo build --workspace` (looked for {path})")]
    NotBuilt { name: &'static str, path: String },
    #[error("cannot start {name}: {source}")]
    Spawn {
        name: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} did not answer on port {port} within {secs}s; see {log}")]
    NotReady {
        name: &'static str,
        port: u16,
        secs: u64,
        log: String,
    },
    #[error("port {0} is already in use; choose other ports or stop what uses it")]
    PortInUse(u16),
    #[error("{0}")]
    Unusable(String),
}

/// A running emulator (or the fake gateway); killed when dropped or stopped.
pub struct Emulator {
    pub name: &'static str,
    pub endpoint: String,
    pub child: Child,
}

/// Reads `.local/paths.env` (KEY='value' lines).
pub fn read_paths(local_dir: &Path) -> Result<HashMap<String, String>, EmulatorError> {
    let file = local_dir.join("paths.env");
    let text = std::fs::read_to_string(&file)
        .map_err(|_| EmulatorError::NotInstalled(file.display().to_string()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().to_owned(),
                v.trim().trim_matches('\'').trim_matches('"').to_owned(),
            )
        })
        .collect())
}

async fn port_open(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).await.is_ok()
}

async fn start(
    name: &'static str,
    mut command: Command,
    port: u16,
    log_dir: &Path,
    timeout: Duration,
) -> Result<Emulator, EmulatorError> {
    if port_open(port).await {
        return Err(EmulatorError::PortInUse(port));
    }
    std::fs::create_dir_all(log_dir).map_err(|source| EmulatorError::Spawn { name, source })?;
    let log_path: PathBuf = log_dir.join(format!("{name}.log"));
    let log =
        std::fs::File::create(&log_path).map_err(|source| EmulatorError::Spawn { name, source })?;
    let log_err = log
        .try_clone()
        .map_err(|source| EmulatorError::Spawn { name, source })?;
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_err))
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| EmulatorError::Spawn { name, source })?;
    let started = Instant::now();
    while started.elapsed() < timeout {
        if port_open(port).await {
            tracing::info!(target: "local-cloud", "{name} answers on 127.0.0.1:{port} after {}ms", started.elapsed().as_millis());
            return Ok(Emulator {
                name,
                endpoint: format!("http://127.0.0.1:{port}"),
                child,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(EmulatorError::NotReady {
        name,
        port,
        secs: timeout.as_secs(),
        log: log_path.display().to_string(),
    })
}

/// Starts DynamoDB Local, in memory or persisted under `data_dir`.
pub async fn start_dynamodb(
    paths: &HashMap<String, String>,
    port: u16,
    data_dir: Option<&Path>,
    log_dir: &Path,
) -> Result<Emulator, EmulatorError> {
    let get = |k: &str| {
        paths
            .get(k)
            .cloned()
            .ok_or_else(|| EmulatorError::NotInstalled(k.to_owned()))
    };
    let java = get("JAVA")?;
    let jar = get("DYNAMODB_LOCAL_JAR")?;
    let lib = get("DYNAMODB_LOCAL_LIB")?;
    if !Path::new(&jar).exists() {
        return Err(EmulatorError::NotInstalled(jar));
    }
    let mut cmd = Command::new(java);
    cmd.arg(format!("-Djava.library.path={lib}"))
        .arg("-Xms256m")
        .arg("-jar")
        .arg(&jar)
        .arg("-sharedDb")
        .arg("-disableTelemetry")
        .arg("-port")
        .arg(port.to_string());
    match data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| EmulatorError::Spawn {
                name: "dynamodb",
                source,
            })?;
            cmd.arg("-dbPath").arg(dir);
        }
        None => {
            cmd.arg("-inMemory");
        }
    }
    start("dynamodb", cmd, port, log_dir, Duration::from_secs(60)).await
}

/// moto_server, less costs of moto's own that profiling found (see the file).
const MOTO_LAUNCHER: &str = include_str!("moto_server.py");

/// Starts moto server for SQS, EventBridge, SES, SNS, SSM and S3, through
/// the launcher, with the venv's Python.
pub async fn start_moto(
    paths: &HashMap<String, String>,
    port: u16,
    log_dir: &Path,
) -> Result<Emulator, EmulatorError> {
    let venv = paths
        .get("VENV")
        .cloned()
        .ok_or_else(|| EmulatorError::NotInstalled("VENV".into()))?;
    let mut cmd = Command::new(Path::new(&venv).join("bin/python"));
    cmd.arg("-c")
        .arg(MOTO_LAUNCHER)
        .arg("-H")
        .arg("127.0.0.1")
        .arg("-p")
        .arg(port.to_string());
    start("moto", cmd, port, log_dir, Duration::from_secs(60)).await
}

/// What serves the AWS services other than DynamoDB (SQS, EventBridge, SNS,
/// SES, SSM, S3) to the functions and the local cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AwsBackend {
    Moto,
    LocalStack,
}

/// The services LocalStack is asked for: those the platform uses.
/// (It loads kms, lambda, secretsmanager and sts too, as their dependencies.)
const LOCALSTACK_SERVICES: &str = "sqs,events,ssm,sns,s3,ses";

/// Starts LocalStack (localstack-core, installed by `infra/install.sh
/// --localstack` into `.local/localstack`) on the host, without Docker, for
/// the services in [`LOCALSTACK_SERVICES`]. Its files go under
/// `state_dir` (kept between runs: its service catalog cache makes the next
/// start take 2 s rather than 6); its state is in memory, so each start is
/// empty, as moto's is.
pub async fn start_localstack(
    paths: &HashMap<String, String>,
    port: u16,
    state_dir: &Path,
    log_dir: &Path,
) -> Result<Emulator, EmulatorError> {
    let venv = paths
        .get("LOCALSTACK_VENV")
        .map(PathBuf::from)
        .filter(|v| v.join("bin/localstack-supervisor").exists())
        .ok_or_else(|| {
            EmulatorError::NotInstalled("LocalStack (run infra/install.sh --localstack)".to_owned())
        })?;
    let name = "localstack";
    std::fs::create_dir_all(state_dir).map_err(|source| EmulatorError::Spawn { name, source })?;
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(venv.join("bin/python"));
    cmd.arg("-m")
        .arg("localstack.runtime.main")
        .env("OVERRIDE_IN_DOCKER", "0")
        .env("FILESYSTEM_ROOT", state_dir)
        .env("CONFIG_DIR", state_dir.join("config"))
        .env("GATEWAY_LISTEN", &listen)
        .env("LOCALSTACK_HOST", &listen)
        .env("SQS_ENDPOINT_STRATEGY", "path")
        .env("DNS_ADDRESS", "0")
        .env("DISABLE_EVENTS", "1")
        .env("SKIP_SSL_CERT_DOWNLOAD", "1")
        .env("SERVICES", LOCALSTACK_SERVICES)
        .env("EAGER_SERVICE_LOADING", "1");
    let emulator = start(name, cmd, port, log_dir, Duration::from_secs(120)).await?;
    localstack_ready(&emulator.endpoint, Duration::from_secs(120))
        .await
        .map_err(|_| EmulatorError::NotReady {
            name,
            port,
            secs: 120,
            log: log_dir.join("localstack.log").display().to_string(),
        })?;
    Ok(emulator)
}

/// Waits until LocalStack at `endpoint` says every service the platform
/// uses is up (its gateway answers before its services are loaded).
pub async fn localstack_ready(endpoint: &str, timeout: Duration) -> Result<(), String> {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < timeout {
        match reqwest::get(format!("{endpoint}/_localstack/health")).await {
            Ok(res) => {
                let health: serde_json::Value = res.json().await.unwrap_or_default();
                let down: Vec<&str> = LOCALSTACK_SERVICES
                    .split(',')
                    .filter(|s| {
                        !matches!(
                            health["services"][*s].as_str(),
                            Some("running" | "available")
                        )
                    })
                    .collect();
                if down.is_empty() {
                    return Ok(());
                }
                last = format!("not up yet: {}", down.join(", "));
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("LocalStack at {endpoint} is not ready: {last}"))
}

/// Starts the fake card payment gateway (`<bin_dir>/fake-gateway`).
pub async fn start_fake_gateway(
    bin_dir: &Path,
    port: u16,
    log_dir: &Path,
) -> Result<Emulator, EmulatorError> {
    let name = "fake-gateway";
    let binary = bin_dir.join(name);
    if !binary.is_file() {
        return Err(EmulatorError::NotBuilt {
            name,
            path: binary.display().to_string(),
        });
    }
    let mut cmd = Command::new(binary);
    cmd.arg("--port").arg(port.to_string());
    start(name, cmd, port, log_dir, Duration::from_secs(10)).await
}

impl Emulator {
    /// The id of the server's process (the one listening on its port).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Stops the emulator and waits for it to exit.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        tracing::info!(target: "local-cloud", "{} stopped", self.name);
    }
}

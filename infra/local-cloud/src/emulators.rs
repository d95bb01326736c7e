//! Starting DynamoDB Local and moto server, installed by infra/install.sh
//! into `.local/` (whose `paths.env` says where everything is), and the fake
//! payment gateway built with the workspace.

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

//! A local Lambda service: each function runs as several processes of its
//! real binary, each talking to its own Lambda Runtime API endpoint
//! (next invocation, response, error, init error) served here.
//!
//! An invocation waits in the function's queue until an idle instance asks
//! for the next one. An instance that dies while it holds an invocation fails
//! that invocation as `Crashed` and is replaced by a fresh process.
//!
//! As on Lambda, a function's timeout is its running time: the clock starts
//! when an instance takes the invocation (its deadline header is set then),
//! and an instance still holding it at the deadline is killed. Waiting for a
//! free instance stands in for Lambda's scaling out, and is bounded on its
//! own by [`QUEUE_PATIENCE`]: a caller that waited longer gets `Timeout`, and
//! its invocation, if still queued, is dropped unrun.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{oneshot, watch};

use crate::model::FunctionSpec;
use api::runtime_api;

/// How an invocation ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Success(Bytes),
    /// The function reported an error through the Runtime API.
    FunctionError {
        error_type: String,
        message: String,
    },
    /// The process died while it held the invocation.
    Crashed(String),
    /// The function did not answer within its timeout; its process was killed.
    Timeout,
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Success(_) => "ok",
            Self::FunctionError { .. } => "error",
            Self::Crashed(_) => "crashed",
            Self::Timeout => "timeout",
        }
    }
}

struct Invocation {
    request_id: String,
    payload: Bytes,
    reply: oneshot::Sender<Outcome>,
}

/// How long an invocation may wait for a free instance. Lambda would have
/// started another one; four local processes per function queue instead.
pub const QUEUE_PATIENCE: Duration = Duration::from_secs(30);

struct Held {
    request_id: String,
    /// The invocation's trace, when its function is traced.
    trace: Option<crate::xray::Invocation>,
    reply: oneshot::Sender<Outcome>,
    /// Fault injection: the process is being killed with this invocation.
    doomed: bool,
}

struct InstanceState {
    slot: usize,
    generation: u64,
    pid: Option<u32>,
    port: u16,
    dead: bool,
    current: Option<Held>,
    kill: Option<tokio::sync::mpsc::Sender<()>>,
    started: Instant,
    ready_ms: Option<u64>,
}

type Instance = Arc<Mutex<InstanceState>>;

/// What a function's processes are started with.
#[derive(Debug, Clone)]
pub struct LaunchConfig {
    pub bin_dir: PathBuf,
    /// Variables every function gets: region, credentials, endpoints.
    pub base_env: BTreeMap<String, String>,
    pub log_format: Option<String>,
    /// Where traced invocations' segments go (the local X-Ray daemon).
    pub segments: Arc<crate::xray::Segments>,
}

/// All instances of one function and the queue of invocations they serve.
pub struct FunctionPool {
    pub spec: FunctionSpec,
    launch: LaunchConfig,
    tx: async_channel::Sender<Invocation>,
    rx: async_channel::Receiver<Invocation>,
    instances: Mutex<Vec<Instance>>,
    kill_next: AtomicU32,
    invocations: AtomicU64,
    restarts: AtomicU64,
    /// The last [`LOG_LINES`] lines its instances wrote, oldest first: the
    /// function's log group, as CloudWatch Logs would hold it.
    log: Arc<Mutex<VecDeque<String>>>,
}

/// How many lines of each function's output the admin API can show.
pub const LOG_LINES: usize = 5_000;

#[derive(Debug, Serialize)]
pub struct InstanceView {
    pub slot: usize,
    pub generation: u64,
    pub pid: Option<u32>,
    pub runtime_api_port: u16,
    pub busy: bool,
    pub ready_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct PoolView {
    pub logical_id: String,
    pub name: String,
    pub binary: String,
    pub invocations: u64,
    pub restarts: u64,
    pub queued: usize,
    pub instances: Vec<InstanceView>,
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(0)
}

impl FunctionPool {
    pub fn new(spec: FunctionSpec, launch: LaunchConfig) -> Arc<Self> {
        let (tx, rx) = async_channel::unbounded();
        Arc::new(Self {
            spec,
            launch,
            tx,
            rx,
            instances: Mutex::new(Vec::new()),
            kill_next: AtomicU32::new(0),
            invocations: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            log: Arc::new(Mutex::new(VecDeque::with_capacity(LOG_LINES))),
        })
    }

    /// The last lines the function's instances wrote (stdout and stderr,
    /// oldest first) that contain `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        self.log
            .lock()
            .expect("lock")
            .iter()
            .filter(|line| line.contains(needle))
            .cloned()
            .collect()
    }

    pub fn binary_path(&self) -> PathBuf {
        self.launch.bin_dir.join(&self.spec.binary)
    }

    /// Starts `count` supervised instances; they stop when `shutdown` flips.
    pub fn start(self: &Arc<Self>, count: usize, shutdown: watch::Receiver<bool>) {
        for slot in 0..count {
            let pool = Arc::clone(self);
            let shutdown = shutdown.clone();
            tokio::spawn(async move { pool.supervise(slot, shutdown).await });
        }
    }

    /// Makes the next `count` instances that take an invocation die with it.
    pub fn arm_kill(&self, count: u32) {
        self.kill_next.fetch_add(count, Ordering::SeqCst);
    }

    /// Kills every instance holding an invocation now, in the middle of
    /// whatever it is doing; returns how many. Each held invocation ends
    /// `Crashed` and its instance is replaced, as with `arm_kill`.
    pub fn kill_busy(&self) -> usize {
        let mut killed = 0;
        for instance in self.instances.lock().expect("lock").iter() {
            let mut state = instance.lock().expect("lock");
            let Some(held) = state.current.as_mut() else {
                continue;
            };
            if held.doomed {
                continue;
            }
            // From now on its answer is refused and it takes no other
            // invocation (one that arrives goes back to the queue), so the
            // kill, which lands a moment later, decides how this one ends.
            held.doomed = true;
            state.dead = true;
            if let Some(kill) = &state.kill
                && kill.try_send(()).is_ok()
            {
                tracing::warn!(target: "runtime", "fault injection: killing {}#{} (pid {:?}) mid-invocation", self.spec.binary, state.slot, state.pid);
                killed += 1;
            }
        }
        killed
    }

    pub fn ready_instances(&self) -> usize {
        self.instances
            .lock()
            .expect("lock")
            .iter()
            .filter(|i| {
                let i = i.lock().expect("lock");
                !i.dead && i.ready_ms.is_some()
            })
            .count()
    }

    pub fn view(&self) -> PoolView {
        let instances = self
            .instances
            .lock()
            .expect("lock")
            .iter()
            .map(|i| {
                let i = i.lock().expect("lock");
                InstanceView {
                    slot: i.slot,
                    generation: i.generation,
                    pid: i.pid,
                    runtime_api_port: i.port,
                    busy: i.current.is_some(),
                    ready_ms: i.ready_ms,
                }
            })
            .collect();
        PoolView {
            logical_id: self.spec.logical_id.clone(),
            name: self.spec.name.clone(),
            binary: self.spec.binary.clone(),
            invocations: self.invocations.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            queued: self.rx.len(),
            instances,
        }
    }

    /// Invokes the function synchronously and logs one line about it.
    pub async fn invoke(&self, payload: Bytes) -> Outcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let (reply, answer) = oneshot::channel();
        let invocation = Invocation {
            request_id: request_id.clone(),
            payload,
            reply,
        };
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let outcome = if self.tx.send(invocation).await.is_err() {
            Outcome::Crashed("the function pool is shut down".into())
        } else {
            // The instance enforces the running time (see `watch_deadline`);
            // this bounds the whole wait, queue included, so a pool whose
            // instances cannot start never holds its caller forever.
            match tokio::time::timeout(QUEUE_PATIENCE + self.timeout(), answer).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Outcome::Crashed("the invocation was dropped".into()),
                Err(_) => {
                    self.kill_holder(&request_id);
                    Outcome::Timeout
                }
            }
        };
        let detail = match &outcome {
            Outcome::FunctionError {
                error_type,
                message,
            } => format!(" {error_type}: {message}"),
            Outcome::Crashed(why) => format!(" {why}"),
            _ => String::new(),
        };
        tracing::info!(
            target: "invoke",
            "{} {} {}ms {}{}",
            self.spec.binary,
            request_id,
            started.elapsed().as_millis(),
            outcome.label(),
            detail
        );
        outcome
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.spec.timeout_secs.max(1))
    }

    fn kill_holder(&self, request_id: &str) {
        for instance in self.instances.lock().expect("lock").iter() {
            let state = instance.lock().expect("lock");
            if state
                .current
                .as_ref()
                .is_some_and(|h| h.request_id == request_id)
                && let Some(kill) = &state.kill
            {
                let _ = kill.try_send(());
            }
        }
    }

    async fn supervise(self: Arc<Self>, slot: usize, mut shutdown: watch::Receiver<bool>) {
        let mut generation = 0u64;
        let mut quick_failures = 0u32;
        loop {
            if *shutdown.borrow() {
                return;
            }
            generation += 1;
            let started = Instant::now();
            match self.run_instance(slot, generation, &mut shutdown).await {
                Ok(status) => {
                    if *shutdown.borrow() {
                        return;
                    }
                    self.restarts.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(target: "runtime", "{}#{slot} exited ({status}); starting a new instance", self.spec.binary);
                }
                Err(err) => {
                    tracing::error!(target: "runtime", "{}#{slot} could not start: {err}", self.spec.binary);
                }
            }
            // A process that keeps dying at once is restarted ever more slowly.
            if started.elapsed() < Duration::from_secs(2) {
                quick_failures += 1;
                let delay = Duration::from_millis(100 * 2u64.pow(quick_failures.min(6)));
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => return,
                }
            } else {
                quick_failures = 0;
            }
        }
    }

    /// Runs one process until it exits; returns its exit status.
    async fn run_instance(
        self: &Arc<Self>,
        slot: usize,
        generation: u64,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<String, std::io::Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (kill_tx, mut kill_rx) = tokio::sync::mpsc::channel(1);
        let instance: Instance = Arc::new(Mutex::new(InstanceState {
            slot,
            generation,
            pid: None,
            port,
            dead: false,
            current: None,
            kill: Some(kill_tx),
            started: Instant::now(),
            ready_ms: None,
        }));
        let app = runtime_api(Arc::clone(self), Arc::clone(&instance));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });

        let spawned = self.command(port).spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) => {
                server.abort();
                return Err(err);
            }
        };
        let label = format!("{}#{slot}", self.spec.binary);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(forward_lines(label.clone(), out, Arc::clone(&self.log)));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(forward_lines(label.clone(), err, Arc::clone(&self.log)));
        }
        instance.lock().expect("lock").pid = child.id();
        {
            let mut instances = self.instances.lock().expect("lock");
            if instances.len() <= slot {
                instances.resize_with(slot + 1, || Arc::clone(&instance));
            }
            instances[slot] = Arc::clone(&instance);
        }

        let status = tokio::select! {
            status = child.wait() => status,
            _ = kill_rx.recv() => {
                let _ = child.start_kill();
                child.wait().await
            }
            _ = shutdown.changed() => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
        let held = {
            let mut state = instance.lock().expect("lock");
            state.dead = true;
            state.kill = None;
            state.current.take()
        };
        if let Some(held) = held {
            self.traced_end(&held, true);
            let _ = held.reply.send(Outcome::Crashed(format!(
                "the process exited ({status}) during the invocation"
            )));
        }
        server.abort();
        Ok(status)
    }

    /// Records a traced invocation's segment, as Lambda does when it ends.
    fn traced_end(&self, held: &Held, fault: bool) {
        if let Some(trace) = &held.trace {
            self.launch
                .segments
                .invocation(trace, &self.spec.name, crate::xray::now(), fault);
        }
    }

    fn command(&self, port: u16) -> Command {
        let spec = &self.spec;
        let mut cmd = Command::new(self.binary_path());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
            .env("AWS_LAMBDA_FUNCTION_NAME", &spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                spec.memory_mb.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", spec.name),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{port}"))
            .env("LAMBDA_TASK_ROOT", &self.launch.bin_dir)
            .env("RUST_BACKTRACE", "1")
            .envs(&self.launch.base_env)
            .envs(&spec.environment)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(format) = self.launch.log_format.as_ref().or(spec.log_format.as_ref()) {
            cmd.env("AWS_LAMBDA_LOG_FORMAT", format);
        }
        if let Some(level) = &spec.log_level {
            cmd.env("AWS_LAMBDA_LOG_LEVEL", level);
        }
        cmd
    }
}

/// Copies an instance's output to the cloud's own, each line prefixed by
/// the instance's name, and into its function's log.
async fn forward_lines(
    label: String,
    stream: impl tokio::io::AsyncRead + Unpin,
    log: Arc<Mutex<VecDeque<String>>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        // One writer for every function keeps lines whole.
        eprintln!("[{label}] {line}");
        let mut log = log.lock().expect("lock");
        if log.len() == LOG_LINES {
            log.pop_front();
        }
        log.push_back(line);
    }
}

mod api;
#[cfg(test)]
mod tests;

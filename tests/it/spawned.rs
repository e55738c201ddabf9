//! Real `claudebench serve` child processes: configured through their environment like an
//! operator would, ready once `GET /health` answers 200, killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

const READY_DEADLINE: Duration = Duration::from_secs(20);

/// The machine's Redis (`REDIS_URL`, or the local default).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// How to start one server: its name, key prefix, data directory and any further environment.
pub struct Serve {
    name: String,
    instance: String,
    env: Vec<(String, String)>,
    log: Option<PathBuf>,
}

impl Serve {
    /// A server on the machine's Redis with SQLite in `data_dir`, a 1.5 s failure timeout,
    /// instance id `<name>-<prefix>` and `RUST_LOG=warn` (no colours); its stderr is discarded.
    pub fn new(name: &str, prefix: &str, data_dir: &Path) -> Self {
        let instance = format!("{name}-{prefix}");
        let env = [
            ("REDIS_URL", redis_url()),
            ("CLAUDEBENCH_KEY_PREFIX", prefix.to_string()),
            ("CLAUDEBENCH_DATA_DIR", data_dir.display().to_string()),
            ("CLAUDEBENCH_FAILURE_TIMEOUT_MS", "1500".to_string()),
            ("INSTANCE_ID", instance.clone()),
            ("RUST_LOG", "warn".to_string()),
            ("NO_COLOR", "1".to_string()),
        ];
        let env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Serve { name: name.to_string(), instance, env, log: None }
    }

    /// Sets (or replaces) one environment variable.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Appends the server's stderr to `path`.
    pub fn log_to(mut self, path: PathBuf) -> Self {
        self.log = Some(path);
        self
    }

    /// `claudebench serve --port <port>` with this server's environment, not started.
    pub fn serve_command(&self, port: u16) -> Command {
        let mut command = command_with_env(&self.env);
        command.args(["serve", "--port", &port.to_string()]);
        command
    }

    /// Starts the server on a free port and waits until it is ready.
    pub async fn spawn(self) -> ServerProcess {
        let port = free_port();
        let stderr = match &self.log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new().create(true).append(true).open(path).expect("the server's log file"),
            ),
            None => Stdio::null(),
        };
        let child = self
            .serve_command(port)
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn claudebench serve");
        let server = ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            name: self.name,
            instance: self.instance,
            env: self.env,
            log: self.log,
        };
        server.wait_ready().await;
        server
    }
}

/// `claudebench` with exactly `env` on top of this process's environment (minus `DATABASE_URL`,
/// so a server uses PostgreSQL only when told to).
fn command_with_env(env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_claudebench"));
    command.env_remove("DATABASE_URL").envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// A running `claudebench serve`.
pub struct ServerProcess {
    pub child: Child,
    pub url: String,
    pub name: String,
    pub instance: String,
    env: Vec<(String, String)>,
    log: Option<PathBuf>,
}

impl ServerProcess {
    async fn wait_ready(&self) {
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Ok(r) = reqwest::get(format!("{}/health", self.url)).await
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not become ready within {READY_DEADLINE:?}{}",
                self.name,
                self.log_tail(30)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Another `claudebench` command (e.g. `deadletter list`) with this server's environment.
    pub fn command(&self) -> Command {
        command_with_env(&self.env)
    }

    /// The last `lines` lines of the server's stderr (each cut to 300 characters), headed by its
    /// name; empty without a log.
    pub fn log_tail(&self, lines: usize) -> String {
        let Some(path) = &self.log else { return String::new() };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let all: Vec<String> = text.lines().map(|l| l.chars().take(300).collect()).collect();
        let tail = all[all.len().saturating_sub(lines)..].join("\n");
        format!("\n--- last {lines} lines of {} ({}) ---\n{tail}\n", self.name, path.display())
    }
}

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

/// The test Redis Cluster's seed nodes (`host:port,…`) when the tests run on one: set by
/// scripts/test.sh's cluster pass in `CLAUDEBENCH_TEST_REDIS_CLUSTER` (a test-only name, so no
/// server started on a Redis of its own inherits it).
pub fn cluster_nodes() -> Option<String> {
    let list = std::env::var("CLAUDEBENCH_TEST_REDIS_CLUSTER").ok().filter(|v| !v.trim().is_empty())?;
    match claudebench_runtime::config::parse_cluster_nodes(&list) {
        Ok(nodes) => Some(nodes.join(",")),
        Err(e) => panic!("CLAUDEBENCH_TEST_REDIS_CLUSTER: {e}"),
    }
}

/// How many task partitions the servers under test use: `CLAUDEBENCH_TEST_PARTITIONS` (the
/// cluster pass of scripts/test.sh sets 6, so tasks spread over every master), else 1.
pub fn test_partitions() -> u32 {
    match std::env::var("CLAUDEBENCH_TEST_PARTITIONS").ok().filter(|v| !v.trim().is_empty()) {
        None => 1,
        Some(v) => v.trim().parse().unwrap_or_else(|_| panic!("CLAUDEBENCH_TEST_PARTITIONS={v:?} is not a count")),
    }
}

/// True (after saying why on stderr) when the tests run on a cluster, for tests that only make
/// sense on one Redis server.
pub fn skip_on_cluster(why: &str) -> bool {
    let skip = cluster_nodes().is_some();
    if skip {
        eprintln!("skipped on a Redis Cluster: {why}");
    }
    skip
}

/// The environment setting that points a server at the test Redis: `REDIS_CLUSTER_NODES` on a
/// cluster, else `REDIS_URL`.
pub fn redis_env() -> (&'static str, String) {
    match cluster_nodes() {
        Some(nodes) => ("REDIS_CLUSTER_NODES", nodes),
        None => ("REDIS_URL", redis_url()),
    }
}

/// Connection options for the test Redis (server or cluster).
pub fn redis_options() -> claudebench_runtime::redis::RedisOptions {
    use claudebench_runtime::redis::RedisOptions;
    match cluster_nodes() {
        Some(nodes) => RedisOptions::cluster(nodes.split(',').map(str::to_string).collect()),
        None => RedisOptions::new(redis_url()),
    }
}

/// A command connection to the test Redis (server or cluster).
pub async fn redis_conn() -> claudebench_runtime::redis::Conn {
    connect_redis(redis_options()).await
}

/// A command connection through `options`.
pub async fn connect_redis(options: claudebench_runtime::redis::RedisOptions) -> claudebench_runtime::redis::Conn {
    claudebench_runtime::redis::RedisHandle::connect(options).await.expect("Redis answers").conn()
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
    /// A server on the machine's Redis (or the test cluster, see [`redis_env`]) with SQLite in `data_dir`, a 1.5 s failure timeout,
    /// instance id `<name>-<prefix>` and `RUST_LOG=warn` (no colours); its stderr is discarded.
    pub fn new(name: &str, prefix: &str, data_dir: &Path) -> Self {
        let instance = format!("{name}-{prefix}");
        let env = [
            redis_env(),
            ("CLAUDEBENCH_KEY_PREFIX", prefix.to_string()),
            ("CLAUDEBENCH_DATA_DIR", data_dir.display().to_string()),
            ("CLAUDEBENCH_FAILURE_TIMEOUT_MS", "1500".to_string()),
            ("CLAUDEBENCH_PARTITIONS", test_partitions().to_string()),
            ("INSTANCE_ID", instance.clone()),
            ("RUST_LOG", "warn".to_string()),
            ("NO_COLOR", "1".to_string()),
        ];
        let env = env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Serve { name: name.to_string(), instance, env, log: None }
    }

    /// Sets (or replaces) one environment variable. `REDIS_URL` also drops the test cluster
    /// setting: such a server is meant for a Redis of its own, and both set is a start-up error.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        set_var(&mut self.env, key, value.into());
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
        let server = ServerProcess {
            child: start_serve(&self.env, self.log.as_deref(), port),
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

/// `claudebench serve --port <port>`, its stderr appended to `log`, killed when dropped.
/// Sets (or replaces) `key` in a server's environment; `REDIS_URL` also drops the test cluster
/// setting (both set is a start-up error).
fn set_var(env: &mut Vec<(String, String)>, key: &str, value: String) {
    env.retain(|(k, _)| k != key && !(key == "REDIS_URL" && k == "REDIS_CLUSTER_NODES"));
    env.push((key.to_string(), value));
}

fn start_serve(env: &[(String, String)], log: Option<&Path>, port: u16) -> Child {
    let stderr = match log {
        Some(path) => Stdio::from(
            std::fs::OpenOptions::new().create(true).append(true).open(path).expect("the server's log file"),
        ),
        None => Stdio::null(),
    };
    command_with_env(env)
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn claudebench serve")
}

/// `claudebench` with exactly `env` on top of this process's environment (minus `DATABASE_URL`,
/// so a server uses PostgreSQL only when told to, and minus the Redis settings, so the one in
/// `env` is the only one).
fn command_with_env(env: &[(String, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_claudebench"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_CLUSTER_NODES")
        .envs(env.iter().map(|(k, v)| (k, v)));
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

    /// Changes one environment variable for the next [`Self::kill_and_restart`] (e.g. a new
    /// `CLAUDEBENCH_TOKEN`, as when an operator rotates it).
    pub fn set_env(&mut self, key: &str, value: impl Into<String>) {
        set_var(&mut self.env, key, value.into());
    }

    /// SIGKILL, then the same server again on the same port (its clients see one address go
    /// away and come back); returns once it is ready.
    pub async fn kill_and_restart(&mut self) {
        self.child.kill().await.expect("kill -9 the server");
        let port: u16 = self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("the server's port");
        self.child = start_serve(&self.env, self.log.as_deref(), port);
        self.wait_ready().await;
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

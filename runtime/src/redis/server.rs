//! Finding a Redis server, or starting a private one so `claudebench serve` works on a bare
//! machine.
//!
//! A configured `REDIS_URL` is always used as is, and so is a configured Redis Cluster
//! (`REDIS_CLUSTER_NODES`: never probed or started here). Without either, the default address is probed;
//! when nothing answers there and `redis-server` is installed, a private child is started on a
//! free loopback port with persistence off (`--save "" --appendonly no`): it is a cache of the
//! durable SQL state, rebuilt by rehydration, and it dies with the process (`kill_on_drop`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use claudebench_contract::error::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::config::{DEFAULT_REDIS_URL, RuntimeConfig};

const DEFAULT_ADDR: &str = "127.0.0.1:6379";
const START_DEADLINE: Duration = Duration::from_secs(5);

/// The Redis server the runtime talks to.
#[derive(Debug)]
pub enum RedisServer {
    /// A server somebody else runs (configured, or found on the default address).
    External { url: String },
    /// A child process this runtime started; stopped when dropped.
    Private(PrivateRedis),
}

impl RedisServer {
    /// The URL to connect to.
    pub fn url(&self) -> String {
        match self {
            RedisServer::External { url } => url.clone(),
            RedisServer::Private(p) => p.url(),
        }
    }
}

/// Uses the configured Redis, or the default one if it answers, or starts a private
/// `redis-server`; fails with one actionable line when none of these is possible.
pub async fn ensure_server(config: &RuntimeConfig) -> Result<RedisServer, Error> {
    if config.is_cluster() {
        // The cluster client connects through `redis_cluster_nodes`; `url` is not used then.
        return Ok(RedisServer::External { url: config.effective_redis_url().to_string() });
    }
    if let Some(url) = &config.redis_url {
        return Ok(RedisServer::External { url: url.clone() });
    }
    if answers_ping(DEFAULT_ADDR, Duration::from_millis(500)).await {
        return Ok(RedisServer::External { url: DEFAULT_REDIS_URL.to_string() });
    }
    if find_redis_server().is_none() {
        return Err(Error::unavailable(format!(
            "no Redis answers at {DEFAULT_REDIS_URL} and redis-server is not installed: \
             install redis-server (e.g. `apt-get install redis-server`) or set REDIS_URL"
        )));
    }
    let private = PrivateRedis::start(None).await?;
    tracing::info!(url = %private.url(), pid = ?private.pid(), "started a private redis-server (no persistence; state is rehydrated from SQL)");
    Ok(RedisServer::Private(private))
}

/// A `redis-server` child on a loopback port.
#[derive(Debug)]
pub struct PrivateRedis {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts a server on `port` (or a free one) and waits until it answers PING.
    pub async fn start(port: Option<u16>) -> Result<Self, Error> {
        let binary = find_redis_server()
            .ok_or_else(|| Error::unavailable("redis-server is not installed (install it or set REDIS_URL)"))?;
        let port = match port {
            Some(p) => p,
            None => free_port().await?,
        };
        let mut server = PrivateRedis { binary, port, child: None };
        server.spawn().await?;
        Ok(server)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The child's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// Kills the server (as a crash would) and waits for it to exit.
    pub async fn stop(&mut self) -> Result<(), Error> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.map_err(|e| Error::internal(format!("cannot stop redis-server: {e}")))?;
        }
        Ok(())
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub async fn restart(&mut self) -> Result<(), Error> {
        self.stop().await?;
        self.spawn().await
    }

    async fn spawn(&mut self) -> Result<(), Error> {
        let mut child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::unavailable(format!("cannot start {}: {e}", self.binary.display())))?;
        let addr = format!("127.0.0.1:{}", self.port);
        let started = Instant::now();
        loop {
            if answers_ping(&addr, Duration::from_millis(200)).await {
                self.child = Some(child);
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(Error::unavailable(format!(
                    "redis-server exited at start ({status}); is port {} taken?",
                    self.port
                )));
            }
            if started.elapsed() > START_DEADLINE {
                // The child is killed when dropped here.
                return Err(Error::unavailable(format!(
                    "redis-server on port {} did not answer within {START_DEADLINE:?}",
                    self.port
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Whether something at `addr` answers an inline PING with `+PONG` within `deadline`.
async fn answers_ping(addr: &str, deadline: Duration) -> bool {
    let probe = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).await.ok()?;
        Some(buf[..n].starts_with(b"+PONG"))
    };
    matches!(tokio::time::timeout(deadline, probe).await, Ok(Some(true)))
}

/// A loopback port nobody listens on right now.
async fn free_port() -> Result<u16, Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| Error::internal(format!("cannot find a free port: {e}")))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| Error::internal(format!("cannot find a free port: {e}")))
}

/// `redis-server` on the `PATH`, if installed.
pub fn find_redis_server() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("redis-server")).find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

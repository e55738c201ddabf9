//! Connections to Redis — one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`) —
//! and the mapping of Redis failures onto the runtime's one error type.
//!
//! * [`RedisHandle::conn`]: the shared command connection, a [`Conn`]: on one server a redis
//!   `ConnectionManager` (multiplexed, reconnects in the background after a drop), on a cluster
//!   the cluster client's connection (multiplexed per node, follows MOVED/ASK, refreshes the
//!   slot map). Cheap to clone. Every command has a response deadline and reconnection gives up
//!   after a bounded number of attempts, so an outage surfaces as a fast `unavailable` error
//!   instead of a hung request.
//! * [`RedisHandle::pubsub`]: a fresh pub/sub connection (subscriptions cannot share the
//!   multiplexed one). On a cluster it is a plain connection to one reachable node: PUBLISH
//!   (also from a script) is broadcast over the cluster bus to every node, so any node hears
//!   every event.
//! * [`RedisHandle::blocking_connection`]: a dedicated connection for blocking reads
//!   (`XREADGROUP … BLOCK`), which would otherwise stall every request queued behind them.
//!
//! Scripts run on either: on a cluster SCRIPT LOAD goes to every node (so
//! [`crate::scripts::preload`] fills every master's cache) and EVALSHA to the node owning its
//! keys, where a NOSCRIPT is answered by loading and retrying like on one server.
//!
//! [`server`] finds or starts the Redis server itself (one server only: a cluster is always
//! somebody else's).

pub mod server;

use std::time::Duration;

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection, PubSub};
use ::redis::cluster::{ClusterClient, ClusterConfig};
use ::redis::cluster_async::ClusterConnection;
use ::redis::{
    AsyncConnectionConfig, Client, Cmd, ErrorKind, Pipeline, RedisError, RedisFuture, ServerErrorKind, Value,
};
use claudebench_contract::error::{Error, ErrorCode};

use crate::config::RuntimeConfig;

/// How to reach Redis and how long to wait for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisOptions {
    /// The one server, when `cluster_nodes` is empty.
    pub url: String,
    /// Seed nodes (`host:port`) of a Redis Cluster; non-empty selects the cluster client and
    /// `url` is not used.
    pub cluster_nodes: Vec<String>,
    /// A command without an answer after this fails with `unavailable`.
    pub response_timeout: Duration,
    /// One connection attempt gives up after this.
    pub connect_timeout: Duration,
    /// Reconnection attempts behind one failing request (each bounded by `connect_timeout`).
    pub reconnect_retries: usize,
}

impl RedisOptions {
    /// Options for `url` with the default deadlines (2 s response, 1 s connect, 1 retry).
    pub fn new(url: impl Into<String>) -> Self {
        RedisOptions {
            url: url.into(),
            cluster_nodes: Vec::new(),
            response_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            reconnect_retries: 1,
        }
    }

    /// Options for the cluster seeded by `nodes` (`host:port`), with the default deadlines.
    pub fn cluster(nodes: Vec<String>) -> Self {
        RedisOptions { cluster_nodes: nodes, ..RedisOptions::new(crate::config::DEFAULT_REDIS_URL) }
    }

    /// Options taken from the runtime configuration.
    pub fn from_config(config: &RuntimeConfig) -> Self {
        RedisOptions {
            url: config.effective_redis_url().to_string(),
            cluster_nodes: config.redis_cluster_nodes.clone(),
            response_timeout: config.redis_response_timeout,
            connect_timeout: config.redis_connect_timeout,
            reconnect_retries: 1,
        }
    }

    /// Whether these options select a cluster.
    pub fn is_cluster(&self) -> bool {
        !self.cluster_nodes.is_empty()
    }

    /// Where Redis is, for logs and errors (credentials redacted).
    pub fn describe(&self) -> String {
        if self.is_cluster() {
            format!("Redis Cluster {}", self.cluster_nodes.join(","))
        } else {
            format!("Redis at {}", redacted_url(&self.url))
        }
    }
}

/// A command connection to Redis, whichever kind it is: what [`RedisHandle::conn`] and
/// [`RedisHandle::blocking_connection`] return and what every function of the runtime and the
/// domain that talks to Redis takes. Clones share the underlying sockets.
#[derive(Clone)]
pub enum Conn {
    /// One server, through the reconnecting manager (the shared connection).
    Single(ConnectionManager),
    /// One server, a dedicated connection (blocking reads).
    Dedicated(MultiplexedConnection),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Single(_) => "Conn::Single",
            Conn::Dedicated(_) => "Conn::Dedicated",
            Conn::Cluster(_) => "Conn::Cluster",
        })
    }
}

impl Conn {
    /// Whether this connection talks to a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Dedicated(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Dedicated(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Dedicated(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// What a handle connects through.
#[derive(Clone)]
enum Target {
    Single(Client),
    /// The seed nodes' own clients, for pub/sub.
    Cluster {
        nodes: Vec<Client>,
    },
}

/// The runtime's access to Redis: a shared command connection plus factories for the
/// connections that cannot be shared.
#[derive(Clone)]
pub struct RedisHandle {
    target: Target,
    conn: Conn,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHandle").field("redis", &self.options.describe()).finish()
    }
}

impl RedisHandle {
    /// Connects (and waits for the first connection, so a wrong address fails here, fast).
    pub async fn connect(options: RedisOptions) -> Result<Self, Error> {
        if options.is_cluster() {
            return Self::connect_cluster(options).await;
        }
        let client = Client::open(options.url.as_str())
            .map_err(|e| Error::internal(format!("invalid REDIS_URL {}: {e}", redacted_url(&options.url))))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(options.response_timeout))
            .set_connection_timeout(Some(options.connect_timeout))
            .set_number_of_retries(options.reconnect_retries)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        // The initial connection gets one overall deadline too: the retry loop inside the
        // manager is bounded, but a black-holed address should not stall start-up for long.
        let deadline = options.connect_timeout * (options.reconnect_retries as u32 + 2);
        let manager = tokio::time::timeout(deadline, ConnectionManager::new_with_config(client.clone(), config))
            .await
            .map_err(|_| did_not_answer(&options, deadline))?
            .map_err(redis_error)?;
        Ok(RedisHandle { target: Target::Single(client), conn: Conn::Single(manager), options })
    }

    async fn connect_cluster(options: RedisOptions) -> Result<Self, Error> {
        let nodes = options
            .cluster_nodes
            .iter()
            .map(|node| {
                Client::open(format!("redis://{node}"))
                    .map_err(|e| Error::internal(format!("invalid REDIS_CLUSTER_NODES entry {node}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let client = cluster_client(&options, options.response_timeout)?;
        let deadline = options.connect_timeout * (options.reconnect_retries as u32 + 2);
        let conn = tokio::time::timeout(deadline, client.get_async_connection())
            .await
            .map_err(|_| did_not_answer(&options, deadline))?
            .map_err(redis_error)?;
        Ok(RedisHandle { target: Target::Cluster { nodes }, conn: Conn::Cluster(conn), options })
    }

    /// The shared command connection (clone it freely; clones share the sockets).
    pub fn conn(&self) -> Conn {
        self.conn.clone()
    }

    /// The options this handle was built with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// Whether this handle talks to a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster { .. })
    }

    /// A new pub/sub connection. On a cluster: to the first seed node that answers (every node
    /// receives every PUBLISH, so any one will do; after a loss the listener reconnects through
    /// here and so moves on to a node that still answers).
    pub async fn pubsub(&self) -> Result<PubSub, Error> {
        match &self.target {
            Target::Single(client) => self.pubsub_on(client).await,
            Target::Cluster { nodes, .. } => {
                let mut last = Error::unavailable("no Redis Cluster node to subscribe on");
                for client in nodes {
                    match self.pubsub_on(client).await {
                        Ok(pubsub) => return Ok(pubsub),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    async fn pubsub_on(&self, client: &Client) -> Result<PubSub, Error> {
        tokio::time::timeout(self.options.connect_timeout, client.get_async_pubsub())
            .await
            .map_err(|_| Error::unavailable("Redis pub/sub connection timed out"))?
            .map_err(redis_error)
    }

    /// A dedicated connection for blocking commands that block for at most `max_block`; its
    /// response deadline is `max_block` plus the usual response timeout, so a dead server is
    /// still noticed. On a cluster it is a cluster connection of its own.
    pub async fn blocking_connection(&self, max_block: Duration) -> Result<Conn, Error> {
        let response_timeout = max_block + self.options.response_timeout;
        match &self.target {
            Target::Single(client) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.options.connect_timeout))
                    .set_response_timeout(Some(response_timeout));
                client.get_multiplexed_async_connection_with_config(&config).await.map(Conn::Dedicated)
            }
            Target::Cluster { .. } => {
                let client = cluster_client(&self.options, response_timeout)?;
                let config = ClusterConfig::new()
                    .set_connection_timeout(self.options.connect_timeout)
                    .set_response_timeout(response_timeout);
                client.get_async_connection_with_config(config).await.map(Conn::Cluster)
            }
        }
        .map_err(redis_error)
    }

    /// PING through the shared connection (on a cluster, every master must answer).
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.conn();
        let _: String = ::redis::cmd("PING").query_async(&mut conn).await.map_err(redis_error)?;
        Ok(())
    }
}

/// The cluster client for `options`, answering within `response_timeout` per node. Retries
/// cover both reconnection and MOVED/ASK redirections (a resharding), so there are a couple more
/// than on one server; the overall deadline keeps the total bounded like the single-server
/// manager's retry loop.
fn cluster_client(options: &RedisOptions, response_timeout: Duration) -> Result<ClusterClient, Error> {
    let retries = options.reconnect_retries as u32 + 2;
    let overall = response_timeout + options.connect_timeout * (options.reconnect_retries as u32 + 1);
    ClusterClient::builder(options.cluster_nodes.iter().map(|n| format!("redis://{n}")))
        .connection_timeout(options.connect_timeout)
        .response_timeout(response_timeout)
        .overall_response_timeout(Some(overall))
        .retries(retries)
        .min_retry_wait(50)
        .max_retry_wait(500)
        .build()
        .map_err(|e| Error::internal(format!("invalid REDIS_CLUSTER_NODES {}: {e}", options.cluster_nodes.join(","))))
}

fn did_not_answer(options: &RedisOptions, deadline: Duration) -> Error {
    Error::unavailable(format!("{} did not answer within {deadline:?}", options.describe()))
}

/// Maps a Redis failure onto the runtime error: anything that means "Redis cannot be reached or
/// is not ready" is `unavailable` (retryable by the caller); everything else (a script error, a
/// wrong type, an unexpected reply) is `internal`.
pub fn redis_error(e: RedisError) -> Error {
    let unavailable = e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(ServerErrorKind::BusyLoading)
                | ErrorKind::Server(ServerErrorKind::TryAgain)
                | ErrorKind::Server(ServerErrorKind::ClusterDown)
                | ErrorKind::Server(ServerErrorKind::MasterDown)
                // Scripts lost again while being reloaded (scripts::Call::run retries first).
                | ErrorKind::Server(ServerErrorKind::NoScript)
        );
    let code = if unavailable { ErrorCode::Unavailable } else { ErrorCode::Internal };
    Error::new(code, format!("redis: {e}"))
}

/// `url` with any password replaced, for logs and errors.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((_credentials, host)) => format!("{scheme}://***@{host}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_logs() {
        assert_eq!(redacted_url("redis://user:secret@host:6379/0"), "redis://***@host:6379/0");
        assert_eq!(redacted_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn io_failures_are_unavailable_and_script_errors_internal() {
        let io = RedisError::from(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        assert_eq!(redis_error(io).code, ErrorCode::Unavailable);
        let script = RedisError::from((ErrorKind::Client, "bad reply"));
        assert_eq!(redis_error(script).code, ErrorCode::Internal);
    }
}

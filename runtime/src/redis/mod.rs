//! Connections to Redis, and the mapping of Redis failures onto the runtime's one error type.
//!
//! * [`RedisHandle::conn`]: the shared, multiplexed command connection (a redis
//!   `ConnectionManager`): cheap to clone, reconnects in the background after a drop.
//!   Every command has a response deadline and reconnection gives up after a bounded number of
//!   attempts, so an outage surfaces as a fast `unavailable` error instead of a hung request.
//! * [`RedisHandle::pubsub`]: a fresh pub/sub connection (subscriptions cannot share the
//!   multiplexed one).
//! * [`RedisHandle::blocking_connection`]: a dedicated connection for blocking reads
//!   (`XREADGROUP … BLOCK`), which would otherwise stall every request queued behind them.
//!
//! [`server`] finds or starts the Redis server itself.

pub mod server;

use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection, PubSub};
use ::redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError, ServerErrorKind};
use claudebench_contract::error::{Error, ErrorCode};

use crate::config::RuntimeConfig;

/// How to reach Redis and how long to wait for it.
#[derive(Debug, Clone, PartialEq)]
pub struct RedisOptions {
    pub url: String,
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
            response_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            reconnect_retries: 1,
        }
    }

    /// Options taken from the runtime configuration.
    pub fn from_config(config: &RuntimeConfig) -> Self {
        RedisOptions {
            url: config.effective_redis_url().to_string(),
            response_timeout: config.redis_response_timeout,
            connect_timeout: config.redis_connect_timeout,
            reconnect_retries: 1,
        }
    }
}

/// The runtime's access to one Redis server: a shared command connection plus factories for the
/// connections that cannot be shared.
#[derive(Clone)]
pub struct RedisHandle {
    client: Client,
    manager: ConnectionManager,
    options: RedisOptions,
}

impl std::fmt::Debug for RedisHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisHandle").field("url", &redacted_url(&self.options.url)).finish()
    }
}

impl RedisHandle {
    /// Connects (and waits for the first connection, so a wrong URL fails here, fast).
    pub async fn connect(options: RedisOptions) -> Result<Self, Error> {
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
            .map_err(|_| {
                Error::unavailable(format!(
                    "Redis at {} did not answer within {deadline:?}",
                    redacted_url(&options.url)
                ))
            })?
            .map_err(redis_error)?;
        Ok(RedisHandle { client, manager, options })
    }

    /// The shared multiplexed command connection (clone it freely; clones share one socket).
    pub fn conn(&self) -> ConnectionManager {
        self.manager.clone()
    }

    /// The options this handle was built with.
    pub fn options(&self) -> &RedisOptions {
        &self.options
    }

    /// A new pub/sub connection.
    pub async fn pubsub(&self) -> Result<PubSub, Error> {
        tokio::time::timeout(self.options.connect_timeout, self.client.get_async_pubsub())
            .await
            .map_err(|_| Error::unavailable("Redis pub/sub connection timed out"))?
            .map_err(redis_error)
    }

    /// A dedicated connection for blocking commands that block for at most `max_block`; its
    /// response deadline is `max_block` plus the usual response timeout, so a dead server is
    /// still noticed.
    pub async fn blocking_connection(&self, max_block: Duration) -> Result<MultiplexedConnection, Error> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.options.connect_timeout))
            .set_response_timeout(Some(max_block + self.options.response_timeout));
        self.client.get_multiplexed_async_connection_with_config(&config).await.map_err(redis_error)
    }

    /// PING through the shared connection.
    pub async fn ping(&self) -> Result<(), Error> {
        let mut conn = self.conn();
        let _: String = ::redis::cmd("PING").query_async(&mut conn).await.map_err(redis_error)?;
        Ok(())
    }
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

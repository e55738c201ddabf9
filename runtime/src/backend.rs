//! The one boundary between transports and the rest of the runtime.
//!
//! Every transport (REST, JSON-RPC, MCP, WebSocket, the hook bridge's server side) talks to a
//! [`Backend`] and nothing else: it resolves an event by name, hands over the raw request body,
//! and maps the one [`Error`] type to its wire format. Validation, limits, circuit breaking,
//! caching, the handler, publishing and persistence all happen behind `dispatch`.

use std::future::Future;
use std::pin::Pin;

use claudebench_contract::error::Error;
use claudebench_contract::event::EventDef;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::context::RequestMeta;

/// A boxed, sendable future (the trait is used as `Arc<dyn Backend>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request body, as the transport received it.
#[derive(Debug, Clone)]
pub enum Payload<'a> {
    /// Raw JSON bytes (HTTP bodies): validated without building a `Value` first.
    Bytes(&'a [u8]),
    /// An already-parsed value (JSON-RPC `params`, MCP `arguments`).
    Value(Value),
}

/// One published event, as live subscribers (WebSocket) receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusEvent {
    /// Stream entry id (`<ms>-<seq>`).
    pub id: String,
    /// e.g. `task.created`
    pub event: String,
    /// Milliseconds since the Unix epoch.
    pub ts: u64,
    pub payload: Value,
}

/// A live subscription: events arrive on a bounded channel; a consumer that falls behind is
/// disconnected (the channel closes) rather than buffered without bound.
pub type EventStream = tokio::sync::mpsc::Receiver<BusEvent>;

/// Readiness of the server and the state of its durability, for `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// Whether requests can be served now (HTTP 200 vs 503).
    pub ready: bool,
    /// `ok`; `degraded` (serving, but durability needs attention: SQL down or behind, dead
    /// letters waiting for review); `unavailable` (Redis down, or task state being recovered).
    pub status: HealthVerdict,
    pub redis: bool,
    pub database: bool,
    /// Task state is being recovered after Redis lost its data; task events answer
    /// `unavailable` meanwhile.
    #[serde(default)]
    pub recovering: bool,
    /// Outbox entries not yet in SQL, and the age of the oldest (ms).
    #[serde(default)]
    pub outbox_lag: i64,
    #[serde(default)]
    pub outbox_age_ms: i64,
    /// Dead letters waiting for review (`claudebench deadletter list`).
    #[serde(default)]
    pub dead_letters: i64,
    /// What makes the status less than `ok`, in words.
    #[serde(default)]
    pub problems: Vec<String>,
}

/// The one-word verdict of [`Readiness`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthVerdict {
    Ok,
    Degraded,
    Unavailable,
}

impl Readiness {
    /// The one rule behind `/health` (and `system.health`'s durability part): Redis down or
    /// task state being recovered is `unavailable`; SQL unreachable, an outbox backlog older
    /// than `degraded_after_ms`, or any dead letter is `degraded`.
    pub fn assess(redis: bool, database: bool, durability: crate::metrics::Durability, degraded_after_ms: u64) -> Self {
        let mut problems = Vec::new();
        if !redis {
            problems.push("Redis does not answer".to_string());
        }
        if durability.recovering {
            problems.push("task state is being recovered after Redis lost its data".to_string());
        }
        let unavailable = !problems.is_empty();
        if !database {
            problems.push("the SQL database does not answer; changes wait in the outbox".to_string());
        }
        if durability.outbox_age_ms > degraded_after_ms as i64 {
            problems.push(format!(
                "SQL is {} ms behind ({} outbox entries not yet written)",
                durability.outbox_age_ms, durability.outbox_lag
            ));
        }
        if durability.dead_letters > 0 {
            problems.push(format!(
                "{} outbox entries could not be written to SQL (claudebench deadletter list)",
                durability.dead_letters
            ));
        }
        let status = if unavailable {
            HealthVerdict::Unavailable
        } else if problems.is_empty() {
            HealthVerdict::Ok
        } else {
            HealthVerdict::Degraded
        };
        Readiness {
            ready: !unavailable,
            status,
            redis,
            database,
            recovering: durability.recovering,
            outbox_lag: durability.outbox_lag,
            outbox_age_ms: durability.outbox_age_ms,
            dead_letters: durability.dead_letters,
            problems,
        }
    }
}

/// What transports need from the runtime.
pub trait Backend: Send + Sync + 'static {
    /// Every event, sorted by name.
    fn events(&self) -> &'static [EventDef];

    /// The event with this name or alias (e.g. `system.batch.process` → `system.batch_process`).
    fn resolve(&self, name: &str) -> Option<&'static EventDef>;

    /// Run one event through the whole pipeline and return its (validated) output.
    fn dispatch<'a>(
        &'a self,
        event: &'static EventDef,
        input: Payload<'a>,
        meta: RequestMeta,
    ) -> BoxFuture<'a, Result<Value, Error>>;

    /// Subscribe to published events whose names match any of the glob patterns (`task.*`, `*`).
    fn subscribe<'a>(&'a self, patterns: &'a [String]) -> BoxFuture<'a, Result<EventStream, Error>>;

    /// Whether the server can serve requests now.
    fn readiness(&self) -> BoxFuture<'_, Readiness>;

    /// Prometheus text exposition of the runtime's metrics.
    fn metrics_text(&self) -> String;

    /// Where transports announce the endpoints they serve (`None`: nobody asks).
    fn serving(&self) -> Option<&crate::transport::serving::Serving> {
        None
    }

    /// The MCP tool sets the MCP transports list and accept (default: the default set).
    fn mcp_toolsets(&self) -> crate::config::McpToolsets {
        crate::config::McpToolsets::default()
    }

    /// The Claude Code hook table `POST /hooks/claude-code` serves (empty: every hook is
    /// recorded nowhere and answered with a hook error).
    fn hook_routes(&self) -> &'static [claudebench_contract::hook::HookRoute] {
        &[]
    }
}

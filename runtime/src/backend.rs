//! The one boundary between transports and the rest of the runtime.
//!
//! Every transport (REST, JSON-RPC, MCP, WebSocket, the hook bridge's server side) talks to a
//! [`Backend`] and nothing else: it resolves an event by name, hands over the raw request body,
//! and maps the one [`Error`] type to its wire format. Validation, limits, circuit breaking,
//! caching, the handler, publishing and persistence all happen behind `dispatch`.

use std::future::Future;
use std::pin::Pin;

use claudebench_generated::error::Error;
use claudebench_generated::event::EventDef;
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

/// Readiness of the server's dependencies, for `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    pub ready: bool,
    pub redis: bool,
    pub database: bool,
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
}

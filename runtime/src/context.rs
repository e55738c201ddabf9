//! What a handler and the pipeline know about the request being served.

/// The transport a request arrived on (for logs, metrics and caller identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Http,
    JsonRpc,
    Mcp,
    WebSocket,
    Hook,
    /// A handler calling another event (e.g. `hook.todo_write` creating tasks).
    Internal,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::JsonRpc => "jsonrpc",
            Transport::Mcp => "mcp",
            Transport::WebSocket => "websocket",
            Transport::Hook => "hook",
            Transport::Internal => "internal",
        }
    }
}

/// Who is calling, as the transport knows it. Rate limits are kept per event and per caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub transport: Transport,
    /// The `X-Client-Id` header: the caller's own name for itself, shared by all its connections.
    pub client_id: Option<String>,
    /// The MCP session, JSON-RPC `metadata.sessionId`, or the Claude Code session of a hook: the
    /// session handlers act for. Not an identity for rate limits (a request body can name any).
    pub session_id: Option<String>,
    /// JSON-RPC `metadata.correlationId`, echoed in logs.
    pub correlation_id: Option<String>,
    /// Roles the caller holds (checked against the event's `roles`).
    pub roles: Vec<String>,
    /// The connection, `ip:port`, when known: the identity of a caller that sends no
    /// `X-Client-Id` (so two local programs are two callers, not one per host).
    pub peer: Option<String>,
}

impl RequestMeta {
    /// A request with no identity yet.
    pub fn new(transport: Transport) -> Self {
        RequestMeta {
            transport,
            client_id: None,
            session_id: None,
            correlation_id: None,
            roles: Vec::new(),
            peer: None,
        }
    }

    /// The identity rate limits are counted against, as the transport knows it: the client id,
    /// else the connection, else (stdio, in-process calls) the session, else the transport. A
    /// fairness tool, not authentication: any caller may name itself.
    pub fn caller_key(&self) -> String {
        match (&self.client_id, &self.peer, &self.session_id) {
            (Some(c), _, _) => format!("client:{c}"),
            (None, Some(p), _) => format!("peer:{p}"),
            (None, None, Some(s)) => format!("session:{s}"),
            (None, None, None) => format!("anonymous:{}", self.transport.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_identity_prefers_the_client_then_the_connection_then_the_session() {
        let mut m = RequestMeta::new(Transport::Http);
        assert_eq!(m.caller_key(), "anonymous:http");
        m.session_id = Some("s1".into());
        assert_eq!(m.caller_key(), "session:s1");
        m.peer = Some("127.0.0.1:40000".into());
        assert_eq!(m.caller_key(), "peer:127.0.0.1:40000", "a session named in a body is not a caller");
        m.client_id = Some("c1".into());
        assert_eq!(m.caller_key(), "client:c1");
    }
}

/// The runtime's shared services of one server process (the domain builds on them; handlers see
/// them only through the domain).
pub struct Services {
    /// This process's instance id (registered at start, unregistered on clean shutdown).
    pub instance_id: String,
    pub config: crate::config::RuntimeConfig,
    pub keys: crate::keys::Keys,
    pub redis: crate::redis::RedisHandle,
    pub bus: crate::bus::EventBus,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// The SQL store (for health checks); `None` when persistence is disabled.
    pub store: Option<crate::persist::SqlStore>,
    /// The event table, for `system.discover`.
    pub events: &'static [claudebench_contract::event::EventDef],
    pub started: std::time::Instant,
    /// The endpoints transports serve for this node (`system.health` reports MCP from it).
    pub serving: crate::transport::serving::Serving,
}

/// Whether the services answer right now (see [`Services::probe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub redis: bool,
    /// `None` when no SQL store is configured.
    pub sql: Option<bool>,
}

impl Services {
    /// Ping Redis and the SQL store concurrently, each within `timeout`, so a hanging service
    /// cannot hold a health answer up: what does not answer in time counts as down. The one
    /// probe behind `GET /health` and `system.health`.
    pub async fn probe(&self, timeout: std::time::Duration) -> Probe {
        let answered = |r: Result<Result<(), claudebench_contract::error::Error>, tokio::time::error::Elapsed>| {
            matches!(r, Ok(Ok(())))
        };
        let redis = async { answered(tokio::time::timeout(timeout, self.redis.ping()).await) };
        let sql = async {
            match &self.store {
                Some(store) => Some(answered(tokio::time::timeout(timeout, store.ping()).await)),
                None => None,
            }
        };
        let (redis, sql) = tokio::join!(redis, sql);
        Probe { redis, sql }
    }
}

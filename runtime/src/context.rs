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
    /// `X-Client-Id` header or JSON-RPC `metadata.clientId`.
    pub client_id: Option<String>,
    /// JSON-RPC `metadata.sessionId`, the MCP session, or the Claude Code session of a hook.
    pub session_id: Option<String>,
    /// JSON-RPC `metadata.correlationId`, echoed in logs.
    pub correlation_id: Option<String>,
    /// Roles the caller holds (checked against the event's `roles`).
    pub roles: Vec<String>,
    /// Network peer, when known (the last-resort rate-limit identity).
    pub peer: Option<String>,
}

impl RequestMeta {
    /// A request with no identity yet.
    pub fn new(transport: Transport) -> Self {
        RequestMeta { transport, client_id: None, session_id: None, correlation_id: None, roles: Vec::new(), peer: None }
    }

    /// The identity rate limits are counted against: client id, else session, else peer address.
    pub fn caller_key(&self) -> String {
        match (&self.client_id, &self.session_id, &self.peer) {
            (Some(c), _, _) => format!("client:{c}"),
            (None, Some(s), _) => format!("session:{s}"),
            (None, None, Some(p)) => format!("peer:{p}"),
            (None, None, None) => format!("anonymous:{}", self.transport.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_identity_prefers_the_client_then_the_session_then_the_peer() {
        let mut m = RequestMeta::new(Transport::Http);
        assert_eq!(m.caller_key(), "anonymous:http");
        m.peer = Some("127.0.0.1".into());
        assert_eq!(m.caller_key(), "peer:127.0.0.1");
        m.session_id = Some("s1".into());
        assert_eq!(m.caller_key(), "session:s1");
        m.client_id = Some("c1".into());
        assert_eq!(m.caller_key(), "client:c1");
    }
}

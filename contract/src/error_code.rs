//! Stable error codes and how every transport reports them.

use serde::{Deserialize, Serialize};

/// Stable error codes, shared by HTTP, JSON-RPC, MCP and WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request failed validation; `issues` lists every problem.
    Validation,
    /// No or a wrong bearer token.
    Unauthorized,
    /// The caller's role may not invoke this event.
    Forbidden,
    /// The entity the request names does not exist.
    NotFound,
    /// The request conflicts with current state (already assigned, already completed, …).
    Conflict,
    /// Too many calls for this event and caller in the current window.
    RateLimited,
    /// The event's circuit breaker is open and it has no fallback.
    CircuitOpen,
    /// The handler did not finish within its deadline (and was cancelled).
    Timeout,
    /// A dependency (Redis, SQL) is unreachable; retry later.
    Unavailable,
    /// A bug or an unexpected failure.
    Internal,
}

impl ErrorCode {
    /// Every code, in documentation order.
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::Validation,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::CircuitOpen,
        ErrorCode::Timeout,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ];

    /// The wire string, e.g. `rate_limited`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "validation",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::CircuitOpen => "circuit_open",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status the REST transport answers with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::Validation => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::CircuitOpen | ErrorCode::Unavailable => 503,
            ErrorCode::Timeout => 504,
        }
    }

    /// The JSON-RPC 2.0 error code. Validation is the standard -32602 (invalid params) and
    /// internal the standard -32603; the rest use the implementation range -32000..-32099. The
    /// first four (-32000..-32003) keep the numbers ClaudeBench clients already handle.
    pub const fn jsonrpc_code(self) -> i64 {
        match self {
            ErrorCode::Validation => -32602,
            ErrorCode::RateLimited => -32000,
            ErrorCode::CircuitOpen => -32001,
            ErrorCode::Unauthorized => -32002,
            ErrorCode::Forbidden => -32003,
            ErrorCode::Timeout => -32004,
            ErrorCode::NotFound => -32005,
            ErrorCode::Conflict => -32006,
            ErrorCode::Unavailable => -32007,
            ErrorCode::Internal => -32603,
        }
    }
    /// What the code means, for documentation (OpenAPI, MCP, `EVENTS.md`).
    pub const fn meaning(self) -> &'static str {
        match self {
            ErrorCode::Validation => "The request failed validation; `issues` lists every problem.",
            ErrorCode::Unauthorized => "No or a wrong bearer token.",
            ErrorCode::Forbidden => "The caller's role may not invoke this event.",
            ErrorCode::NotFound => "The entity the request names does not exist.",
            ErrorCode::Conflict => "The request conflicts with current state.",
            ErrorCode::RateLimited => "Too many calls for this event and caller in the current window.",
            ErrorCode::CircuitOpen => "The event's circuit breaker is open and it has no fallback.",
            ErrorCode::Timeout => "The handler did not finish within its deadline (and was cancelled).",
            ErrorCode::Unavailable => "A dependency (Redis, SQL) is unreachable; retry later.",
            ErrorCode::Internal => "A bug or an unexpected failure.",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

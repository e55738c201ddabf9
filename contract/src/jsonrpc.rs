//! JSON-RPC 2.0 protocol errors: what `/rpc` (and JSON-RPC over `/ws` and MCP) answers before any
//! event runs. They carry no error model as `data`; errors of an event use
//! [`ErrorCode::jsonrpc_code`](crate::ErrorCode::jsonrpc_code).

/// The body is not JSON.
pub const PARSE_ERROR: i64 = -32700;
/// Not a JSON-RPC 2.0 envelope (or an empty batch).
pub const INVALID_REQUEST: i64 = -32600;
/// No event has this name or alias.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Server-defined: not run, because the batch is longer than the server takes or its answer is
/// already full.
pub const NOT_RUN_TOO_LARGE: i64 = -32010;
/// Server-defined: the request ran, but its answer does not fit in the response limit.
pub const ANSWER_TOO_LARGE: i64 = -32011;

/// Whether JSON-RPC 2.0 reserves `method` for the protocol itself ("Method names that begin with
/// `rpc.` are reserved"): no event or alias may take such a name.
pub fn is_reserved_method(method: &str) -> bool {
    method.starts_with("rpc.")
}

/// Every protocol error with its meaning, for documentation.
pub const PROTOCOL_ERRORS: [(i64, &str); 5] = [
    (PARSE_ERROR, "Parse error: the body is not JSON."),
    (INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 envelope (or an empty batch)."),
    (METHOD_NOT_FOUND, "Method not found: no event has this name or alias."),
    (
        NOT_RUN_TOO_LARGE,
        "Not run, too large: the batch is longer than the server takes, or the batch's answer reached the response limit before this request started.",
    ),
    (ANSWER_TOO_LARGE, "Answer too large: the request ran, but its answer does not fit in the response limit."),
];

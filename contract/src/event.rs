//! The static event table's row type: everything the runtime needs to know about one event,
//! generated from the spec (see `spec/README.md` for the meaning of each field).

/// One event of the spec, as the runtime dispatches it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventDef {
    /// `domain.action`
    pub name: &'static str,
    pub domain: &'static str,
    pub action: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// State changes go through the outbox into SQL.
    pub persist: bool,
    /// The event changes state (never cached).
    pub mutates: bool,
    /// A test fixture: served only with `CLAUDEBENCH_TEST_EVENTS=1`, absent from the published
    /// OpenAPI document and MCP manifest.
    pub test_only: bool,
    /// Caller roles allowed; empty = anyone.
    pub roles: &'static [&'static str],
    pub rate_limit: Option<RateLimit>,
    pub timeout_ms: u64,
    pub circuit_breaker: Option<CircuitBreakerDef>,
    /// Answers may be cached this long (only on events that do not mutate).
    pub cache_ttl_s: Option<u64>,
    /// MCP exposure; `None` when the event is not an MCP tool.
    pub mcp: Option<McpDef>,
    /// Older names transports accept for this event.
    pub aliases: &'static [&'static str],
    pub deprecated: bool,
    pub replaced_by: Option<&'static str>,
    /// Notifications the event puts on the event bus, e.g. `task.created`: each the name of a
    /// stream (`<prefix>:stream:<name>`), never the name of an event.
    pub publishes: &'static [&'static str],
    /// `POST` route of the REST transport, e.g. `/task/create`.
    pub http_path: &'static str,
    /// JSON Schema (2020-12, references inlined) of the input.
    pub input_schema: &'static str,
    /// JSON Schema (2020-12, references inlined) of the output.
    pub output_schema: &'static str,
}

/// Per event and per caller: a burst of `count` calls, then `count` per `window_ms` (GCRA; the
/// exact promise is in `runtime/src/resilience/rate_limit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u64,
    pub window_ms: u64,
}

/// Circuit breaker settings of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerDef {
    pub threshold: u32,
    pub open_ms: u64,
    pub half_open_probes: u32,
    /// The fallback output as JSON (valid against the output schema); `None` = `circuit_open` error.
    pub fallback: Option<&'static str>,
}

/// The tool set of an event whose spec names none (`mcp.toolset`), and the only set an MCP
/// transport lists unless `CLAUDEBENCH_MCP_TOOLSETS` says otherwise.
pub const DEFAULT_TOOLSET: &str = "core";

/// MCP tool settings of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpDef {
    /// `domain__action`
    pub tool_name: &'static str,
    /// The tool set (`mcp.toolset`): a lowercase identifier, [`DEFAULT_TOOLSET`] unless named.
    pub toolset: &'static str,
    /// The description written for a model (`mcp.description`; deprecated events say so first).
    pub description: &'static str,
    /// The input schema as MCP lists it: the event's, without `examples`.
    pub input_schema: &'static str,
    /// The output schema as MCP lists it: the event's structure without `description`s and
    /// `examples` (clients validate `structuredContent` against it; models read the input's).
    pub output_schema: &'static str,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

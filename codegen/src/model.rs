//! The resolved, checked model of a spec: what every emitter reads.
//!
//! Nothing here knows about YAML. The front end (`parse` + `check`) builds a [`Spec`] only when
//! the spec has no errors, so emitters may rely on every invariant documented below without
//! re-checking it (they never panic on a valid model, and never see an invalid one).

use serde_json::Value;

/// A whole, valid spec: shared definitions plus events, both sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Shared named schemas (`Task`, `Instance`, …), sorted by name. Referenced by
    /// [`SchemaKind::Ref`]; every reference resolves.
    pub definitions: Vec<Definition>,
    /// Every event, sorted by name (`domain.action`). Names are unique.
    pub events: Vec<Event>,
}

impl Spec {
    /// The definition with this name. Every `Ref` in a valid spec resolves.
    pub fn definition(&self, name: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.name == name)
    }

    /// The event with this name.
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.name.full == name)
    }

    /// Domains in first-seen (= sorted) order, each once.
    /// The spec as published to clients (OpenAPI, MCP manifest, reference): without test-only
    /// events, which a production server does not serve.
    pub fn published(&self) -> std::borrow::Cow<'_, Spec> {
        if self.events.iter().all(|e| !e.config.test_only) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut published = self.clone();
        published.events.retain(|e| !e.config.test_only);
        std::borrow::Cow::Owned(published)
    }

    pub fn domains(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.events {
            if out.last() != Some(&e.name.domain.as_str()) {
                out.push(&e.name.domain);
            }
        }
        out
    }
}

/// Where something was declared, for docs and for diagnostics that point back at the spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// Path as given to the loader, e.g. `spec/task.yaml`.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A named schema declared once under `definitions:` and referenced with `ref: Name`.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// PascalCase name, unique across the spec; also the Rust type name.
    pub name: String,
    pub schema: Schema,
    pub origin: Origin,
}

/// `domain.action`, both parts matching `[a-z][a-z0-9_]*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventName {
    pub domain: String,
    pub action: String,
    /// `domain.action`
    pub full: String,
}

impl EventName {
    /// Build from a name already known to be valid.
    pub fn new(domain: &str, action: &str) -> Self {
        EventName { domain: domain.into(), action: action.into(), full: format!("{domain}.{action}") }
    }
    /// PascalCase stem for Rust items: `task.create` → `TaskCreate`, `hook.pre_tool` → `HookPreTool`.
    pub fn pascal(&self) -> String {
        format!("{}{}", pascal_case(&self.domain), pascal_case(&self.action))
    }
    /// MCP tool name: `task__create` (portable: `^[a-zA-Z0-9_-]{1,64}$`).
    pub fn mcp_tool(&self) -> String {
        format!("{}__{}", self.domain, self.action)
    }
    /// HTTP route: `POST /task/create`.
    pub fn http_path(&self) -> String {
        format!("/{}/{}", self.domain, self.action)
    }
    /// OpenAPI operationId: `task_create`.
    pub fn operation_id(&self) -> String {
        format!("{}_{}", self.domain, self.action)
    }
    /// Names of the generated input and output types, which are also their OpenAPI components:
    /// `TaskCreateInput`, `TaskCreateOutput`. No definition may take one (checked).
    pub fn io_type_names(&self) -> (String, String) {
        let stem = self.pascal();
        (format!("{stem}Input"), format!("{stem}Output"))
    }
}

/// Schema names every generated API document defines besides the spec's definitions and the
/// events' input/output types: the error model, the JSON-RPC envelope and Claude Code's hook
/// input and output. A definition with one
/// of these names would be overwritten in the document, so the checker refuses it and the OpenAPI
/// emitter defines no other.
pub const RESERVED_COMPONENTS: [&str; 10] = [
    "Error",
    "ErrorDetail",
    "Issue",
    "JsonRpcRequest",
    "JsonRpcSuccess",
    "JsonRpcFailure",
    "JsonRpcError",
    "JsonRpcResponse",
    "ClaudeCodeHookInput",
    "ClaudeCodeHookOutput",
];

/// One event of the spec: its schemas and how the runtime must treat it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: EventName,
    /// Short human title (defaults to a title-cased name when the spec has none).
    pub title: String,
    pub description: String,
    /// Root is always [`SchemaKind::Object`] (or a `Ref` to an object definition).
    pub input: Schema,
    /// Root is always [`SchemaKind::Object`] (or a `Ref` to an object definition).
    pub output: Schema,
    pub config: HandlerConfig,
    /// Older names that transports accept as aliases (e.g. `system.batch.process`).
    pub aliases: Vec<String>,
    pub deprecated: bool,
    /// The event that replaces this one (forward-only evolution); exists in the spec.
    pub replaced_by: Option<String>,
    /// Notifications the event publishes on the event bus (`task.created`, `hook.post_tool.executed`):
    /// what happened, in their own namespace — each is a stream that subscribers and
    /// `system.get_state` read, never the name (or alias) of an event of the spec (checked).
    /// Dotted lowercase, unique within the list.
    pub publishes: Vec<String>,
    /// Example request/response pairs; each input validates against `input` and each output
    /// against `output` (checked).
    pub examples: Vec<Example>,
    /// The Claude Code hooks this event serves (`claude_code`: one route or a list).
    pub claude_code: Vec<HookRoute>,
    pub origin: Origin,
}

/// How Claude Code hooks reach an event (`claude_code`): which hooks, which of their calls, how
/// each input property is filled from the hook's input, and how the answer goes back.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRoute {
    /// PascalCase hook names, or `*` for every hook no other route serves.
    pub hooks: Vec<String>,
    /// `(field, value, negate)`: only calls whose top-level string `field` is (or is not) `value`.
    pub when: Option<(String, String, bool)>,
    /// Input property (wire name; `a.b` fills `b` inside the object property `a`) ← source, in
    /// spec order.
    pub fields: Vec<(String, HookSource)>,
    /// One of `claudebench_contract::hook::HookAnswer`'s names.
    pub answer: String,
}

/// Where one input property comes from (see `claudebench_contract::hook::HookSource`).
#[derive(Debug, Clone, PartialEq)]
pub enum HookSource {
    Paths { paths: Vec<String>, fallback: Option<Value> },
    Const(Value),
    Input,
}

/// One documented request/response pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub name: String,
    pub input: Value,
    pub output: Value,
}

/// Runtime policy for one event: declared in the spec, applied by the runtime around the handler.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerConfig {
    /// Durable: the runtime writes the state change through the outbox into SQL.
    pub persist: bool,
    /// The event changes state. Defaults to true; `persist` implies it. Events that change
    /// state are never cached and have `readOnlyHint: false`.
    pub mutates: bool,
    /// A fixture for tests (e.g. a handler that fails on demand): left out of the OpenAPI
    /// document, the MCP manifest and the reference, and served only when the server is started
    /// with `CLAUDEBENCH_TEST_EVENTS=1`.
    pub test_only: bool,
    /// Caller roles allowed to invoke the event; empty means anyone.
    pub roles: Vec<String>,
    pub rate_limit: Option<RateLimit>,
    /// Handler deadline; the handler is cancelled when it expires.
    pub timeout_ms: u64,
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Only on events with `mutates: false` (checked).
    pub cache_ttl_s: Option<u64>,
    pub mcp: McpConfig,
}

/// Per event and per caller: a burst of `count` calls, then `count` per `window_ms` (GCRA; the
/// exact promise is in `runtime/src/resilience/rate_limit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u64,
    pub window_ms: u64,
}

/// Consecutive-failure circuit breaker whose state is shared across instances.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    /// Consecutive failures that open the circuit.
    pub threshold: u32,
    /// How long the circuit stays open before half-open probes are let through.
    pub open_ms: u64,
    /// Probes allowed while half-open; that many successes close the circuit.
    pub half_open_probes: u32,
    pub fallback: Fallback,
}

/// What a caller gets while the circuit is open.
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// A `circuit_open` error.
    Error,
    /// This value, which validates against the event's output schema (checked).
    Value(Value),
}

/// MCP exposure and the tool annotations (hints for clients, never trusted for security).
#[derive(Debug, Clone, PartialEq)]
pub struct McpConfig {
    /// Listed by `tools/list` and callable through MCP.
    pub expose: bool,
    /// Defaults to `!mutates`.
    pub read_only: bool,
    /// Defaults to false.
    pub destructive: bool,
    /// Defaults to `!mutates`.
    pub idempotent: bool,
    /// Defaults to false: every event talks only to this server's state.
    pub open_world: bool,
    /// The tool set the tool belongs to (`mcp.toolset`, default [`DEFAULT_TOOLSET`]): a server
    /// lists only the sets it is told to (`CLAUDEBENCH_MCP_TOOLSETS`).
    pub toolset: String,
    /// `mcp.description`: what the tool does, when to use it and its key constraints, written
    /// for a model and short (at most [`MCP_DESCRIPTION_MAX`] characters). Required on exposed
    /// events of a parsed spec; a model built in code may leave it out, and the tool then
    /// carries the event's `description`.
    pub description: Option<String>,
}

/// The tool set of an exposed event without `mcp.toolset`, and the only one a server lists by
/// default.
pub const DEFAULT_TOOLSET: &str = claudebench_contract::event::DEFAULT_TOOLSET;

/// Longest `mcp.description`, in characters: every listed tool's description is in every
/// session's context.
pub const MCP_DESCRIPTION_MAX: usize = 300;

/// Longest tool set name.
pub const TOOLSET_NAME_MAX: usize = 32;

/// A schema node with the attributes every kind shares.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub kind: SchemaKind,
    /// `null` is accepted as well as the kind.
    pub nullable: bool,
    pub description: Option<String>,
    /// Filled in by validators when the key is absent; validates against this schema (checked).
    pub default: Option<Value>,
    /// Example values, each valid against this schema (checked).
    pub examples: Vec<Value>,
    pub origin: Origin,
}

impl Schema {
    /// A plain schema of this kind with no attributes (handy for tests and synthesised nodes).
    pub fn of(kind: SchemaKind) -> Self {
        Schema {
            kind,
            nullable: false,
            description: None,
            default: None,
            examples: Vec::new(),
            origin: Origin::default(),
        }
    }
}

/// The kinds of value a schema can describe.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaKind {
    String(StringRules),
    /// A whole number (JSON numbers with no fractional part, e.g. `3` or `3.0`), held as `i64`.
    /// Without an explicit bound, the safe-integer range ±(2^53−1) applies, as in Zod 4.
    Integer(NumberRules),
    /// Any finite JSON number, held as `f64`.
    Number(NumberRules),
    Boolean,
    /// One of these strings (non-empty, unique).
    Enum(Vec<String>),
    /// Any JSON value, including null.
    Any,
    Array(ArraySchema),
    /// An object with arbitrary keys whose values all match `values`.
    Record(Box<Schema>),
    Object(ObjectSchema),
    /// A reference to a definition by name (resolves).
    Ref(String),
    /// A discriminated union of objects, chosen by a string tag property.
    OneOf(Union),
}

/// Constraints of a string.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringRules {
    /// In Unicode scalar values (code points), as JSON Schema counts.
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    /// A regex (Rust `regex` syntax, a subset of ECMA-262), searched unanchored like JSON Schema.
    pub pattern: Option<String>,
    pub format: Option<Format>,
}

/// String formats the validators enforce: the wire contract's own, so the checker judges a
/// default or an example with the very function the server runs on a request.
pub use claudebench_contract::validation::Format;

/// Bounds of an integer or number. For integers the bounds are whole numbers (checked).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct NumberRules {
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
}

/// One bound; `exclusive` means the bound itself is not allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    pub value: f64,
    pub exclusive: bool,
}

/// An array and its item constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySchema {
    pub items: Box<Schema>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
}

/// What an object does with keys it does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKeys {
    /// An `unrecognized_keys` issue (default).
    #[default]
    Reject,
    /// Dropped silently.
    Strip,
    /// Kept and passed through.
    Allow,
}

/// An object with declared fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectSchema {
    /// In declaration order; wire names unique.
    pub fields: Vec<Field>,
    pub unknown_keys: UnknownKeys,
    /// Cross-field rules; every field they name exists in `fields` and is not required.
    pub rules: Vec<Rule>,
}

/// One property of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key on the wire (often camelCase), exactly as written in the spec.
    pub wire_name: String,
    /// snake_case Rust field name derived from the wire name (may need `r#` when emitted).
    pub rust_name: String,
    /// The key may be absent. A field with a default is never required on input; it is always
    /// present once validated (the default is filled), so emitters type it as non-optional.
    pub optional: bool,
    pub schema: Schema,
}

impl Field {
    /// The key must be present in the input (no `optional`, no default).
    pub fn required(&self) -> bool {
        !self.optional && self.schema.default.is_none()
    }
    /// The validated value may lack this field (optional without a default).
    pub fn may_be_absent(&self) -> bool {
        self.optional && self.schema.default.is_none()
    }
}

/// A rule that relates several fields of one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// At least one of these keys is present. Issue code `custom`, at `path` (a field name of
    /// this object) or at the object itself when `path` is `None`.
    AtLeastOneOf { fields: Vec<String>, message: String, path: Option<String> },
    /// At most one of these keys is present.
    MutuallyExclusive { fields: Vec<String>, message: String, path: Option<String> },
}

/// A discriminated union: the value of property `tag` picks the variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// The wire name of the discriminator property, e.g. `kind`.
    pub tag: String,
    /// Unique tag values, each with an object (or a `Ref` to an object definition) that does not
    /// itself declare the tag property.
    pub variants: Vec<Variant>,
}

/// One branch of a [`Union`].
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// The tag value on the wire, e.g. `"bash"`.
    pub tag_value: String,
    /// PascalCase Rust variant name derived from the tag value.
    pub rust_name: String,
    pub schema: Schema,
}

/// `snake_case` / `kebab-case` / `camelCase` → `PascalCase`.
pub fn pascal_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = true;
    for c in s.chars() {
        if c == '_' || c == '-' || c == '.' || c == ' ' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The prefix of a definition's generated constants (`TaskText` → `TASK_TEXT`, for
/// `TASK_TEXT_MAX_LENGTH`). Not injective (`HTTPCode` and `HTTPcode` share `HTTPCODE`), so the
/// checker refuses two definitions with the same prefix.
pub fn constant_prefix(definition: &str) -> String {
    snake_case(definition).to_uppercase()
}

/// `camelCase` / `kebab-case` → `snake_case` (`taskId` → `task_id`, `maxTasks` → `max_tasks`).
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower_or_digit = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower_or_digit {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower_or_digit = false;
        } else if c == '-' || c == '.' || c == ' ' {
            out.push('_');
            prev_lower_or_digit = false;
        } else {
            out.push(c);
            prev_lower_or_digit = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions_follow_wire_names() {
        assert_eq!(snake_case("taskId"), "task_id");
        assert_eq!(snake_case("maxTasks"), "max_tasks");
        assert_eq!(snake_case("activeForm"), "active_form");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(pascal_case("pre_tool"), "PreTool");
        assert_eq!(pascal_case("in_progress"), "InProgress");
        assert_eq!(EventName::new("hook", "pre_tool").pascal(), "HookPreTool");
        assert_eq!(EventName::new("task", "create").mcp_tool(), "task__create");
    }
}

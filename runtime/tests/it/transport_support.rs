//! An in-memory `Backend` for transport tests, and a server on an ephemeral port.
//!
//! The backend validates almost nothing: `test.echo` returns its input, or the error named by
//! its `fail` field (scripted errors); `task.create` requires a string `title` (one validation
//! rule, so the transports' handling of issues can be seen). Every dispatch is recorded with
//! its `RequestMeta`, and tests publish bus events by hand.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::event::{EventDef, McpDef};
use claudebench_generated::issue::{Issue, IssueCode};
use claudebench_runtime::backend::{Backend, BoxFuture, BusEvent, EventStream, Payload, Readiness};
use claudebench_runtime::config::McpToolsets;
use claudebench_runtime::context::RequestMeta;
use claudebench_runtime::transport::{self, TransportConfig};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const OBJECT: &str = r#"{"type":"object"}"#;

const fn event(name: &'static str, domain: &'static str, action: &'static str, http_path: &'static str) -> EventDef {
    EventDef {
        name,
        domain,
        action,
        title: name,
        description: "A test event.",
        persist: false,
        mutates: false,
        test_only: false,
        roles: &[],
        rate_limit: None,
        timeout_ms: 1000,
        circuit_breaker: None,
        cache_ttl_s: None,
        mcp: None,
        aliases: &[],
        deprecated: false,
        replaced_by: None,
        publishes: &[],
        http_path,
        input_schema: OBJECT,
        output_schema: OBJECT,
    }
}

const fn tool(tool_name: &'static str, read_only: bool) -> Option<McpDef> {
    tool_with(tool_name, read_only, OBJECT, OBJECT)
}

/// An MCP tool of the default set, listing `input` and `output` as its schemas.
const fn tool_with(
    tool_name: &'static str,
    read_only: bool,
    input_schema: &'static str,
    output_schema: &'static str,
) -> Option<McpDef> {
    Some(McpDef {
        tool_name,
        toolset: claudebench_generated::event::DEFAULT_TOOLSET,
        description: "A test tool.",
        input_schema,
        output_schema,
        read_only,
        destructive: false,
        idempotent: read_only,
        open_world: false,
    })
}

const CREATE_INPUT: &str = r#"{"type":"object","properties":{"title":{"type":"string","minLength":1}},"required":["title"],"additionalProperties":false}"#;
const CREATE_OUTPUT: &str = r#"{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}"#;

/// Sorted by name, like the generated table.
pub static EVENTS: [EventDef; 4] = [
    EventDef { aliases: &["hook.agent_stop"], ..event("hook.stop", "hook", "stop", "/hook/stop") },
    EventDef {
        mcp: tool_with("task__create", false, CREATE_INPUT, CREATE_OUTPUT),
        mutates: true,
        title: "Create a task",
        description: "Creates a task.",
        input_schema: CREATE_INPUT,
        output_schema: CREATE_OUTPUT,
        ..event("task.create", "task", "create", "/task/create")
    },
    EventDef { mcp: tool("test__echo", true), ..event("test.echo", "test", "echo", "/test/echo") },
    // An event whose output is not an object: its tool advertises no outputSchema.
    EventDef {
        mcp: tool_with("test__scalar", true, OBJECT, r#"{"type":"integer"}"#),
        output_schema: r#"{"type":"integer"}"#,
        ..event("test.scalar", "test", "scalar", "/test/scalar")
    },
];

/// Number of events with an MCP tool in [`EVENTS`].
pub const MCP_TOOLS: usize = 3;

pub struct TestBackend {
    events: &'static [EventDef],
    /// The MCP tool sets served (default: the default set).
    pub toolsets: Mutex<McpToolsets>,
    pub calls: Mutex<Vec<(String, Value, RequestMeta)>>,
    subscribers: Mutex<Vec<(Vec<String>, mpsc::Sender<BusEvent>)>>,
    pub not_ready: AtomicBool,
    /// Calls running now, and the most that ever ran at once.
    running: AtomicUsize,
    pub most_running: AtomicUsize,
}

impl TestBackend {
    pub fn new() -> Arc<Self> {
        Self::with_events(&EVENTS)
    }

    /// Over another event table (the generated one), echoing every input; MCP serves `toolsets`.
    pub fn with_toolsets(events: &'static [EventDef], toolsets: McpToolsets) -> Arc<Self> {
        let backend = Self::with_events(events);
        *backend.toolsets.lock().unwrap() = toolsets;
        backend
    }

    /// Over another event table (the generated one), echoing every input.
    pub fn with_events(events: &'static [EventDef]) -> Arc<Self> {
        Arc::new(TestBackend {
            events,
            toolsets: Mutex::new(McpToolsets::default()),
            calls: Mutex::default(),
            subscribers: Mutex::default(),
            not_ready: AtomicBool::new(false),
            running: AtomicUsize::new(0),
            most_running: AtomicUsize::new(0),
        })
    }

    /// The calls dispatched so far: (event name, input, meta).
    pub fn calls(&self) -> Vec<(String, Value, RequestMeta)> {
        self.calls.lock().unwrap().clone()
    }

    /// Deliver an event to every matching subscriber; a full subscriber is dropped, as the
    /// real bus does with consumers that fall behind.
    pub fn publish(&self, name: &str, payload: Value) {
        let event = BusEvent { id: "1-0".into(), event: name.into(), ts: 1_700_000_000_000, payload };
        self.subscribers.lock().unwrap().retain(|(patterns, tx)| {
            if !patterns.iter().any(|p| matches(p, name)) {
                return !tx.is_closed();
            }
            tx.try_send(event.clone()).is_ok()
        });
    }

    pub fn subscriber_count(&self) -> usize {
        self.subscribers.lock().unwrap().iter().filter(|(_, tx)| !tx.is_closed()).count()
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// The error a `fail` field asks for.
fn scripted_error(code: &str) -> Error {
    match code {
        "validation" => Error::validation(vec![Issue {
            path: "title".into(),
            code: IssueCode::Required,
            message: "Required".into(),
        }]),
        "rate_limited" => Error { retry_after_ms: Some(1500), ..Error::new(ErrorCode::RateLimited, "too many calls") },
        "circuit_open" => Error { retry_after_ms: Some(30_000), ..Error::new(ErrorCode::CircuitOpen, "circuit open") },
        "unauthorized" => Error::new(ErrorCode::Unauthorized, "who are you"),
        "forbidden" => Error::new(ErrorCode::Forbidden, "not for you"),
        "not_found" => Error::not_found("task t-404 not found"),
        "conflict" => Error::conflict("already assigned"),
        "timeout" => Error::new(ErrorCode::Timeout, "handler timed out"),
        "unavailable" => Error::unavailable("redis is down"),
        _ => Error::internal("boom"),
    }
}

impl Backend for TestBackend {
    fn events(&self) -> &'static [EventDef] {
        self.events
    }

    fn mcp_toolsets(&self) -> McpToolsets {
        self.toolsets.lock().unwrap().clone()
    }

    fn resolve(&self, name: &str) -> Option<&'static EventDef> {
        self.events.iter().find(|e| e.name == name || e.aliases.contains(&name))
    }

    fn dispatch<'a>(
        &'a self,
        event: &'static EventDef,
        input: Payload<'a>,
        meta: RequestMeta,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move {
            let input = match input {
                Payload::Bytes(bytes) => serde_json::from_slice(bytes).map_err(|e| {
                    Error::validation(vec![Issue {
                        path: String::new(),
                        code: IssueCode::InvalidType,
                        message: e.to_string(),
                    }])
                })?,
                Payload::Value(value) => value,
            };
            self.calls.lock().unwrap().push((event.name.to_string(), input.clone(), meta));
            if let Some(code) = input.get("fail").and_then(Value::as_str) {
                return Err(scripted_error(code));
            }
            if let Some(ms) = input.get("sleepMs").and_then(Value::as_u64) {
                let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_running.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                self.running.fetch_sub(1, Ordering::SeqCst);
            }
            // Over another table (the generated one) every event just echoes.
            let scripted = std::ptr::eq(self.events, &EVENTS[..]);
            match event.name {
                _ if !scripted => Ok(input),
                "task.create" => match input.get("title").and_then(Value::as_str) {
                    Some(title) if !title.is_empty() => Ok(json!({ "id": "t-1", "title": title })),
                    _ => Err(scripted_error("validation")),
                },
                "test.scalar" => Ok(json!(42)),
                _ => Ok(input),
            }
        })
    }

    fn subscribe<'a>(&'a self, patterns: &'a [String]) -> BoxFuture<'a, Result<EventStream, Error>> {
        Box::pin(async move {
            let (tx, rx) = mpsc::channel(8);
            self.subscribers.lock().unwrap().push((patterns.to_vec(), tx));
            Ok(rx)
        })
    }

    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        let ready = !self.not_ready.load(Ordering::Relaxed);
        Box::pin(async move { Readiness::assess(ready, true, Default::default(), 10_000) })
    }

    fn metrics_text(&self) -> String {
        "# TYPE claudebench_events_total counter\nclaudebench_events_total 3\n".into()
    }
}

/// A running server: its base URL (`http://127.0.0.1:<port>`) and the backend behind it.
pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub backend: Arc<TestBackend>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Start the transports over a fresh [`TestBackend`] on an ephemeral port.
pub async fn start(config: TransportConfig) -> TestServer {
    start_with(TestBackend::new(), config).await
}

/// Start the transports over this backend on an ephemeral port.
pub async fn start_with(backend: Arc<TestBackend>, mut config: TransportConfig) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    config.local_addr = Some(addr);
    let limits = config.connections;
    let app = transport::router(backend.clone(), config);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(transport::serve(listener, app, limits, async move {
        let _ = rx.await;
    }));
    TestServer { url: format!("http://{addr}"), addr, backend, shutdown: Some(tx) }
}

pub async fn start_default() -> TestServer {
    start(TransportConfig::default()).await
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

//! The ceiling: what `task.create` over HTTP requires and nothing more, to measure the real server
//! against (issue 13; `benches/load/redis_cost.sh` runs both side by side).
//!
//! One route, `POST /task/create`: the JSON body is validated by hand (`text` a string of 1..=500
//! characters, `priority` an optional integer 0..=100, default 50, `metadata` an optional object,
//! nothing else), then ONE `EVALSHA` of a Lua script allocates the id (`INCR`), stores the task
//! (`HSET` of its own key), queues it (`ZADD`, highest priority first, then oldest) and appends
//! `task.created` to a stream (`XADD … MAXLEN ~ 10000`), in one round trip. It answers the task's
//! JSON (the server's wire shape). No auth, rate limit, circuit breaker, pub/sub or persistence.
//!
//! ```text
//! cargo bench --bench ceiling -- --port 3900 --redis-url redis://127.0.0.1:6379 --prefix ceiling
//! ```
//! Flags or environment: `--port` / `CEILING_PORT` (default 3900), `--redis-url` / `REDIS_URL`
//! (default redis://127.0.0.1:6379), `--prefix` / `CEILING_PREFIX` (default `ceiling`); keys are
//! `{<prefix>}:…`. It serves until killed (Ctrl-C or SIGTERM).

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use claudebench_domain::coordination::{iso_millis, now_ms};
use redis::aio::ConnectionManager;
use serde_json::{Map, Value};

/// The same allocator as the server, so the comparison is of the work, not of malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// KEYS: 1 id counter, 2 pending queue, 3 the `task.created` stream.
/// ARGV: 1 task key prefix (the id is appended), 2 text, 3 priority, 4 now ISO, 5 metadata JSON
/// ('' for none), 6 the task JSON after its id (`,"text":…}`), 7 now ms.
/// Returns the numeric id; the caller builds the same JSON it sent.
const CREATE: &str = r#"
local n = redis.call('INCR', KEYS[1])
local id = 't-' .. n
local fields = { 'text', ARGV[2], 'status', 'pending', 'priority', ARGV[3], 'createdAt', ARGV[4], 'updatedAt', ARGV[4] }
if ARGV[5] ~= '' then
  fields[#fields + 1] = 'metadata'
  fields[#fields + 1] = ARGV[5]
end
redis.call('HSET', ARGV[1] .. id, unpack(fields))
redis.call('ZADD', KEYS[2], string.format('%.0f', (100 - tonumber(ARGV[3])) * 1e10 + n), id)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'event', 'task.created',
  'payload', '{"id":"' .. id .. '"' .. ARGV[6], 'ts', ARGV[7])
return n
"#;

#[derive(Clone)]
struct State {
    conn: ConnectionManager,
    script: redis::Script,
    keys: [String; 3],
    task_prefix: String,
}

struct Input {
    text: String,
    priority: i64,
    metadata: Option<Map<String, Value>>,
}

fn validate(body: &[u8]) -> Result<Input, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut object) = value else { return Err("the body must be an object".into()) };
    let text = match object.remove("text") {
        Some(Value::String(s)) if (1..=500).contains(&s.chars().count()) => s,
        Some(Value::String(_)) => return Err("text: 1 to 500 characters".into()),
        Some(_) => return Err("text: must be a string".into()),
        None => return Err("text: required".into()),
    };
    let priority = match object.remove("priority") {
        None => 50,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(p) if (0..=100).contains(&p) => p,
            _ => return Err("priority: an integer from 0 to 100".into()),
        },
        Some(_) => return Err("priority: must be an integer".into()),
    };
    let metadata = match object.remove("metadata") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("metadata: must be an object".into()),
    };
    if let Some(extra) = object.keys().next() {
        return Err(format!("unknown field {extra}"));
    }
    Ok(Input { text, priority, metadata })
}

fn bad_request(message: String) -> Response {
    let body = serde_json::json!({ "error": { "code": "invalid_input", "message": message } });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

async fn create(axum::extract::State(state): axum::extract::State<State>, body: Bytes) -> Response {
    let input = match validate(&body) {
        Ok(input) => input,
        Err(message) => return bad_request(message),
    };
    let (now_ms, now_iso) = now();
    let metadata = input.metadata.map(|m| Value::Object(m).to_string());
    // The task's JSON from `,"text"` on; the script and the answer prepend `{"id":"t-N"`.
    let mut tail = String::with_capacity(input.text.len() + 160);
    tail.push_str(",\"text\":");
    tail.push_str(&Value::String(input.text.clone()).to_string());
    tail.push_str(&format!(",\"status\":\"pending\",\"priority\":{},\"assignedTo\":null", input.priority));
    if let Some(m) = &metadata {
        tail.push_str(",\"metadata\":");
        tail.push_str(m);
    }
    tail.push_str(&format!(",\"createdAt\":\"{now_iso}\",\"updatedAt\":\"{now_iso}\"}}"));
    let mut conn = state.conn.clone();
    let result: redis::RedisResult<u64> = state
        .script
        .key(&state.keys[0])
        .key(&state.keys[1])
        .key(&state.keys[2])
        .arg(&state.task_prefix)
        .arg(&input.text)
        .arg(input.priority)
        .arg(&now_iso)
        .arg(metadata.as_deref().unwrap_or(""))
        .arg(&tail)
        .arg(now_ms)
        .invoke_async(&mut conn)
        .await;
    match result {
        Ok(n) => ([(header::CONTENT_TYPE, "application/json")], format!("{{\"id\":\"t-{n}\"{tail}")).into_response(),
        Err(e) => {
            let body = serde_json::json!({ "error": { "code": "unavailable", "message": e.to_string() } });
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
    }
}

/// Milliseconds since the epoch and the same instant in the wire's text form (the server's own
/// functions, from the contract crate).
fn now() -> (i64, String) {
    let ms = now_ms();
    (ms, iso_millis(ms))
}

struct Options {
    port: u16,
    redis_url: String,
    prefix: String,
}

fn options() -> Options {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut o = Options {
        port: env("CEILING_PORT").and_then(|p| p.parse().ok()).unwrap_or(3900),
        redis_url: env("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
        prefix: env("CEILING_PREFIX").unwrap_or_else(|| "ceiling".into()),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match arg.as_str() {
            "--port" => o.port = value("--port").parse().expect("--port: a port number"),
            "--redis-url" => o.redis_url = value("--redis-url"),
            "--prefix" => o.prefix = value("--prefix"),
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            other => panic!("unknown argument {other} (--port, --redis-url, --prefix)"),
        }
    }
    o
}

#[tokio::main]
async fn main() {
    let o = options();
    let client = redis::Client::open(o.redis_url.as_str()).expect("a valid Redis URL");
    let conn = client.get_connection_manager().await.expect("Redis answers");
    let tag = format!("{{{}}}", o.prefix);
    let state = State {
        conn,
        script: redis::Script::new(CREATE),
        keys: [format!("{tag}:tasks:seq"), format!("{tag}:tasks:pending"), format!("{tag}:stream:task.created")],
        task_prefix: format!("{tag}:task:"),
    };
    let app = Router::new().route("/task/create", post(create)).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", o.port)).await.expect("the port is free");
    eprintln!("ceiling: listening on 127.0.0.1:{} (Redis {}, keys {tag}:…)", o.port, o.redis_url);
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await.expect("serve");
}

//! The configuration file: `claudebench --config FILE` or `CLAUDEBENCH_CONFIG=FILE`.
//!
//! ```toml
//! [settings]                      # any setting of the environment, by the same name
//! CLAUDEBENCH_KEY_PREFIX = "team-a"
//! CLAUDEBENCH_RATE_LIMITS = "off" # every per-caller limit off (benchmarks, bulk loads)
//!
//! [events."task.complete"]        # per-event policy, replacing the spec's defaults
//! rate_limit = { count = 20000, window_ms = 60000 }   # or "off"
//! timeout_ms = 10000
//! circuit_breaker = { threshold = 10, open_ms = 5000, half_open_probes = 3 }   # or "off"
//! cache_ttl_s = 5                 # or "off"; only on events that do not change state
//! ```
//!
//! The environment wins over the file, so one deployment file can serve several processes.
//! Everything is checked at start, all at once: a wrong name or value is reported with
//! `file:line:column` and, for names, the closest known one. TOML (the `toml` crate) because
//! it keeps the position of every key and value, which those messages need.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use claudebench_contract::error::Error;
use claudebench_contract::event::{CircuitBreakerDef, EventDef, RateLimit};
use serde::Deserialize;
use toml::Spanned;

/// Every setting the environment (and so the `[settings]` table) knows, with its meaning.
pub const SETTINGS: &[(&str, &str)] = &[
    ("REDIS_URL", "the Redis every server instance shares"),
    ("REDIS_CLUSTER_NODES", "host:port,… of a Redis Cluster to use instead of REDIS_URL"),
    ("DATABASE_URL", "postgres://… for PostgreSQL; unset, a SQLite file in the data directory"),
    ("CLAUDEBENCH_DATA_DIR", "where the SQLite file lives"),
    ("CLAUDEBENCH_KEY_PREFIX", "prefix (and Cluster hash tag) of every key, channel and SQL row"),
    ("PORT", "where `serve` listens"),
    ("CLAUDEBENCH_BIND", "the address `serve` binds"),
    ("CLAUDEBENCH_TOKEN", "bearer token required on every route but /health"),
    ("CLAUDEBENCH_CORS_ORIGINS", "comma-separated browser origins allowed"),
    ("CLAUDEBENCH_ALLOWED_HOSTS", "Host names accepted besides the loopback ones (DNS-rebinding defence)"),
    (
        "CLAUDEBENCH_HEADER_TIMEOUT_MS",
        "a request head (or the next on a kept-alive connection) must arrive within this",
    ),
    ("CLAUDEBENCH_BODY_TIMEOUT_MS", "a request body must arrive within this of its head (else 408)"),
    ("CLAUDEBENCH_MAX_CONNECTIONS", "most HTTP connections served at once; more wait to be accepted"),
    ("CLAUDEBENCH_MAX_WEBSOCKETS", "most WebSockets open at once; more get 503"),
    ("CLAUDEBENCH_WS_IDLE_TIMEOUT_MS", "a WebSocket silent this long (no message, no pong) is closed"),
    ("CLAUDEBENCH_RPC_MAX_BATCH", "most requests in one JSON-RPC batch (longer → -32010, nothing run)"),
    ("CLAUDEBENCH_RPC_MAX_RESPONSE_BYTES", "most bytes of one JSON-RPC answer (past it → -32010 per request)"),
    ("INSTANCE_ID", "this server's instance id"),
    ("CLAUDEBENCH_FAILURE_TIMEOUT_MS", "silence after which an instance is declared failed"),
    ("CLAUDEBENCH_WORKER_CAPACITY", "most tasks auto-assignment gives one worker"),
    ("CLAUDEBENCH_PARTITIONS", "task partitions (hash slots) tasks are spread over, 1..=1024"),
    ("CLAUDEBENCH_TASK_RETENTION_S", "seconds a finished task stays in Redis once SQL holds it"),
    ("CLAUDEBENCH_HOOK_RULES", "YAML or JSON file replacing the hook.pre_tool rules"),
    ("CLAUDEBENCH_LEASE_TTL_S", "idle seconds after which a file lease lapses (1..=86400)"),
    ("CLAUDEBENCH_LEASE_CONFLICT", "`deny` or `ask`: the answer to an edit of a file another session leases"),
    ("CLAUDEBENCH_STREAM_MAXLEN", "approximate cap of every event stream"),
    ("CLAUDEBENCH_STREAM_RETENTION_S", "stream entries older than this are trimmed"),
    ("CLAUDEBENCH_OUTBOX_DEGRADED_MS", "/health says degraded past this SQL backlog age"),
    ("CLAUDEBENCH_RATE_LIMITS", "`off` switches every per-caller rate limit off"),
    ("CLAUDEBENCH_TEST_EVENTS", "`1` serves the spec's test-only events"),
    ("CLAUDEBENCH_MCP_TOOLSETS", "comma-separated MCP tool sets to list and accept (`all`: every set; default `core`)"),
    ("REDIS_RESPONSE_TIMEOUT_MS", "a Redis command without an answer fails after this"),
    ("REDIS_CONNECT_TIMEOUT_MS", "one Redis connection attempt gives up after this"),
    ("CLAUDEBENCH_URL", "server used by `claudebench hook` and `call`"),
    ("RUST_LOG", "log filter"),
];

/// One of the policies an event override may replace, or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting<T> {
    Off,
    On(T),
}

/// What the file says about one event; `None` keeps the spec's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventOverride {
    pub rate_limit: Option<Setting<RateLimit>>,
    pub timeout_ms: Option<u64>,
    /// Threshold, open time and half-open probes; the fallback stays the spec's.
    pub circuit_breaker: Option<Setting<(u32, u64, u32)>>,
    pub cache_ttl_s: Option<Setting<u64>>,
}

/// A checked configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// Environment settings, by name, as text.
    pub settings: BTreeMap<String, String>,
    /// Per-event policy, by event name.
    pub events: BTreeMap<String, EventOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: BTreeMap<Spanned<String>, Spanned<RawScalar>>,
    #[serde(default)]
    events: BTreeMap<Spanned<String>, Spanned<RawEvent>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawScalar {
    Text(String),
    Integer(i64),
    Flag(bool),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    rate_limit: Option<Spanned<OffOr<RawRateLimit>>>,
    timeout_ms: Option<Spanned<i64>>,
    circuit_breaker: Option<Spanned<OffOr<RawCircuit>>>,
    cache_ttl_s: Option<Spanned<OffOr<i64>>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OffOr<T> {
    Word(String),
    Value(T),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    count: i64,
    window_ms: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCircuit {
    threshold: i64,
    open_ms: i64,
    half_open_probes: Option<i64>,
}

/// Collects every problem of one file, each at its position.
struct Problems<'a> {
    path: &'a Path,
    text: &'a str,
    found: Vec<String>,
}

impl Problems<'_> {
    fn at(&mut self, span: std::ops::Range<usize>, message: impl std::fmt::Display) {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
        self.found.push(format!("{}:{line}:{column}: {message}", self.path.display()));
    }
}

impl ConfigFile {
    /// Reads and checks `path` against the event table `events`.
    pub fn load(path: &Path, events: &[EventDef]) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid(format!("cannot read the configuration file {}: {e}", path.display())))?;
        Self::parse(path, &text, events)
    }

    /// Checks `text` (the contents of `path`) against the event table `events`.
    pub fn parse(path: &Path, text: &str, events: &[EventDef]) -> Result<Self, Error> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let (line, column) = match e.span() {
                Some(span) => {
                    let before = &text[..span.start.min(text.len())];
                    (before.matches('\n').count() + 1, before.chars().rev().take_while(|c| *c != '\n').count() + 1)
                }
                None => (1, 1),
            };
            invalid(format!("{}:{line}:{column}: {}", path.display(), e.message()))
        })?;
        let mut problems = Problems { path, text, found: Vec::new() };
        let mut file = ConfigFile { path: path.to_path_buf(), ..ConfigFile::default() };

        let names: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
        for (name, value) in raw.settings {
            if !names.contains(&name.get_ref().as_str()) {
                let hint =
                    closest(name.get_ref(), &names).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default();
                problems.at(name.span(), format!("unknown setting `{}`{hint}", name.get_ref()));
                continue;
            }
            let text = match value.into_inner() {
                RawScalar::Text(s) => s,
                RawScalar::Integer(n) => n.to_string(),
                RawScalar::Flag(b) => b.to_string(),
            };
            file.settings.insert(name.into_inner(), text);
        }

        let event_names: Vec<&str> = events.iter().map(|e| e.name).collect();
        for (name, body) in raw.events {
            let Some(def) = events.iter().find(|e| e.name == name.get_ref()) else {
                let hint = closest(name.get_ref(), &event_names)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                problems.at(name.span(), format!("unknown event `{}`{hint}", name.get_ref()));
                continue;
            };
            let event = check_event(def, body.into_inner(), &mut problems);
            file.events.insert(name.into_inner(), event);
        }
        if problems.found.is_empty() { Ok(file) } else { Err(invalid(problems.found.join("\n"))) }
    }

    /// Puts every setting of the file into the process environment, unless the environment
    /// already has it. Call before any thread starts (the environment is process-wide).
    pub fn export_settings(&self) {
        for (name, value) in &self.settings {
            if std::env::var_os(name).is_none() {
                // SAFETY: called once at start-up, before the async runtime or any other thread
                // exists, so nothing reads the environment concurrently.
                unsafe { std::env::set_var(name, value) };
            }
        }
    }
}

fn check_event(def: &EventDef, raw: RawEvent, problems: &mut Problems<'_>) -> EventOverride {
    let rate_limit = raw.rate_limit.and_then(|v| {
        setting(problems, v, |problems, span, r| {
            // Both checked before either may fail: every mistake is reported at once.
            let count = in_range(problems, span.clone(), "count", r.count, i64::from(u32::MAX));
            let window_ms = in_range(problems, span, "window_ms", r.window_ms, 86_400_000);
            Some(RateLimit { count: count? as u64, window_ms: window_ms? as u64 })
        })
    });
    let timeout_ms = raw
        .timeout_ms
        .and_then(|v| in_range(problems, v.span(), "timeout_ms", *v.get_ref(), 3_600_000))
        .map(|n| n as u64);
    let circuit_breaker = raw.circuit_breaker.and_then(|v| {
        setting(problems, v, |problems, span, c| {
            let threshold = in_range(problems, span.clone(), "threshold", c.threshold, 1_000_000);
            let open = in_range(problems, span.clone(), "open_ms", c.open_ms, 86_400_000);
            let probes = in_range(problems, span, "half_open_probes", c.half_open_probes.unwrap_or(3), 1_000);
            Some((threshold? as u32, open? as u64, probes? as u32))
        })
    });
    let cache_ttl_s = raw.cache_ttl_s.and_then(|v| {
        setting(problems, v, |problems, span, ttl| {
            if def.mutates {
                problems.at(span, format!("`{}` changes state, so its answers are never cached", def.name));
                return None;
            }
            in_range(problems, span, "cache_ttl_s", ttl, 86_400).map(|n| n as u64)
        })
    });
    EventOverride { rate_limit, timeout_ms, circuit_breaker, cache_ttl_s }
}

/// A policy that is a value (checked by `on`) or the word `"off"`; `None` after a mistake
/// (reported).
fn setting<T, U>(
    problems: &mut Problems<'_>,
    value: Spanned<OffOr<T>>,
    on: impl FnOnce(&mut Problems<'_>, std::ops::Range<usize>, T) -> Option<U>,
) -> Option<Setting<U>> {
    let span = value.span();
    match value.into_inner() {
        OffOr::Word(w) if w == "off" => Some(Setting::Off),
        OffOr::Word(w) => {
            problems.at(span, format!("expected a value or \"off\", got \"{w}\""));
            None
        }
        OffOr::Value(v) => on(problems, span, v).map(Setting::On),
    }
}

/// `n` when it lies in `1..=max`; otherwise reported.
fn in_range(problems: &mut Problems<'_>, span: std::ops::Range<usize>, what: &str, n: i64, max: i64) -> Option<i64> {
    if (1..=max).contains(&n) {
        Some(n)
    } else {
        problems.at(span, format!("`{what}` must be between 1 and {max}, got {n}"));
        None
    }
}

impl EventOverride {
    /// `def` with this override applied.
    pub fn apply(&self, mut def: EventDef) -> EventDef {
        match self.rate_limit {
            Some(Setting::Off) => def.rate_limit = None,
            Some(Setting::On(limit)) => def.rate_limit = Some(limit),
            None => {}
        }
        if let Some(ms) = self.timeout_ms {
            def.timeout_ms = ms;
        }
        match self.circuit_breaker {
            Some(Setting::Off) => def.circuit_breaker = None,
            Some(Setting::On((threshold, open_ms, half_open_probes))) => {
                let fallback = def.circuit_breaker.and_then(|cb| cb.fallback);
                def.circuit_breaker = Some(CircuitBreakerDef { threshold, open_ms, half_open_probes, fallback });
            }
            None => {}
        }
        match self.cache_ttl_s {
            Some(Setting::Off) => def.cache_ttl_s = None,
            Some(Setting::On(ttl)) => def.cache_ttl_s = Some(ttl),
            None => {}
        }
        def
    }
}

fn invalid(message: String) -> Error {
    Error::new(claudebench_contract::error::ErrorCode::Validation, message)
}

/// The known name closest to `name` (edit distance at most a third of its length), for
/// "did you mean" hints.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut previous = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let current = row[j + 1];
                row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(current + 1);
                previous = current;
            }
        }
        row[b.len()]
    };
    known
        .iter()
        .map(|k| (distance(&name.to_ascii_lowercase(), &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= name.chars().count().max(3) / 3)
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use claudebench_generated::events::EVENTS;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        ConfigFile::parse(Path::new("cb.toml"), text, &EVENTS).map_err(|e| e.message)
    }

    #[test]
    fn overrides_and_settings_are_read() {
        let file = parse(
            r#"
[settings]
CLAUDEBENCH_KEY_PREFIX = "team-a"
CLAUDEBENCH_STREAM_MAXLEN = 500

[events."task.complete"]
rate_limit = { count = 20000, window_ms = 60000 }
timeout_ms = 9000
circuit_breaker = "off"

[events."task.create"]
rate_limit = "off"

[events."task.get"]
cache_ttl_s = 5
"#,
        )
        .unwrap();
        assert_eq!(file.settings["CLAUDEBENCH_STREAM_MAXLEN"], "500");
        let complete = EVENTS.iter().find(|e| e.name == "task.complete").unwrap();
        let applied = file.events["task.complete"].apply(*complete);
        assert_eq!(applied.rate_limit, Some(RateLimit { count: 20_000, window_ms: 60_000 }));
        assert_eq!((applied.timeout_ms, applied.circuit_breaker), (9000, None));
        let create = EVENTS.iter().find(|e| e.name == "task.create").unwrap();
        assert_eq!(file.events["task.create"].apply(*create).rate_limit, None);
        assert_eq!(file.events["task.create"].apply(*create).timeout_ms, create.timeout_ms, "the rest is the spec's");
    }

    #[test]
    fn every_mistake_is_reported_at_its_line_with_a_suggestion() {
        let err = parse(
            r#"[settings]
CLAUDEBENCH_KEY_PREFX = "x"

[events."task.compelte"]
timeout_ms = 10

[events."task.create"]
rate_limit = { count = 0, window_ms = 1000 }
cache_ttl_s = 5
timeout_ms = -1
circuit_breaker = "sometimes"
"#,
        )
        .unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 6, "{err}");
        assert!(lines[0].starts_with("cb.toml:2:1: unknown setting `CLAUDEBENCH_KEY_PREFX`"), "{err}");
        assert!(lines[0].contains("did you mean `CLAUDEBENCH_KEY_PREFIX`"), "{err}");
        assert!(
            lines[1].starts_with("cb.toml:4:9: unknown event `task.compelte` (did you mean `task.complete`?)"),
            "{err}"
        );
        assert!(err.contains("cb.toml:8:14: `count` must be between 1"), "{err}");
        assert!(err.contains("`task.create` changes state, so its answers are never cached"), "{err}");
        assert!(err.contains("`timeout_ms` must be between 1 and 3600000, got -1"), "{err}");
        assert!(err.contains("expected a value or \"off\", got \"sometimes\""), "{err}");
    }

    #[test]
    fn syntax_errors_and_unknown_keys_have_positions_too() {
        let err = parse("[events.\"task.create\"]\nrate_limt = \"off\"\n").unwrap_err();
        assert!(err.starts_with("cb.toml:2:1:") && err.contains("rate_limt"), "{err}");
        let err = parse("[settings\n").unwrap_err();
        assert!(err.starts_with("cb.toml:1:"), "{err}");
    }
}

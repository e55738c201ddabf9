//! Runtime settings read from the environment, with defaults that work on a bare machine.
//!
//! Everything is read once at start-up through [`RuntimeConfig::from_env`]; tests build the
//! struct directly (or through [`RuntimeConfig::from_lookup`]) so they never touch process-wide
//! environment variables.

mod file;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use claudebench_contract::error::Error;
use claudebench_contract::event::{DEFAULT_TOOLSET, EventDef};

pub use file::{ConfigFile, EventOverride, SETTINGS, Setting};

/// The Redis URL used when `REDIS_URL` is not set.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Settings of the runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeConfig {
    /// `REDIS_URL`; `None` means "the default, and a private server may be started".
    pub redis_url: Option<String>,
    /// `REDIS_CLUSTER_NODES` (`host:port,host:port,…`): seed nodes of a Redis Cluster. Non-empty
    /// selects the cluster client instead of `REDIS_URL` (setting both is an error); the rest of
    /// the cluster is discovered from them.
    pub redis_cluster_nodes: Vec<String>,
    /// `CLAUDEBENCH_KEY_PREFIX` (default `cb`): the prefix of every key and channel.
    pub key_prefix: String,
    /// `DATABASE_URL`: `postgres://…` selects PostgreSQL; unset selects SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// `CLAUDEBENCH_DATA_DIR` (default `./data`): the SQLite file and a private Redis live here.
    pub data_dir: PathBuf,
    /// `REDIS_RESPONSE_TIMEOUT_MS` (default 2000): a command that gets no answer fails after this.
    pub redis_response_timeout: Duration,
    /// `REDIS_CONNECT_TIMEOUT_MS` (default 1000): one connection attempt gives up after this.
    pub redis_connect_timeout: Duration,
    /// `CLAUDEBENCH_STREAM_MAXLEN` (default 10000): approximate cap of every event stream.
    pub stream_maxlen: u64,
    /// `CLAUDEBENCH_STREAM_RETENTION_S` (default 86400): entries older than this are trimmed
    /// (outbox entries only once they are in SQL).
    pub stream_retention: Duration,
    /// `CLAUDEBENCH_OUTBOX_DEGRADED_MS` (default 10000): `/health` says `degraded` while the
    /// oldest change not yet in SQL is older than this.
    pub outbox_degraded_after: Duration,
    /// `CLAUDEBENCH_TEST_EVENTS` (`1`/`true`; default off): serve the spec's test-only events
    /// (`test_only: true`, e.g. `test.circuit`, which fails on demand). Off, they are neither
    /// served nor listed.
    pub test_events: bool,
    /// `CLAUDEBENCH_RATE_LIMITS` (`on`/`off`, default on): `off` switches every per-caller rate
    /// limit off (benchmarks, bulk loads).
    pub rate_limits: bool,
    /// `CLAUDEBENCH_MCP_TOOLSETS` (comma-separated tool set names, or `all`; default the default
    /// set): the tools the MCP transports list and accept. Names are checked against the event
    /// table with [`McpToolsets::check`].
    pub mcp_toolsets: McpToolsets,
}

/// The MCP tool sets a server lists and accepts (`CLAUDEBENCH_MCP_TOOLSETS`). Every exposed
/// event belongs to one set (the spec's `mcp.toolset`); REST and JSON-RPC serve every event
/// whatever the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpToolsets {
    /// `all`: every set.
    All,
    /// These sets, in the order given, without repeats.
    Sets(Vec<String>),
}

impl Default for McpToolsets {
    /// The default set only ([`DEFAULT_TOOLSET`]).
    fn default() -> Self {
        McpToolsets::Sets(vec![DEFAULT_TOOLSET.to_string()])
    }
}

impl McpToolsets {
    /// Reads a `CLAUDEBENCH_MCP_TOOLSETS` value: names separated by commas (blanks around them
    /// ignored, case-insensitive), or `all`. Nothing but blanks and commas is the default.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let mut sets: Vec<String> = Vec::new();
        for name in value.split(',').map(|n| n.trim().to_ascii_lowercase()).filter(|n| !n.is_empty()) {
            if name == "all" {
                return Ok(McpToolsets::All);
            }
            if !sets.contains(&name) {
                sets.push(name);
            }
        }
        Ok(if sets.is_empty() { McpToolsets::default() } else { McpToolsets::Sets(sets) })
    }

    /// Whether tools of `set` are listed and accepted.
    pub fn includes(&self, set: &str) -> bool {
        match self {
            McpToolsets::All => true,
            McpToolsets::Sets(sets) => sets.iter().any(|s| s == set),
        }
    }

    /// The sets of the event table's MCP tools, sorted, each once.
    pub fn known(events: &[EventDef]) -> Vec<&'static str> {
        let mut known: Vec<&'static str> = events.iter().filter_map(|e| e.mcp.map(|m| m.toolset)).collect();
        known.sort_unstable();
        known.dedup();
        known
    }

    /// Every named set must be a set of `events`; otherwise one line naming the unknown ones and
    /// the known ones, which stops the start.
    pub fn check(&self, events: &[EventDef]) -> Result<(), Error> {
        let McpToolsets::Sets(sets) = self else { return Ok(()) };
        let known = Self::known(events);
        let unknown: Vec<String> =
            sets.iter().filter(|s| !known.contains(&s.as_str())).map(|s| format!("`{s}`")).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let (noun, names) =
            if unknown.len() == 1 { ("tool set", unknown[0].clone()) } else { ("tool sets", unknown.join(", ")) };
        Err(invalid(format!(
            "CLAUDEBENCH_MCP_TOOLSETS names unknown {noun} {names}: the known sets are {} (or `all` for every set)",
            known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        )))
    }

    /// As `CLAUDEBENCH_MCP_TOOLSETS` would say it: `all` or `core,admin`.
    pub fn describe(&self) -> String {
        match self {
            McpToolsets::All => "all".to_string(),
            McpToolsets::Sets(sets) => sets.join(","),
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            redis_url: None,
            redis_cluster_nodes: Vec::new(),
            key_prefix: "cb".to_string(),
            database_url: None,
            data_dir: PathBuf::from("./data"),
            redis_response_timeout: Duration::from_millis(2000),
            redis_connect_timeout: Duration::from_millis(1000),
            stream_maxlen: 10_000,
            stream_retention: Duration::from_secs(86_400),
            outbox_degraded_after: Duration::from_millis(10_000),
            test_events: false,
            rate_limits: true,
            mcp_toolsets: McpToolsets::default(),
        }
    }
}

impl RuntimeConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (a name → value function), so tests need no globals.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let defaults = RuntimeConfig::default();
        let non_empty = |name: &str| lookup(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let switch = |name: &str, default: bool| -> Result<bool, Error> {
            match non_empty(name).map(|v| v.to_ascii_lowercase()).as_deref() {
                None => Ok(default),
                Some("1" | "true" | "on") => Ok(true),
                Some("0" | "false" | "off") => Ok(false),
                Some(other) => Err(Error::internal(format!("{name}={other:?} must be on/off (1/0, true/false)"))),
            }
        };
        let number = |name: &str, default: u64| -> Result<u64, Error> {
            match non_empty(name) {
                None => Ok(default),
                Some(v) => {
                    v.parse::<u64>().map_err(|_| Error::internal(format!("{name}={v:?} is not a non-negative integer")))
                }
            }
        };
        let redis_url = non_empty("REDIS_URL");
        let redis_cluster_nodes = match non_empty("REDIS_CLUSTER_NODES") {
            None => Vec::new(),
            Some(list) => parse_cluster_nodes(&list)?,
        };
        if redis_url.is_some() && !redis_cluster_nodes.is_empty() {
            // Which one would win is a guess an operator should not have to make.
            return Err(invalid(
                "REDIS_URL and REDIS_CLUSTER_NODES are both set: set REDIS_URL for one Redis server, \
                 REDIS_CLUSTER_NODES for a Redis Cluster"
                    .to_string(),
            ));
        }
        Ok(RuntimeConfig {
            redis_url,
            redis_cluster_nodes,
            key_prefix: non_empty("CLAUDEBENCH_KEY_PREFIX").unwrap_or(defaults.key_prefix),
            database_url: non_empty("DATABASE_URL"),
            data_dir: non_empty("CLAUDEBENCH_DATA_DIR").map(PathBuf::from).unwrap_or(defaults.data_dir),
            redis_response_timeout: Duration::from_millis(number("REDIS_RESPONSE_TIMEOUT_MS", 2000)?),
            redis_connect_timeout: Duration::from_millis(number("REDIS_CONNECT_TIMEOUT_MS", 1000)?),
            stream_maxlen: number("CLAUDEBENCH_STREAM_MAXLEN", defaults.stream_maxlen)?.max(1),
            stream_retention: Duration::from_secs(number("CLAUDEBENCH_STREAM_RETENTION_S", 86_400)?),
            outbox_degraded_after: Duration::from_millis(number("CLAUDEBENCH_OUTBOX_DEGRADED_MS", 10_000)?),
            test_events: switch("CLAUDEBENCH_TEST_EVENTS", false)?,
            rate_limits: switch("CLAUDEBENCH_RATE_LIMITS", true)?,
            mcp_toolsets: match non_empty("CLAUDEBENCH_MCP_TOOLSETS") {
                None => defaults.mcp_toolsets,
                Some(list) => McpToolsets::parse(&list)?,
            },
        })
    }

    /// The events this server serves, as it serves them: the spec's table without test-only
    /// events (unless `test_events`), with the configuration file's `overrides` applied and,
    /// when `rate_limits` is off, without rate limits.
    pub fn served_events(&self, all: &[EventDef], overrides: &BTreeMap<String, EventOverride>) -> Vec<EventDef> {
        all.iter()
            .filter(|e| self.test_events || !e.test_only)
            .map(|e| {
                let mut def = overrides.get(e.name).map_or(*e, |o| o.apply(*e));
                if !self.rate_limits {
                    def.rate_limit = None;
                }
                def
            })
            .collect()
    }

    /// The Redis URL to connect to: the configured one or the default.
    pub fn effective_redis_url(&self) -> &str {
        self.redis_url.as_deref().unwrap_or(DEFAULT_REDIS_URL)
    }

    /// Whether Redis is a cluster (`REDIS_CLUSTER_NODES` is set).
    pub fn is_cluster(&self) -> bool {
        !self.redis_cluster_nodes.is_empty()
    }
}

/// Checks `REDIS_CLUSTER_NODES`: comma-separated `host:port` (IPv6 as `[addr]:port`), blanks
/// between commas ignored, at least one node. Every bad entry is reported at once, by position,
/// so a typo in a long list is found without trial and error.
pub fn parse_cluster_nodes(list: &str) -> Result<Vec<String>, Error> {
    let mut nodes = Vec::new();
    let mut problems = Vec::new();
    for (i, entry) in list.split(',').map(str::trim).enumerate() {
        if entry.is_empty() {
            continue;
        }
        match check_node(entry) {
            Ok(()) => nodes.push(entry.to_string()),
            Err(why) => problems.push(format!("entry {} `{entry}`: {why}", i + 1)),
        }
    }
    if !problems.is_empty() {
        return Err(invalid(format!("REDIS_CLUSTER_NODES must be host:port,host:port,…; {}", problems.join("; "))));
    }
    if nodes.is_empty() {
        return Err(invalid("REDIS_CLUSTER_NODES names no node (expected host:port,host:port,…)".to_string()));
    }
    Ok(nodes)
}

fn check_node(entry: &str) -> Result<(), &'static str> {
    if entry.contains("://") {
        return Err("give host:port without a scheme");
    }
    let Some((host, port)) = entry.rsplit_once(':') else { return Err("missing `:port`") };
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or("unclosed `[` around an IPv6 address")?,
        None if host.contains(':') => return Err("write an IPv6 address as [addr]:port"),
        None => host,
    };
    if host.is_empty() {
        return Err("missing host");
    }
    if host.chars().any(|c| c.is_whitespace() || matches!(c, '/' | '@' | '?' | '#' | '[' | ']')) {
        return Err("the host is not a host name or address");
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err("the port must be a number from 1 to 65535"),
    }
}

fn invalid(message: String) -> Error {
    Error::new(claudebench_contract::error::ErrorCode::Validation, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_toolsets_are_read_and_checked_against_the_event_table() {
        let read = |v: &str| RuntimeConfig::from_lookup(|k| (k == "CLAUDEBENCH_MCP_TOOLSETS").then(|| v.to_string()));
        assert_eq!(read(" , ").unwrap().mcp_toolsets, McpToolsets::default());
        assert_eq!(read("core, Admin,core").unwrap().mcp_toolsets, McpToolsets::parse("core,admin").unwrap());
        assert_eq!(read("admin,ALL").unwrap().mcp_toolsets, McpToolsets::All);
        let events = &claudebench_generated::events::EVENTS;
        assert!(McpToolsets::default().check(events).is_ok() && McpToolsets::All.check(events).is_ok());
        let err = McpToolsets::parse("core,ops").unwrap().check(events).unwrap_err().message;
        assert_eq!(
            err,
            "CLAUDEBENCH_MCP_TOOLSETS names unknown tool set `ops`: the known sets are `admin`, `coordination`, \
             `core`, `hooks` (or `all` for every set)"
        );
        assert!(!err.contains('\n'), "one line");
        let sets = McpToolsets::parse("core,admin").unwrap();
        assert!(sets.includes("admin") && !sets.includes("hooks") && McpToolsets::All.includes("hooks"));
        assert_eq!(sets.describe(), "core,admin");
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = RuntimeConfig::from_lookup(|_| None).unwrap();
        assert_eq!(c, RuntimeConfig::default());
        assert_eq!(c.effective_redis_url(), DEFAULT_REDIS_URL);
    }

    #[test]
    fn values_are_read_and_blank_values_ignored() {
        let c = RuntimeConfig::from_lookup(|k| match k {
            "REDIS_URL" => Some("redis://10.0.0.1:7000".into()),
            "DATABASE_URL" => Some("  ".into()),
            "CLAUDEBENCH_STREAM_MAXLEN" => Some("500".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.redis_url.as_deref(), Some("redis://10.0.0.1:7000"));
        assert_eq!(c.database_url, None);
        assert_eq!(c.stream_maxlen, 500);
    }

    #[test]
    fn cluster_nodes_are_read_and_checked() {
        let c = RuntimeConfig::from_lookup(|k| {
            (k == "REDIS_CLUSTER_NODES").then(|| " 10.0.0.1:7000, redis-b:7001,,[::1]:7002 ".into())
        })
        .unwrap();
        assert_eq!(c.redis_cluster_nodes, ["10.0.0.1:7000", "redis-b:7001", "[::1]:7002"]);
        assert!(c.is_cluster());
        assert!(!RuntimeConfig::default().is_cluster());
    }

    #[test]
    fn bad_cluster_nodes_are_errors_naming_every_bad_entry() {
        let err = parse_cluster_nodes("a:1,b,redis://c:3,:4,d:0,e:70000,::1:5,f g:6").unwrap_err();
        assert_eq!(err.code, claudebench_contract::error::ErrorCode::Validation);
        for needle in [
            "entry 2 `b`: missing `:port`",
            "entry 3 `redis://c:3`: give host:port without a scheme",
            "entry 4 `:4`: missing host",
            "entry 5 `d:0`: the port",
            "entry 6 `e:70000`: the port",
            "entry 7 `::1:5`: write an IPv6 address as [addr]:port",
            "entry 8 `f g:6`: the host",
        ] {
            assert!(err.message.contains(needle), "{needle} in {err}");
        }
        assert!(!err.message.contains("entry 1"), "{err}");
        assert!(parse_cluster_nodes(" , ").unwrap_err().message.contains("names no node"));
        let both = RuntimeConfig::from_lookup(|k| match k {
            "REDIS_URL" => Some("redis://127.0.0.1:6379".into()),
            "REDIS_CLUSTER_NODES" => Some("127.0.0.1:7000".into()),
            _ => None,
        })
        .unwrap_err();
        assert!(both.message.contains("both set"), "{both}");
    }

    #[test]
    fn a_malformed_number_is_an_error_naming_the_variable() {
        let err =
            RuntimeConfig::from_lookup(|k| (k == "REDIS_RESPONSE_TIMEOUT_MS").then(|| "soon".into())).unwrap_err();
        assert!(err.message.contains("REDIS_RESPONSE_TIMEOUT_MS"), "{err}");
    }
}

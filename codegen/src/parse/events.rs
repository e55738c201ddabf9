//! The `events:` list: each event's name, description and root schemas, the runtime policy the
//! runtime applies around its handler (flags, roles, rate limit, timeout, cache, circuit breaker,
//! MCP exposure), its aliases and replacement, and its documented examples.

use regex::Regex;
use serde_json::Value;

use super::schemas::Place;
use super::{Loc, Reader, join};
use crate::diagnostics::DiagnosticKind;
use crate::model::*;
use crate::yaml::{Node, NodeValue, Pos};

/// Most notifications one event may list in `publishes`, and the longest name.
const MAX_PUBLISHED: usize = 32;
const MAX_PUBLISHED_NAME: usize = 128;

const EVENT_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "input",
    "output",
    "persist",
    "mutates",
    "test_only",
    "roles",
    "rate_limit",
    "timeout_ms",
    "circuit_breaker",
    "cache_ttl_s",
    "mcp",
    "aliases",
    "deprecated",
    "replaced_by",
    "publishes",
    "examples",
    "claude_code",
];

/// MCP clients reject tool names outside `^[a-zA-Z0-9_-]{1,64}$`.
const MAX_TOOL_NAME: usize = 64;

impl Reader<'_> {
    pub(super) fn events(&mut self, node: &Node) {
        let NodeValue::Seq(items) = &node.value else {
            return self.wrong_type(node, "events", "a list of events");
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("events[{i}]");
            if let Some((event, loc)) = self.event(item, &path) {
                self.out.events.push((event, loc));
            }
        }
    }

    /// One event. Every part is read (and every problem reported) even when an earlier part is
    /// wrong; the event itself is kept only when all of it is valid.
    fn event(&mut self, node: &Node, path: &str) -> Option<(Event, Loc)> {
        self.mapping(node, path, "an event", EVENT_KEYS)?;
        let name = self.event_name(node, path);
        let tool_ok = match &name {
            Some((name, pos)) => self.tool_name_fits(name, *pos, &join(path, "name")),
            None => true,
        };
        // Below the name, paths read `events[3](task.create).input` so a message names its event.
        let path = &match &name {
            Some((n, _)) => format!("{path}({})", n.full),
            None => path.to_string(),
        };

        let description = match node.get("description") {
            Some(n) => self.string(n, &join(path, "description")),
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "event has no `description`",
                    node.pos,
                    path,
                    Some("describe what the event does; it becomes API documentation".into()),
                );
                None
            }
        };
        let title = node.get("title").and_then(|n| self.string(n, &join(path, "title")));
        let input = self.event_root(node, path, "input");
        let output = self.event_root(node, path, "output");
        let config = self.handler_config(node, path, output.as_ref());
        let deprecated =
            node.get("deprecated").and_then(|n| self.boolean(n, &join(path, "deprecated"))).unwrap_or(false);
        let aliases = self.aliases(node.get("aliases"), path);
        let replaced_by = self.replaced_by(node.get("replaced_by"), path, name.as_ref().map(|(n, _)| n));
        let publishes = self.publishes(node.get("publishes"), path);
        let claude_code = match node.get("claude_code") {
            Some(n) => {
                let routes = self.claude_code_routes(n, &join(path, "claude_code"));
                if let (Some(routes), Some((ev, _))) = (&routes, &name) {
                    for i in 0..routes.len() {
                        let loc = self.loc(n.pos, &join(path, "claude_code"));
                        self.out.hook_routes.push((ev.full.clone(), i, loc));
                    }
                }
                routes
            }
            None => Some(Vec::new()),
        };
        let examples = match node.get("examples") {
            Some(n) => self.event_examples(n, &join(path, "examples"), input.as_ref(), output.as_ref()),
            None => Vec::new(),
        };

        let (name, name_pos) = name?;
        let (input, output, description, config) = (input?, output?, description?, config?);
        let claude_code = claude_code?;
        if !tool_ok {
            return None;
        }
        let title = title.unwrap_or_else(|| default_title(&name));
        let loc = self.loc(name_pos, &join(path, "name"));
        let origin = self.origin(name_pos);
        let event = Event {
            origin,
            name,
            title,
            description,
            input,
            output,
            config,
            aliases,
            deprecated,
            replaced_by,
            publishes,
            examples,
            claude_code,
        };
        Some((event, loc))
    }

    /// The event's `name`, reported when missing or malformed.
    fn event_name(&mut self, node: &Node, path: &str) -> Option<(EventName, Pos)> {
        let Some(n) = node.get("name") else {
            self.error(
                DiagnosticKind::MissingKey,
                "event has no `name`",
                node.pos,
                path,
                Some("add `name: domain.action`".into()),
            );
            return None;
        };
        let p = join(path, "name");
        let s = self.string(n, &p)?;
        let Some(name) = parse_event_name(&s) else {
            self.error(
                DiagnosticKind::BadEventName,
                format!("`{s}` is not a valid event name"),
                n.pos,
                &p,
                Some(format!(
                    "event names are `domain.action`, each part matching [a-z][a-z0-9_]*, e.g. `{}`",
                    suggest_event_name(&s)
                )),
            );
            return None;
        };
        if claudebench_contract::jsonrpc::is_reserved_method(&s) {
            self.error(
                DiagnosticKind::ReservedName,
                format!("event `{s}` would be the JSON-RPC method `{s}`"),
                n.pos,
                &p,
                Some("JSON-RPC 2.0 reserves method names beginning with `rpc.`; use another domain".into()),
            );
            return None;
        }
        Some((name, n.pos))
    }

    /// Whether the event's MCP tool name is short enough for clients (reported when not).
    fn tool_name_fits(&mut self, name: &EventName, pos: Pos, path: &str) -> bool {
        let tool = name.mcp_tool();
        if tool.len() <= MAX_TOOL_NAME {
            return true;
        }
        self.error(
            DiagnosticKind::BadToolName,
            format!("MCP tool name `{tool}` is longer than {MAX_TOOL_NAME} characters"),
            pos,
            path,
            Some("shorten the domain or action: clients reject tool names outside ^[a-zA-Z0-9_-]{1,64}$".into()),
        );
        false
    }

    /// The event's `input` or `output`: an object schema, or a `ref` to one (decided in `check`,
    /// once every definition is known). MCP and JSON-RPC carry only object parameters and results.
    fn event_root(&mut self, node: &Node, path: &str, key: &str) -> Option<Schema> {
        let p = join(path, key);
        let Some(n) = node.get(key) else {
            self.error(
                DiagnosticKind::MissingKey,
                format!("event has no `{key}` schema"),
                node.pos,
                path,
                Some(format!("add `{key}: {{type: object, properties: {{…}}}}`")),
            );
            return None;
        };
        let (schema, _) = self.schema(n, &p, Place::Other)?;
        match &schema.kind {
            SchemaKind::Object(_) => {}
            SchemaKind::Ref(r) => {
                let loc = self.loc(n.pos, &p);
                self.out.root_refs.push((r.clone(), loc));
            }
            _ => {
                self.error(
                    DiagnosticKind::RootNotObject,
                    format!("event `{key}` must be an object schema"),
                    n.pos,
                    &p,
                    Some(
                        "wrap the value in an object property: MCP and JSON-RPC need object parameters and results"
                            .into(),
                    ),
                );
                return None;
            }
        }
        if schema.nullable {
            self.error(
                DiagnosticKind::RootNotObject,
                format!("event `{key}` cannot be nullable"),
                n.pos,
                &p,
                Some("remove `nullable`".into()),
            );
            return None;
        }
        Some(schema)
    }

    /// How the runtime treats the event; `None` (after reporting) when its settings contradict
    /// each other.
    fn handler_config(&mut self, node: &Node, path: &str, output: Option<&Schema>) -> Option<HandlerConfig> {
        let flag = |this: &mut Self, key: &str| node.get(key).and_then(|n| this.boolean(n, &join(path, key)));
        let persist = flag(self, "persist").unwrap_or(false);
        let test_only = flag(self, "test_only").unwrap_or(false);
        let mutates_given = flag(self, "mutates");
        let mutates = mutates_given.unwrap_or(true);
        let mut ok = true;
        if persist && mutates_given == Some(false) {
            let pos = node.get("mutates").map_or(node.pos, |n| n.pos);
            self.error(
                DiagnosticKind::PersistWithoutMutates,
                "`persist: true` on an event with `mutates: false`",
                pos,
                &join(path, "mutates"),
                Some("a persisted event changes state: remove `mutates: false` or `persist: true`".into()),
            );
            ok = false;
        }
        let roles = node.get("roles").and_then(|n| self.string_list(n, &join(path, "roles"))).unwrap_or_default();
        let rate_limit = node.get("rate_limit").and_then(|n| self.rate_limit(n, &join(path, "rate_limit")));
        let timeout_ms =
            node.get("timeout_ms").and_then(|n| self.count(n, &join(path, "timeout_ms"), 1)).unwrap_or(5000);
        let cache_ttl_s = node.get("cache_ttl_s").and_then(|n| self.count(n, &join(path, "cache_ttl_s"), 1));
        if cache_ttl_s.is_some() && mutates {
            self.cache_on_mutating_event(node, path, persist);
            ok = false;
        }
        let mcp = self.mcp(node.get("mcp"), &join(path, "mcp"), mutates, node.pos);
        let circuit_breaker = match node.get("circuit_breaker") {
            Some(n) => self.circuit_breaker(n, &join(path, "circuit_breaker"), output),
            None => None,
        };
        ok.then(|| HandlerConfig {
            persist,
            mutates,
            test_only,
            roles: roles.into_iter().map(|(r, _)| r).collect(),
            rate_limit,
            timeout_ms,
            circuit_breaker,
            cache_ttl_s,
            mcp,
        })
    }

    /// A cached answer would skip the state change (or, for a persisted event, its write to SQL).
    fn cache_on_mutating_event(&mut self, node: &Node, path: &str, persist: bool) {
        let pos = node.get("cache_ttl_s").map_or(node.pos, |n| n.pos);
        self.error(
            DiagnosticKind::CacheOnMutatingEvent,
            "`cache_ttl_s` on an event that changes state",
            pos,
            &join(path, "cache_ttl_s"),
            Some(if persist {
                "a persisted event must run every time: remove `cache_ttl_s`".to_string()
            } else {
                "a cached call would skip the state change: remove `cache_ttl_s`, or declare `mutates: false` if the event only reads".to_string()
            }),
        );
    }

    /// Older names of the event; each is checked against every event in `check`.
    fn aliases(&mut self, node: Option<&Node>, path: &str) -> Vec<String> {
        let Some(n) = node else {
            return Vec::new();
        };
        let p = join(path, "aliases");
        let list = self.string_list(n, &p).unwrap_or_default();
        let mut out = Vec::new();
        for (i, (alias, pos)) in list.into_iter().enumerate() {
            let ap = format!("{p}[{i}]");
            if claudebench_contract::jsonrpc::is_reserved_method(&alias) {
                self.error(
                    DiagnosticKind::ReservedName,
                    format!("alias `{alias}` would be the JSON-RPC method `{alias}`"),
                    pos,
                    &ap,
                    Some("JSON-RPC 2.0 reserves method names beginning with `rpc.`".into()),
                );
            } else if dotted_name_regex().is_match(&alias) {
                let loc = self.loc(pos, &ap);
                self.out.aliases.push((alias.clone(), loc));
                out.push(alias);
            } else {
                self.error(
                    DiagnosticKind::BadEventName,
                    format!("`{alias}` is not a valid alias"),
                    pos,
                    &ap,
                    Some("aliases are dotted lowercase names, e.g. `system.batch.process`".into()),
                );
            }
        }
        out
    }

    /// The event that supersedes this one; that it exists is decided in `check`.
    fn replaced_by(&mut self, node: Option<&Node>, path: &str, name: Option<&EventName>) -> Option<String> {
        let n = node?;
        let p = join(path, "replaced_by");
        let s = self.string(n, &p);
        if let (Some(s), Some(ev)) = (&s, name) {
            let loc = self.loc(n.pos, &p);
            self.out.replaced_by.push((ev.full.clone(), s.clone(), loc));
        }
        s
    }

    /// The notifications the event publishes on the bus; that none is an event of the spec is
    /// decided in `check`.
    fn publishes(&mut self, node: Option<&Node>, path: &str) -> Vec<String> {
        let Some(n) = node else {
            return Vec::new();
        };
        let p = join(path, "publishes");
        let list = self.string_list(n, &p).unwrap_or_default();
        if list.len() > MAX_PUBLISHED {
            // `system.get_state` reads every published stream on each call.
            self.error(
                DiagnosticKind::OutOfRange,
                format!("`publishes` lists {} names; at most {MAX_PUBLISHED} are allowed", list.len()),
                n.pos,
                &p,
                Some("an event publishes a few notifications; list those".into()),
            );
            return Vec::new();
        }
        let mut out: Vec<String> = Vec::new();
        for (i, (name, pos)) in list.into_iter().enumerate() {
            let np = format!("{p}[{i}]");
            if name.len() > MAX_PUBLISHED_NAME || !dotted_name_regex().is_match(&name) {
                self.error(
                    DiagnosticKind::BadEventName,
                    format!("`{name}` is not a valid published event name"),
                    pos,
                    &np,
                    Some("published names are dotted lowercase names of what happened, e.g. `task.created`".into()),
                );
            } else if out.contains(&name) {
                self.error(
                    DiagnosticKind::DuplicatePublishedName,
                    format!("`{name}` is listed twice in `publishes`"),
                    pos,
                    &np,
                    Some("remove the repeat".into()),
                );
            } else {
                let loc = self.loc(pos, &np);
                self.out.published.push((name.clone(), loc));
                out.push(name);
            }
        }
        out
    }

    fn rate_limit(&mut self, node: &Node, path: &str) -> Option<RateLimit> {
        let entries = self.mapping(node, path, "a rate limit", &["count", "window_ms"])?;
        let mut count = None;
        let mut window_ms = Some(60_000);
        for (key, value) in entries {
            let p = join(path, &key.name);
            match key.name.as_str() {
                "count" => count = self.count(value, &p, 1),
                "window_ms" => window_ms = self.count(value, &p, 1),
                _ => {}
            }
        }
        if count.is_none() && node.get("count").is_none() {
            self.error(
                DiagnosticKind::MissingKey,
                "rate limit has no `count`",
                node.pos,
                path,
                Some("add `count: <calls per window>`".into()),
            );
        }
        Some(RateLimit { count: count?, window_ms: window_ms? })
    }

    fn circuit_breaker(&mut self, node: &Node, path: &str, output: Option<&Schema>) -> Option<CircuitBreaker> {
        let entries =
            self.mapping(node, path, "a circuit breaker", &["threshold", "open_ms", "half_open_probes", "fallback"])?;
        let (mut threshold, mut open_ms, mut probes, mut fallback) = (None, None, Some(3), Some(Fallback::Error));
        for (key, value) in entries {
            let p = join(path, &key.name);
            match key.name.as_str() {
                "threshold" => threshold = self.count(value, &p, 1).map(|v| v.min(u32::MAX as u64) as u32),
                "open_ms" => open_ms = self.count(value, &p, 1),
                "half_open_probes" => probes = self.count(value, &p, 1).map(|v| v.min(u32::MAX as u64) as u32),
                "fallback" => {
                    fallback = match &value.value {
                        NodeValue::Str(s) if s == "error" => Some(Fallback::Error),
                        NodeValue::Map(_) => {
                            let v = self.json(value, &p)?;
                            if let Some(schema) = output {
                                let what = "circuit breaker fallback".to_string();
                                self.value_check(DiagnosticKind::FallbackMismatch, what, schema, &v, value.pos, &p);
                            }
                            Some(Fallback::Value(v))
                        }
                        _ => {
                            self.error(
                                DiagnosticKind::WrongType,
                                format!(
                                    "expected `error` or a mapping (the fallback output), found {}",
                                    value.kind_name()
                                ),
                                value.pos,
                                &p,
                                Some(
                                    "write `fallback: error`, or the output to return while the circuit is open".into(),
                                ),
                            );
                            None
                        }
                    }
                }
                _ => {}
            }
        }
        for (key, v) in [("threshold", threshold.is_some()), ("open_ms", open_ms.is_some())] {
            if !v && node.get(key).is_none() {
                self.error(
                    DiagnosticKind::MissingKey,
                    format!("circuit breaker has no `{key}`"),
                    node.pos,
                    path,
                    Some(format!("add `{key}: <whole number>`")),
                );
            }
        }
        Some(CircuitBreaker {
            threshold: threshold?,
            open_ms: open_ms?,
            half_open_probes: probes?,
            fallback: fallback?,
        })
    }

    /// `mcp`: `false`, or a mapping of exposure, tool set, the description for a model and the
    /// annotations. An exposed event must have a description (`event_pos` locates the complaint
    /// when the event has no `mcp` key at all).
    fn mcp(&mut self, node: Option<&Node>, path: &str, mutates: bool, event_pos: Pos) -> McpConfig {
        let mut cfg = McpConfig {
            expose: true,
            read_only: !mutates,
            destructive: false,
            idempotent: !mutates,
            open_world: false,
            toolset: DEFAULT_TOOLSET.to_string(),
            description: None,
        };
        let Some(node) = node else {
            self.missing_mcp_description(event_pos, path);
            return cfg;
        };
        if let NodeValue::Bool(b) = node.value {
            cfg.expose = b;
            if b {
                self.missing_mcp_description(node.pos, path);
            }
            return cfg;
        }
        let Some(entries) = self.mapping(
            node,
            path,
            "MCP settings",
            &["expose", "toolset", "description", "read_only", "destructive", "idempotent", "open_world"],
        ) else {
            return cfg;
        };
        for (key, value) in entries {
            let key_path = join(path, &key.name);
            match key.name.as_str() {
                "toolset" => {
                    if let Some(name) = self.string(value, &key_path)
                        && self.toolset_name(&name, value.pos, &key_path)
                    {
                        cfg.toolset = name;
                    }
                    continue;
                }
                "description" => {
                    if let Some(text) = self.string(value, &key_path) {
                        cfg.description = self.mcp_description(text, value.pos, &key_path);
                    }
                    continue;
                }
                _ => {}
            }
            let Some(b) = self.boolean(value, &key_path) else {
                continue;
            };
            match key.name.as_str() {
                "expose" => cfg.expose = b,
                "read_only" => cfg.read_only = b,
                "destructive" => cfg.destructive = b,
                "idempotent" => cfg.idempotent = b,
                "open_world" => cfg.open_world = b,
                _ => {}
            }
        }
        if cfg.expose && cfg.description.is_none() && node.get("description").is_none() {
            self.missing_mcp_description(node.pos, path);
        }
        if cfg.read_only && mutates {
            self.error(
                DiagnosticKind::ReadOnlyMutates,
                "`read_only: true` on an event that changes state",
                node.pos,
                path,
                Some("declare `mutates: false` on the event if it only reads".into()),
            );
        }
        cfg
    }

    /// A tool set name is a lowercase identifier (it is typed into `CLAUDEBENCH_MCP_TOOLSETS`);
    /// `all` is taken by the selection that means every set.
    fn toolset_name(&mut self, name: &str, pos: Pos, path: &str) -> bool {
        let valid = is_identifier(name) && name.chars().count() <= TOOLSET_NAME_MAX;
        if valid && name != "all" {
            return true;
        }
        let (message, help) = if name == "all" {
            (
                "`all` is not a tool set name".to_string(),
                "`CLAUDEBENCH_MCP_TOOLSETS=all` selects every set; name the set otherwise".to_string(),
            )
        } else {
            let suggestion: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
                .collect::<String>()
                .trim_matches('_')
                .to_string();
            let hint = if is_identifier(&suggestion) && suggestion.len() <= TOOLSET_NAME_MAX {
                format!(", such as `{suggestion}`")
            } else {
                String::new()
            };
            (
                format!("tool set `{name}` is not a lowercase identifier"),
                format!("a tool set is named by `[a-z][a-z0-9_]*`, at most {TOOLSET_NAME_MAX} characters{hint}"),
            )
        };
        self.error(DiagnosticKind::BadToolset, message, pos, path, Some(help));
        false
    }

    /// `mcp.description`: trimmed, non-empty, at most [`MCP_DESCRIPTION_MAX`] characters.
    fn mcp_description(&mut self, text: String, pos: Pos, path: &str) -> Option<String> {
        let text = text.trim().to_string();
        let length = text.chars().count();
        if text.is_empty() {
            self.error(
                DiagnosticKind::McpDescription,
                "the MCP description is empty",
                pos,
                path,
                Some("say what the tool does, when to use it and its key constraints".into()),
            );
            return None;
        }
        if length > MCP_DESCRIPTION_MAX {
            self.error(
                DiagnosticKind::McpDescription,
                format!("the MCP description is {length} characters long, more than {MCP_DESCRIPTION_MAX}"),
                pos,
                path,
                Some(
                    "it is in every session's context: keep what the tool does, when to use it and its key \
                     constraints; the event's `description` holds the rest"
                        .into(),
                ),
            );
            return None;
        }
        Some(text)
    }

    fn missing_mcp_description(&mut self, pos: Pos, path: &str) {
        self.error(
            DiagnosticKind::McpDescription,
            "an event exposed over MCP has no `mcp.description`",
            pos,
            &join(path, "description"),
            Some(format!(
                "add `mcp: {{ description: \"…\" }}` (at most {MCP_DESCRIPTION_MAX} characters, written for a model), \
                 or `mcp: false` to hide the event"
            )),
        );
    }

    /// Documented request/response pairs; each side is validated against its schema in `check`.
    fn event_examples(
        &mut self,
        node: &Node,
        path: &str,
        input: Option<&Schema>,
        output: Option<&Schema>,
    ) -> Vec<Example> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(node, path, "a list of {name, input, output}");
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(entries) = self.mapping(item, &p, "an example", &["name", "input", "output"]) else {
                continue;
            };
            let mut name = None;
            let mut values: [Option<Value>; 2] = [None, None];
            for (key, value) in entries {
                let kp = join(&p, &key.name);
                match key.name.as_str() {
                    "name" => name = self.string(value, &kp),
                    side @ ("input" | "output") => {
                        let Some(v) = self.json(value, &kp) else {
                            continue;
                        };
                        let schema = if side == "input" { input } else { output };
                        if let Some(schema) = schema {
                            let what = format!("example {side}");
                            self.value_check(DiagnosticKind::InvalidExample, what, schema, &v, value.pos, &kp);
                        }
                        values[usize::from(side == "output")] = Some(v);
                    }
                    _ => {}
                }
            }
            match (values, name) {
                ([Some(input), Some(output)], name) => {
                    out.push(Example { name: name.unwrap_or_else(|| format!("example {}", i + 1)), input, output })
                }
                _ => self.error(
                    DiagnosticKind::MissingKey,
                    "an example needs both `input` and `output`",
                    item.pos,
                    &p,
                    Some("add the request and the response it gets".into()),
                ),
            }
        }
        out
    }
}

fn parse_event_name(s: &str) -> Option<EventName> {
    let (domain, action) = s.split_once('.')?;
    let part = |p: &str| {
        let mut chars = p.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    (part(domain) && part(action)).then(|| EventName::new(domain, action))
}

/// A likely intended name for a malformed one: `Task.Create` → `task.create`, `task.batch.process` → `task.batch_process`.
fn suggest_event_name(s: &str) -> String {
    let part = |p: &str| snake_case(p).replace('-', "_").trim_start_matches('_').to_string();
    match s.split_once('.') {
        Some((d, a)) => format!("{}.{}", part(d), part(a)),
        None => format!("{}.action", part(s)),
    }
}

fn default_title(name: &EventName) -> String {
    let action = name.action.replace('_', " ");
    let mut domain = name.domain.replace('_', " ");
    if let Some(first) = domain.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{domain}: {action}")
}

/// Aliases and published notifications: two or more dotted lowercase parts.
fn dotted_name_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$").expect("static regex"));
    &RE
}

/// `[a-z][a-z0-9_]*`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_two_lowercase_parts() {
        assert!(parse_event_name("task.create").is_some());
        assert!(parse_event_name("hook.pre_tool").is_some());
        assert!(parse_event_name("Task.create").is_none());
        assert!(parse_event_name("task").is_none());
        assert!(parse_event_name("system.batch.process").is_none());
        assert!(parse_event_name("task.1st").is_none());
        assert_eq!(suggest_event_name("system.batch.process"), "system.batch_process");
        assert_eq!(default_title(&EventName::new("hook", "pre_tool")), "Hook: pre tool");
    }
}

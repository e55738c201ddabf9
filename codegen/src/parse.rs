//! YAML tree → model, reporting every problem that can be seen locally (wrong keys and types,
//! bad names, `min > max`, invalid regexes, …) with its exact position.
//!
//! What needs the whole spec (duplicates across files, references, values that must validate
//! against possibly referenced schemas) is recorded here with its position and decided in
//! `check`.

use regex::Regex;
use serde_json::Value;

use crate::SpecSource;
use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, Location, did_you_mean};
use crate::model::*;
use crate::yaml::{self, Key, Node, NodeValue, Pos};

/// A position in a spec file, ready to become a diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub location: Location,
    pub source_line: Option<String>,
    pub len: usize,
}

impl Loc {
    /// Attach this position to a diagnostic.
    pub fn diag(&self, d: Diagnostic) -> Diagnostic {
        d.at(self.location.clone(), self.source_line.as_deref(), self.len)
    }
    /// `file:line:col`, for "first defined at" notes.
    pub fn short(&self) -> String {
        format!("{}:{}:{}", self.location.file, self.location.line, self.location.column)
    }
}

/// A value that must validate against a schema once references can be resolved.
#[derive(Debug, Clone)]
pub(crate) struct ValueCheck {
    /// [`DiagnosticKind::InvalidDefault`], [`DiagnosticKind::InvalidExample`] or
    /// [`DiagnosticKind::FallbackMismatch`].
    pub kind: DiagnosticKind,
    /// e.g. "default", "example `basic` input", "circuit breaker fallback"
    pub what: String,
    pub schema: Schema,
    pub value: Value,
    pub loc: Loc,
}

/// Everything the parser learned, for `check` to finish.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub definitions: Vec<(Definition, Loc)>,
    pub events: Vec<(Event, Loc)>,
    /// Every `ref: Name` and where it was written.
    pub refs: Vec<(String, Loc)>,
    /// `one_of` variants given as `ref`, with the union's tag: the definition must be an object
    /// that does not declare the tag.
    pub variant_refs: Vec<(String, String, Loc)>,
    /// Event `input`/`output` given as `ref`: the definition must be an object.
    pub root_refs: Vec<(String, Loc)>,
    pub replaced_by: Vec<(String, String, Loc)>,
    pub aliases: Vec<(String, Loc)>,
    pub value_checks: Vec<ValueCheck>,
}

/// Parse every source; syntax and local errors go to the diagnostics.
pub(crate) fn parse_sources(sources: &[SpecSource]) -> (Parsed, Diagnostics) {
    let mut parsed = Parsed::default();
    let mut diags = Diagnostics::default();
    for source in sources {
        let mut r =
            Reader { file: &source.path, lines: source.text.lines().collect(), diags: &mut diags, out: &mut parsed };
        match yaml::parse(&source.text) {
            Ok(root) => r.file_root(&root),
            Err(e) => {
                let loc = r.loc(e.pos, "");
                r.diags.push(
                    loc.diag(
                        Diagnostic::new(DiagnosticKind::YamlSyntax, format!("invalid YAML: {}", e.message))
                            .help("fix the YAML syntax; `spec/README.md` shows the expected layout"),
                    ),
                );
            }
        }
    }
    (parsed, diags)
}

const FILE_KEYS: &[&str] = &["definitions", "events"];
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
    "examples",
];
const TYPES: &[&str] =
    &["string", "integer", "number", "boolean", "enum", "any", "array", "record", "object", "one_of"];
const COMMON_KEYS: &[&str] = &["type", "ref", "description", "nullable", "optional", "default", "examples"];

fn type_keys(ty: &str) -> &'static [&'static str] {
    match ty {
        "string" => &["min_length", "max_length", "pattern", "format"],
        "integer" | "number" => &["min", "max", "exclusive_min", "exclusive_max"],
        "enum" => &["values"],
        "array" => &["items", "min_items", "max_items"],
        "record" => &["values"],
        "object" => &["properties", "unknown_keys", "rules"],
        "one_of" => &["tag", "variants"],
        _ => &[],
    }
}

/// Where a schema stands, which decides the keys it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// An object property: `optional` and `default` allowed.
    Property,
    /// Anywhere else (roots, items, values, variants, definitions).
    Other,
}

struct Reader<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
    diags: &'a mut Diagnostics,
    out: &'a mut Parsed,
}

impl Reader<'_> {
    fn loc(&self, pos: Pos, path: &str) -> Loc {
        Loc {
            location: Location {
                file: self.file.to_string(),
                line: pos.line,
                column: pos.column,
                yaml_path: path.to_string(),
            },
            source_line: pos.line.checked_sub(1).and_then(|i| self.lines.get(i)).map(|s| s.to_string()),
            len: pos.len,
        }
    }

    fn origin(&self, pos: Pos) -> Origin {
        Origin { file: self.file.to_string(), line: pos.line, column: pos.column }
    }

    fn error(&mut self, kind: DiagnosticKind, message: impl Into<String>, pos: Pos, path: &str, help: Option<String>) {
        let mut d = Diagnostic::new(kind, message);
        if let Some(h) = help {
            d = d.help(h);
        }
        let loc = self.loc(pos, path);
        self.diags.push(loc.diag(d));
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        self.error(
            DiagnosticKind::WrongType,
            format!("expected {expected}, found {}", node.kind_name()),
            node.pos,
            path,
            Some(format!("write {expected} here")),
        );
    }

    /// The node as a mapping whose keys are all in `allowed`; unknown keys are reported (with
    /// the nearest allowed key) and skipped.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        what: &str,
        allowed: &[&str],
    ) -> Option<Vec<&'n (Key, Node)>> {
        let NodeValue::Map(entries) = &node.value else {
            self.wrong_type(node, path, &format!("a mapping ({what})"));
            return None;
        };
        let mut known = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = &entry.0;
            if allowed.contains(&key.name.as_str()) {
                known.push(entry);
            } else {
                let help = match did_you_mean(&key.name, allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "valid keys here: {}",
                        allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                self.error(
                    DiagnosticKind::UnknownKey,
                    format!("unknown key `{}` in {what}", key.name),
                    key.pos,
                    &join(path, &key.name),
                    Some(help),
                );
            }
        }
        Some(known)
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            NodeValue::Str(s) => Some(s.clone()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match node.value {
            NodeValue::Bool(b) => Some(b),
            _ => {
                self.wrong_type(node, path, "`true` or `false`");
                None
            }
        }
    }

    /// A whole number ≥ `min`.
    fn count(&mut self, node: &Node, path: &str, min: u64) -> Option<u64> {
        match node.value {
            NodeValue::Int(i) if i >= 0 && i as u64 >= min => Some(i as u64),
            NodeValue::Int(i) => {
                self.error(
                    DiagnosticKind::OutOfRange,
                    format!("`{i}` is too small here"),
                    node.pos,
                    path,
                    Some(format!("use a whole number ≥ {min}")),
                );
                None
            }
            _ => {
                self.wrong_type(node, path, &format!("a whole number ≥ {min}"));
                None
            }
        }
    }

    fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        match node.value {
            NodeValue::Int(i) => Some(i as f64),
            NodeValue::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.wrong_type(node, path, "a finite number");
                None
            }
        }
    }

    fn string_list(&mut self, node: &Node, path: &str) -> Option<Vec<(String, Pos)>> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(node, path, "a list of strings");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &format!("{path}[{i}]")) {
                out.push((s, item.pos));
            }
        }
        Some(out)
    }

    fn json(&mut self, node: &Node, path: &str) -> Option<Value> {
        match node.to_json() {
            Ok(v) => Some(v),
            Err(pos) => {
                self.error(DiagnosticKind::WrongType, "infinite and NaN numbers have no JSON form", pos, path, None);
                None
            }
        }
    }

    // --- files, definitions, events --------------------------------------------------------

    fn file_root(&mut self, root: &Node) {
        if root.value == NodeValue::Null {
            return; // an empty file is allowed (e.g. while drafting)
        }
        let Some(entries) = self.mapping(root, "", "a spec file", FILE_KEYS) else {
            return;
        };
        for (key, value) in entries {
            match key.name.as_str() {
                "definitions" => self.definitions(value),
                "events" => self.events(value),
                _ => {}
            }
        }
    }

    fn definitions(&mut self, node: &Node) {
        let NodeValue::Map(entries) = &node.value else {
            return self.wrong_type(node, "definitions", "a mapping of definition name → schema");
        };
        let name_re = pascal_name_regex();
        for (key, value) in entries {
            let path = format!("definitions.{}", key.name);
            if !name_re.is_match(&key.name) {
                self.error(
                    DiagnosticKind::BadDefinitionName,
                    format!("definition name `{}` is not PascalCase", key.name),
                    key.pos,
                    &path,
                    Some(format!("use a name like `{}`", pascal_case(&key.name))),
                );
                continue;
            }
            if let Some((schema, _)) = self.schema(value, &path, Place::Other) {
                let def = Definition { name: key.name.clone(), schema, origin: self.origin(key.pos) };
                let loc = self.loc(key.pos, &path);
                self.out.definitions.push((def, loc));
            }
        }
    }

    fn events(&mut self, node: &Node) {
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

    fn event(&mut self, node: &Node, path: &str) -> Option<(Event, Loc)> {
        let entries = self.mapping(node, path, "an event", EVENT_KEYS)?;
        let get = |k: &str| entries.iter().find(|(key, _)| key.name == k).map(|(_, v)| v);
        let mut ok = true;

        // name
        let name = match get("name") {
            Some(n) => {
                let p = join(path, "name");
                match self.string(n, &p) {
                    Some(s) => match parse_event_name(&s) {
                        Some(name) => {
                            let tool = name.mcp_tool();
                            if tool.len() > 64 {
                                self.error(
                                    DiagnosticKind::BadToolName,
                                    format!("MCP tool name `{tool}` is longer than 64 characters"),
                                    n.pos,
                                    &p,
                                    Some("shorten the domain or action: clients reject tool names outside ^[a-zA-Z0-9_-]{1,64}$".into()),
                                );
                                ok = false;
                            }
                            Some((name, n.pos))
                        }
                        None => {
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
                            None
                        }
                    },
                    None => None,
                }
            }
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "event has no `name`",
                    node.pos,
                    path,
                    Some("add `name: domain.action`".into()),
                );
                None
            }
        };
        let path = &match &name {
            Some((n, _)) => format!("{path}({})", n.full),
            None => path.to_string(),
        };

        let description = match get("description") {
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
        let title = get("title").and_then(|n| self.string(n, &join(path, "title")));

        let root_schema = |this: &mut Self, key: &str| -> Option<Schema> {
            let p = join(path, key);
            let Some(n) = get(key) else {
                this.error(
                    DiagnosticKind::MissingKey,
                    format!("event has no `{key}` schema"),
                    node.pos,
                    path,
                    Some(format!("add `{key}: {{type: object, properties: {{…}}}}`")),
                );
                return None;
            };
            let (schema, _) = this.schema(n, &p, Place::Other)?;
            match &schema.kind {
                SchemaKind::Object(_) => {}
                SchemaKind::Ref(r) => this.out.root_refs.push((r.clone(), this.loc(n.pos, &p))),
                _ => {
                    this.error(
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
                this.error(
                    DiagnosticKind::RootNotObject,
                    format!("event `{key}` cannot be nullable"),
                    n.pos,
                    &p,
                    Some("remove `nullable`".into()),
                );
                return None;
            }
            Some(schema)
        };
        let input = root_schema(self, "input");
        let output = root_schema(self, "output");

        let flag = |this: &mut Self, key: &str| get(key).and_then(|n| this.boolean(n, &join(path, key)));
        let persist = flag(self, "persist").unwrap_or(false);
        let test_only = flag(self, "test_only").unwrap_or(false);
        let mutates_given = flag(self, "mutates");
        let mutates = mutates_given.unwrap_or(true);
        if persist && mutates_given == Some(false) {
            let n = get("mutates").map(|n| n.pos).unwrap_or(node.pos);
            self.error(
                DiagnosticKind::PersistWithoutMutates,
                "`persist: true` on an event with `mutates: false`",
                n,
                &join(path, "mutates"),
                Some("a persisted event changes state: remove `mutates: false` or `persist: true`".into()),
            );
            ok = false;
        }
        let deprecated = flag(self, "deprecated").unwrap_or(false);

        let roles = get("roles").and_then(|n| self.string_list(n, &join(path, "roles"))).unwrap_or_default();
        let rate_limit = get("rate_limit").and_then(|n| self.rate_limit(n, &join(path, "rate_limit")));
        let timeout_ms = get("timeout_ms").and_then(|n| self.count(n, &join(path, "timeout_ms"), 1)).unwrap_or(5000);
        let cache_ttl_s = get("cache_ttl_s").and_then(|n| self.count(n, &join(path, "cache_ttl_s"), 1));
        if let (Some(_), true) = (cache_ttl_s, mutates) {
            let n = get("cache_ttl_s").map(|n| n.pos).unwrap_or(node.pos);
            self.error(
                DiagnosticKind::CacheOnMutatingEvent,
                "`cache_ttl_s` on an event that changes state",
                n,
                &join(path, "cache_ttl_s"),
                Some(if persist {
                    "a persisted event must run every time: remove `cache_ttl_s`".to_string()
                } else {
                    "a cached call would skip the state change: remove `cache_ttl_s`, or declare `mutates: false` if the event only reads".to_string()
                }),
            );
            ok = false;
        }
        let mcp = self.mcp(get("mcp"), &join(path, "mcp"), mutates);

        let circuit_breaker = match get("circuit_breaker") {
            Some(n) => self.circuit_breaker(n, &join(path, "circuit_breaker"), output.as_ref()),
            None => None,
        };

        let aliases: Vec<String> = match get("aliases") {
            Some(n) => {
                let p = join(path, "aliases");
                let list = self.string_list(n, &p).unwrap_or_default();
                let mut out = Vec::new();
                for (i, (alias, pos)) in list.into_iter().enumerate() {
                    let ap = format!("{p}[{i}]");
                    if alias_regex().is_match(&alias) {
                        self.out.aliases.push((alias.clone(), self.loc(pos, &ap)));
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
            None => Vec::new(),
        };
        let replaced_by = match get("replaced_by") {
            Some(n) => {
                let p = join(path, "replaced_by");
                let s = self.string(n, &p);
                if let (Some(s), Some((ev, _))) = (&s, &name) {
                    self.out.replaced_by.push((ev.full.clone(), s.clone(), self.loc(n.pos, &p)));
                }
                s
            }
            None => None,
        };

        let examples = match get("examples") {
            Some(n) => self.event_examples(n, &join(path, "examples"), input.as_ref(), output.as_ref()),
            None => Vec::new(),
        };

        let (name, name_pos) = name?;
        let (input, output, description) = (input?, output?, description?);
        if !ok {
            return None;
        }
        let title = title.unwrap_or_else(|| default_title(&name));
        let loc = self.loc(name_pos, &join(path, "name"));
        let event = Event {
            origin: self.origin(name_pos),
            name,
            title,
            description,
            input,
            output,
            config: HandlerConfig {
                persist,
                mutates,
                test_only,
                roles: roles.into_iter().map(|(r, _)| r).collect(),
                rate_limit,
                timeout_ms,
                circuit_breaker,
                cache_ttl_s,
                mcp,
            },
            aliases,
            deprecated,
            replaced_by,
            examples,
        };
        Some((event, loc))
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
                                self.out.value_checks.push(ValueCheck {
                                    kind: DiagnosticKind::FallbackMismatch,
                                    what: "circuit breaker fallback".into(),
                                    schema: schema.clone(),
                                    value: v.clone(),
                                    loc: self.loc(value.pos, &p),
                                });
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

    fn mcp(&mut self, node: Option<&Node>, path: &str, mutates: bool) -> McpConfig {
        let mut cfg = McpConfig {
            expose: true,
            read_only: !mutates,
            destructive: false,
            idempotent: !mutates,
            open_world: false,
        };
        let Some(node) = node else { return cfg };
        if let NodeValue::Bool(b) = node.value {
            cfg.expose = b;
            return cfg;
        }
        let Some(entries) = self.mapping(
            node,
            path,
            "MCP settings",
            &["expose", "read_only", "destructive", "idempotent", "open_world"],
        ) else {
            return cfg;
        };
        for (key, value) in entries {
            let Some(b) = self.boolean(value, &join(path, &key.name)) else {
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
                            self.out.value_checks.push(ValueCheck {
                                kind: DiagnosticKind::InvalidExample,
                                what: format!("example {side}"),
                                schema: schema.clone(),
                                value: v.clone(),
                                loc: self.loc(value.pos, &kp),
                            });
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

    // --- schemas ----------------------------------------------------------------------------

    /// A schema and whether it was marked `optional` (only meaningful for properties).
    fn schema(&mut self, node: &Node, path: &str, place: Place) -> Option<(Schema, bool)> {
        let NodeValue::Map(entries) = &node.value else {
            self.wrong_type(node, path, "a schema mapping (e.g. `{type: string}`)");
            return None;
        };
        let ty_node = node.get("type");
        let ref_node = node.get("ref");
        let ty: Option<String> = match (ty_node, ref_node) {
            (Some(_), Some(r)) => {
                self.error(
                    DiagnosticKind::TypeAndRef,
                    "a schema has both `type` and `ref`",
                    r.pos,
                    &join(path, "ref"),
                    Some("keep one: `ref` already names the type".into()),
                );
                return None;
            }
            (Some(t), None) => {
                let p = join(path, "type");
                let s = self.string(t, &p)?;
                if !TYPES.contains(&s.as_str()) {
                    let help = match did_you_mean(&s, TYPES.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => format!("types: {}", TYPES.join(", ")),
                    };
                    self.error(DiagnosticKind::UnknownType, format!("unknown type `{s}`"), t.pos, &p, Some(help));
                    return None;
                }
                Some(s)
            }
            (None, Some(_)) => None,
            (None, None) => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "schema has no `type` (or `ref`)",
                    node.pos,
                    path,
                    Some(format!("add `type:` — one of {}", TYPES.join(", "))),
                );
                return None;
            }
        };

        // Keys: common + the type's own; a key valid for another type gets a precise message.
        let own = ty.as_deref().map(type_keys).unwrap_or(&[]);
        let mut ok = true;
        for (key, _) in entries {
            let k = key.name.as_str();
            if COMMON_KEYS.contains(&k) || own.contains(&k) {
                continue;
            }
            ok = false;
            let owner = TYPES.iter().find(|t| type_keys(t).contains(&k));
            let (msg, help) = match (owner, ty.as_deref()) {
                (Some(owner), Some(ty)) => (
                    format!("`{k}` does not apply to `{ty}`"),
                    format!("`{k}` belongs to `type: {owner}`; keys for `{ty}`: {}", own.join(", ")),
                ),
                (Some(owner), None) => (
                    format!("`{k}` does not apply to a `ref`"),
                    format!("`{k}` belongs to `type: {owner}`; put constraints on the definition"),
                ),
                (None, _) => {
                    let all = COMMON_KEYS.iter().chain(own.iter()).copied();
                    (
                        format!("unknown key `{k}` in a schema"),
                        match did_you_mean(k, all) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "valid keys here: {}",
                                COMMON_KEYS.iter().chain(own.iter()).copied().collect::<Vec<_>>().join(", ")
                            ),
                        },
                    )
                }
            };
            self.error(DiagnosticKind::UnknownKey, msg, key.pos, &join(path, k), Some(help));
        }

        let description = node.get("description").and_then(|n| self.string(n, &join(path, "description")));
        let nullable = node.get("nullable").and_then(|n| self.boolean(n, &join(path, "nullable"))).unwrap_or(false);
        let optional = match node.get("optional") {
            Some(n) if place == Place::Property => self.boolean(n, &join(path, "optional")).unwrap_or(false),
            Some(n) => {
                self.error(
                    DiagnosticKind::MisplacedKey,
                    "`optional` only applies to object properties",
                    n.pos,
                    &join(path, "optional"),
                    Some("remove it; only a property of an object can be absent".into()),
                );
                false
            }
            None => false,
        };

        let kind = match ty.as_deref() {
            None => {
                let r = ref_node?;
                let p = join(path, "ref");
                let name = self.string(r, &p)?;
                self.out.refs.push((name.clone(), self.loc(r.pos, &p)));
                Some(SchemaKind::Ref(name))
            }
            Some("string") => self.string_rules(node, path).map(SchemaKind::String),
            Some("integer") => self.number_rules(node, path, true).map(SchemaKind::Integer),
            Some("number") => self.number_rules(node, path, false).map(SchemaKind::Number),
            Some("boolean") => Some(SchemaKind::Boolean),
            Some("any") => Some(SchemaKind::Any),
            Some("enum") => self.enum_values(node, path).map(SchemaKind::Enum),
            Some("array") => self.array(node, path).map(SchemaKind::Array),
            Some("record") => {
                let p = join(path, "values");
                match node.get("values") {
                    Some(v) => self.schema(v, &p, Place::Other).map(|(s, _)| SchemaKind::Record(Box::new(s))),
                    None => {
                        self.error(
                            DiagnosticKind::MissingKey,
                            "record has no `values` schema",
                            node.pos,
                            path,
                            Some("add `values: {type: any}` (or a narrower schema)".into()),
                        );
                        None
                    }
                }
            }
            Some("object") => self.object(node, path).map(SchemaKind::Object),
            Some("one_of") => self.union(node, path).map(SchemaKind::OneOf),
            Some(_) => None,
        };
        let kind = kind?;
        if !ok {
            return None;
        }
        let mut schema =
            Schema { kind, nullable, description, default: None, examples: Vec::new(), origin: self.origin(node.pos) };

        if let Some(n) = node.get("default") {
            let p = join(path, "default");
            if place != Place::Property {
                self.error(
                    DiagnosticKind::MisplacedKey,
                    "`default` only applies to object properties",
                    n.pos,
                    &p,
                    Some("move the default onto the property that uses this schema".into()),
                );
                return None;
            }
            let v = self.json(n, &p)?;
            self.out.value_checks.push(ValueCheck {
                kind: DiagnosticKind::InvalidDefault,
                what: "default".into(),
                schema: schema.clone(),
                value: v.clone(),
                loc: self.loc(n.pos, &p),
            });
            schema.default = Some(v);
        }
        if let Some(n) = node.get("examples") {
            let p = join(path, "examples");
            if let NodeValue::Seq(items) = &n.value {
                for (i, item) in items.iter().enumerate() {
                    let ip = format!("{p}[{i}]");
                    if let Some(v) = self.json(item, &ip) {
                        self.out.value_checks.push(ValueCheck {
                            kind: DiagnosticKind::InvalidExample,
                            what: "example".into(),
                            schema: schema.clone(),
                            value: v.clone(),
                            loc: self.loc(item.pos, &ip),
                        });
                        schema.examples.push(v);
                    }
                }
            } else {
                self.wrong_type(n, &p, "a list of example values");
            }
        }
        Some((schema, optional))
    }

    fn string_rules(&mut self, node: &Node, path: &str) -> Option<StringRules> {
        let min = node.get("min_length").map(|n| (self.count(n, &join(path, "min_length"), 0), n));
        let max = node.get("max_length").map(|n| (self.count(n, &join(path, "max_length"), 0), n));
        let mut rules = StringRules::default();
        let mut ok = true;
        if let Some((v, _)) = &min {
            ok &= v.is_some();
            rules.min_length = *v;
        }
        if let Some((v, _)) = &max {
            ok &= v.is_some();
            rules.max_length = *v;
        }
        if let (Some(lo), Some(hi), Some((_, n))) = (rules.min_length, rules.max_length, &min)
            && lo > hi
        {
            self.error(
                DiagnosticKind::MinGreaterThanMax,
                format!("`min_length` ({lo}) is greater than `max_length` ({hi})"),
                n.pos,
                &join(path, "min_length"),
                Some("no string could satisfy both: swap or fix the bounds".into()),
            );
            ok = false;
        }
        if let Some(n) = node.get("pattern") {
            let p = join(path, "pattern");
            if let Some(pat) = self.string(n, &p) {
                match Regex::new(&pat) {
                    Ok(_) => rules.pattern = Some(pat),
                    Err(e) => {
                        let detail = e.to_string().lines().last().unwrap_or("").trim().to_string();
                        self.error(
                            DiagnosticKind::InvalidRegex,
                            format!("invalid regex `{pat}`: {detail}"),
                            n.pos,
                            &p,
                            Some("patterns use Rust `regex` syntax (no look-around or back-references)".into()),
                        );
                        ok = false;
                    }
                }
            } else {
                ok = false;
            }
        }
        if let Some(n) = node.get("format") {
            let p = join(path, "format");
            let formats = ["date-time", "uuid", "uri"];
            match self.string(n, &p).as_deref() {
                Some("date-time") => rules.format = Some(Format::DateTime),
                Some("uuid") => rules.format = Some(Format::Uuid),
                Some("uri") => rules.format = Some(Format::Uri),
                Some(other) => {
                    let help = match did_you_mean(other, formats) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "formats: date-time, uuid, uri".into(),
                    };
                    self.error(
                        DiagnosticKind::UnknownFormat,
                        format!("unknown string format `{other}`"),
                        n.pos,
                        &p,
                        Some(help),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        ok.then_some(rules)
    }

    fn number_rules(&mut self, node: &Node, path: &str, integer: bool) -> Option<NumberRules> {
        let mut ok = true;
        let mut bound = |this: &mut Self, key: &str, excl_key: &str| -> Option<Bound> {
            let inc = node.get(key);
            let exc = node.get(excl_key);
            let (n, exclusive) = match (inc, exc) {
                (Some(_), Some(e)) => {
                    this.error(
                        DiagnosticKind::ConflictingBounds,
                        format!("both `{key}` and `{excl_key}` are set"),
                        e.pos,
                        &join(path, excl_key),
                        Some(format!("keep one of `{key}` (inclusive) or `{excl_key}`")),
                    );
                    ok = false;
                    return None;
                }
                (Some(n), None) => (n, false),
                (None, Some(n)) => (n, true),
                (None, None) => return None,
            };
            let p = join(path, if exclusive { excl_key } else { key });
            let Some(value) = this.number(n, &p) else {
                ok = false;
                return None;
            };
            if integer && value.fract() != 0.0 {
                this.error(
                    DiagnosticKind::WrongType,
                    format!("integer bound `{value}` is not a whole number"),
                    n.pos,
                    &p,
                    Some(format!("use {}", value.round())),
                );
                ok = false;
                return None;
            }
            Some(Bound { value, exclusive })
        };
        let minimum = bound(self, "min", "exclusive_min");
        let maximum = bound(self, "max", "exclusive_max");
        if let (Some(lo), Some(hi)) = (minimum, maximum) {
            let empty = lo.value > hi.value || (lo.value == hi.value && (lo.exclusive || hi.exclusive));
            if empty {
                let n = node.get("min").or(node.get("exclusive_min")).map(|n| n.pos).unwrap_or(node.pos);
                self.error(
                    DiagnosticKind::MinGreaterThanMax,
                    format!("the lower bound ({}) is not below the upper bound ({})", lo.value, hi.value),
                    n,
                    &join(path, "min"),
                    Some("no value could satisfy both: swap or fix the bounds".into()),
                );
                ok = false;
            }
        }
        ok.then_some(NumberRules { minimum, maximum })
    }

    fn enum_values(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let p = join(path, "values");
        let Some(n) = node.get("values") else {
            self.error(
                DiagnosticKind::MissingKey,
                "enum has no `values`",
                node.pos,
                path,
                Some("add `values: [a, b, …]`".into()),
            );
            return None;
        };
        let list = self.string_list(n, &p)?;
        if list.is_empty() {
            self.error(
                DiagnosticKind::EmptyEnum,
                "enum has no values",
                n.pos,
                &p,
                Some("list at least one value".into()),
            );
            return None;
        }
        let mut seen: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, (v, pos)) in list.into_iter().enumerate() {
            if seen.contains(&v) {
                self.error(
                    DiagnosticKind::DuplicateEnumValue,
                    format!("enum value `{v}` is listed twice"),
                    pos,
                    &format!("{p}[{i}]"),
                    Some("remove the repeat".into()),
                );
                ok = false;
            } else if pascal_case(&v).is_empty() || !pascal_case(&v).chars().all(|c| c.is_alphanumeric() || c == '_') {
                self.error(
                    DiagnosticKind::BadEnumValue,
                    format!("enum value `{v}` cannot name a Rust variant"),
                    pos,
                    &format!("{p}[{i}]"),
                    Some("use letters, digits, `_` or `-`".into()),
                );
                ok = false;
            } else {
                seen.push(v);
            }
        }
        ok.then_some(seen)
    }

    fn array(&mut self, node: &Node, path: &str) -> Option<ArraySchema> {
        let p = join(path, "items");
        let items = match node.get("items") {
            Some(n) => self.schema(n, &p, Place::Other).map(|(s, _)| s),
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "array has no `items` schema",
                    node.pos,
                    path,
                    Some("add `items: {type: …}`".into()),
                );
                None
            }
        };
        let min = node.get("min_items").and_then(|n| self.count(n, &join(path, "min_items"), 0));
        let max = node.get("max_items").and_then(|n| self.count(n, &join(path, "max_items"), 0));
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            let pos = node.get("min_items").map(|n| n.pos).unwrap_or(node.pos);
            self.error(
                DiagnosticKind::MinGreaterThanMax,
                format!("`min_items` ({lo}) is greater than `max_items` ({hi})"),
                pos,
                &join(path, "min_items"),
                Some("no list could satisfy both: swap or fix the bounds".into()),
            );
            return None;
        }
        Some(ArraySchema { items: Box::new(items?), min_items: min, max_items: max })
    }

    fn object(&mut self, node: &Node, path: &str) -> Option<ObjectSchema> {
        let unknown_keys = match node.get("unknown_keys") {
            None => UnknownKeys::Reject,
            Some(n) => {
                let p = join(path, "unknown_keys");
                match self.string(n, &p).as_deref() {
                    Some("reject") => UnknownKeys::Reject,
                    Some("strip") => UnknownKeys::Strip,
                    Some("allow") => UnknownKeys::Allow,
                    Some(other) => {
                        let help = did_you_mean(other, ["reject", "strip", "allow"])
                            .map_or("use `reject`, `strip` or `allow`".to_string(), |s| format!("did you mean `{s}`?"));
                        self.error(
                            DiagnosticKind::WrongValue,
                            format!("unknown `unknown_keys` policy `{other}`"),
                            n.pos,
                            &p,
                            Some(help),
                        );
                        return None;
                    }
                    None => return None,
                }
            }
        };
        let mut fields: Vec<Field> = Vec::new();
        let mut ok = true;
        if let Some(props) = node.get("properties") {
            let pp = join(path, "properties");
            match &props.value {
                NodeValue::Map(entries) => {
                    for (key, value) in entries {
                        let fp = join(&pp, &key.name);
                        if !wire_name_regex().is_match(&key.name) {
                            self.error(DiagnosticKind::BadPropertyName, format!("property name `{}` cannot become a Rust field", key.name), key.pos, &fp, Some("use letters, digits and `_`, starting with a letter (camelCase on the wire is fine)".into()));
                            ok = false;
                            continue;
                        }
                        let rust_name = snake_case(&key.name);
                        if let Some(other) = fields.iter().find(|f| f.rust_name == rust_name) {
                            self.error(
                                DiagnosticKind::DuplicateField,
                                format!(
                                    "properties `{}` and `{}` both become the Rust field `{rust_name}`",
                                    other.wire_name, key.name
                                ),
                                key.pos,
                                &fp,
                                Some("rename one of them".into()),
                            );
                            ok = false;
                            continue;
                        }
                        if unknown_keys == UnknownKeys::Allow && rust_name == "extra" {
                            self.error(
                                DiagnosticKind::DuplicateField,
                                "property `extra` clashes with the map that keeps unknown keys (`unknown_keys: allow`)",
                                key.pos,
                                &fp,
                                Some("rename the property".into()),
                            );
                            ok = false;
                            continue;
                        }
                        match self.schema(value, &fp, Place::Property) {
                            Some((schema, optional)) => {
                                fields.push(Field { wire_name: key.name.clone(), rust_name, optional, schema })
                            }
                            None => ok = false,
                        }
                    }
                }
                NodeValue::Null => {}
                _ => {
                    self.wrong_type(props, &pp, "a mapping of property name → schema");
                    ok = false;
                }
            }
        }
        let rules = match node.get("rules") {
            Some(n) => self.rules(n, &join(path, "rules"), &fields),
            None => Some(Vec::new()),
        };
        if !ok {
            return None;
        }
        Some(ObjectSchema { fields, unknown_keys, rules: rules? })
    }

    fn rules(&mut self, node: &Node, path: &str, fields: &[Field]) -> Option<Vec<Rule>> {
        let NodeValue::Seq(items) = &node.value else {
            self.wrong_type(node, path, "a list of rules");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(entries) =
                self.mapping(item, &p, "a rule", &["at_least_one_of", "mutually_exclusive", "message", "path"])
            else {
                ok = false;
                continue;
            };
            let kinds: Vec<&&(Key, Node)> =
                entries.iter().filter(|(k, _)| k.name == "at_least_one_of" || k.name == "mutually_exclusive").collect();
            let [(kind_key, list_node)] = kinds.as_slice().iter().map(|e| (&e.0, &e.1)).collect::<Vec<_>>()[..] else {
                self.error(
                    DiagnosticKind::BadRule,
                    "a rule needs exactly one of `at_least_one_of` or `mutually_exclusive`",
                    item.pos,
                    &p,
                    Some("e.g. `- at_least_one_of: [id, taskId]`".into()),
                );
                ok = false;
                continue;
            };
            let lp = join(&p, &kind_key.name);
            let Some(names) = self.string_list(list_node, &lp) else {
                ok = false;
                continue;
            };
            if names.len() < 2 {
                self.error(
                    DiagnosticKind::BadRule,
                    "a rule relates at least two fields",
                    list_node.pos,
                    &lp,
                    Some("list two or more property names".into()),
                );
                ok = false;
                continue;
            }
            for (j, (name, pos)) in names.iter().enumerate() {
                match fields.iter().find(|f| &f.wire_name == name) {
                    None => {
                        let help = did_you_mean(name, fields.iter().map(|f| f.wire_name.as_str()))
                            .map_or("rules may only name properties of the same object".to_string(), |s| {
                                format!("did you mean `{s}`?")
                            });
                        self.error(
                            DiagnosticKind::BadRule,
                            format!("rule names unknown property `{name}`"),
                            *pos,
                            &format!("{lp}[{j}]"),
                            Some(help),
                        );
                        ok = false;
                    }
                    Some(f) if f.required() => {
                        self.error(
                            DiagnosticKind::BadRule,
                            format!("rule names `{name}`, which is required anyway"),
                            *pos,
                            &format!("{lp}[{j}]"),
                            Some(format!("mark `{name}` as `optional: true`, or drop it from the rule")),
                        );
                        ok = false;
                    }
                    Some(_) => {}
                }
            }
            let message = match item.get("message") {
                Some(m) => self.string(m, &join(&p, "message")),
                None => None,
            };
            let issue_path = match item.get("path") {
                Some(m) => {
                    let pp = join(&p, "path");
                    let s = self.string(m, &pp);
                    if let Some(s) = &s
                        && !fields.iter().any(|f| &f.wire_name == s)
                    {
                        self.error(
                            DiagnosticKind::BadRule,
                            format!("rule path `{s}` is not a property of this object"),
                            m.pos,
                            &pp,
                            Some("name one of the object's properties, or drop `path`".into()),
                        );
                        ok = false;
                    }
                    s
                }
                None => None,
            };
            let names: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
            let quoted = names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
            out.push(if kind_key.name == "at_least_one_of" {
                Rule::AtLeastOneOf {
                    message: message.unwrap_or_else(|| format!("at least one of {quoted} is required")),
                    fields: names,
                    path: issue_path,
                }
            } else {
                Rule::MutuallyExclusive {
                    message: message.unwrap_or_else(|| format!("at most one of {quoted} may be given")),
                    fields: names,
                    path: issue_path,
                }
            });
        }
        ok.then_some(out)
    }

    fn union(&mut self, node: &Node, path: &str) -> Option<Union> {
        let tp = join(path, "tag");
        let tag = match node.get("tag") {
            Some(n) => self.string(n, &tp),
            None => {
                self.error(
                    DiagnosticKind::MissingKey,
                    "`one_of` has no `tag`",
                    node.pos,
                    path,
                    Some("add `tag: <discriminator property>`, e.g. `tag: kind`".into()),
                );
                None
            }
        };
        let vp = join(path, "variants");
        let Some(vnode) = node.get("variants") else {
            self.error(
                DiagnosticKind::MissingKey,
                "`one_of` has no `variants`",
                node.pos,
                path,
                Some("add `variants: {tagValue: {type: object, …}}`".into()),
            );
            return None;
        };
        let NodeValue::Map(entries) = &vnode.value else {
            self.wrong_type(vnode, &vp, "a mapping of tag value → object schema");
            return None;
        };
        let tag = tag?;
        let mut variants: Vec<Variant> = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            let p = join(&vp, &key.name);
            let rust_name = pascal_case(&key.name);
            if rust_name.is_empty()
                || !rust_name.chars().all(|c| c.is_alphanumeric() || c == '_')
                || rust_name.starts_with(|c: char| c.is_ascii_digit())
            {
                self.error(
                    DiagnosticKind::BadVariant,
                    format!("tag value `{}` cannot name a Rust variant", key.name),
                    key.pos,
                    &p,
                    Some("use letters, digits, `_` or `-`, starting with a letter".into()),
                );
                ok = false;
                continue;
            }
            if variants.iter().any(|v| v.rust_name == rust_name) {
                self.error(
                    DiagnosticKind::BadVariant,
                    format!("tag value `{}` repeats another variant's Rust name `{rust_name}`", key.name),
                    key.pos,
                    &p,
                    Some("rename one of them".into()),
                );
                ok = false;
                continue;
            }
            let Some((schema, _)) = self.schema(value, &p, Place::Other) else {
                ok = false;
                continue;
            };
            match &schema.kind {
                SchemaKind::Object(obj) => {
                    if obj.fields.iter().any(|f| f.wire_name == tag) {
                        self.error(
                            DiagnosticKind::BadVariant,
                            format!("variant `{}` declares the tag property `{tag}` itself", key.name),
                            value.pos,
                            &p,
                            Some("remove it: the union adds the tag".into()),
                        );
                        ok = false;
                        continue;
                    }
                }
                SchemaKind::Ref(r) => self.out.variant_refs.push((r.clone(), tag.clone(), self.loc(value.pos, &p))),
                _ => {
                    self.error(
                        DiagnosticKind::BadVariant,
                        format!("variant `{}` is not an object", key.name),
                        value.pos,
                        &p,
                        Some("each variant is an object schema or a `ref` to one".into()),
                    );
                    ok = false;
                    continue;
                }
            }
            if schema.nullable {
                self.error(
                    DiagnosticKind::BadVariant,
                    format!("variant `{}` cannot be nullable", key.name),
                    value.pos,
                    &p,
                    Some("make the union itself `nullable`".into()),
                );
                ok = false;
                continue;
            }
            variants.push(Variant { tag_value: key.name.clone(), rust_name, schema });
        }
        if variants.is_empty() && ok {
            self.error(
                DiagnosticKind::BadVariant,
                "`one_of` has no variants",
                vnode.pos,
                &vp,
                Some("add at least one variant".into()),
            );
            return None;
        }
        ok.then_some(Union { tag, variants })
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
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

fn pascal_name_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Z][A-Za-z0-9]*$").expect("static regex"));
    &RE
}

fn wire_name_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[A-Za-z][A-Za-z0-9_]*$").expect("static regex"));
    &RE
}

fn alias_regex() -> &'static Regex {
    static RE: std::sync::LazyLock<Regex> =
        std::sync::LazyLock::new(|| Regex::new(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$").expect("static regex"));
    &RE
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

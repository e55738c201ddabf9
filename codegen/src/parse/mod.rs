//! YAML tree → model, reporting every problem that can be seen locally (wrong keys and types,
//! bad names, `min > max`, invalid regexes, …) with its exact position.
//!
//! What needs the whole spec (duplicates across files, references, values that must validate
//! against possibly referenced schemas) is recorded here with its position and decided in
//! `check`.
//!
//! One [`Reader`] walks a file; its methods are split by the part of the spec language they read:
//! this module holds the entry point and the typed readers every part uses (`mapping`, `string`,
//! `count`, …), [`events`] the event entries and their runtime policy, [`schemas`] definitions
//! and schema nodes, [`rules`] the constraints on values (string, number and enum rules, an
//! object's cross-field rules) and [`unions`] `one_of`.

mod events;
mod hooks;
mod rules;
mod schemas;
mod unions;

use serde_json::Value;

use crate::SpecSource;
use crate::diagnostics::{Diagnostic, DiagnosticKind, Diagnostics, Location, did_you_mean};
use crate::model::{Definition, Event, Origin, Schema};
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
    /// Every name an event `publishes`: none may be an event of the spec.
    pub published: Vec<(String, Loc)>,
    /// Each `claude_code` route (event, index in its list) and where it was written.
    pub hook_routes: Vec<(String, usize, Loc)>,
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

/// Reads one spec file: what it finds goes to `out`, what is wrong to `diags`.
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

    /// Record `value` to be validated against `schema` once the whole spec is known (the schema
    /// may reference definitions of other files).
    fn value_check(
        &mut self,
        kind: DiagnosticKind,
        what: String,
        schema: &Schema,
        value: &Value,
        pos: Pos,
        path: &str,
    ) {
        let loc = self.loc(pos, path);
        self.out.value_checks.push(ValueCheck { kind, what, schema: schema.clone(), value: value.clone(), loc });
    }

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
}

/// `path.key`, or `key` at the root.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

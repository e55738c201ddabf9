//! An event's `claude_code` key: the Claude Code hooks it serves. Local shape is checked here;
//! what needs the event's input schema or every event (properties that exist, required ones
//! filled, one route per hook) is checked in `check::hooks`.

use std::sync::OnceLock;

use regex::Regex;

use super::{Reader, join};
use crate::diagnostics::DiagnosticKind;
use crate::model::{HookRoute, HookSource};
use crate::yaml::{Node, NodeValue};

const ROUTE_KEYS: &[&str] = &["hooks", "when", "fields", "answer"];
/// The answer kinds (`claudebench_contract::hook::HookAnswer`).
pub(crate) const ANSWERS: &[&str] = &["nothing", "permission", "prompt_context", "context"];

/// Claude Code names hooks in PascalCase (`PreToolUse`); `*` is the catch-all.
fn hook_name_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(\*|[A-Z][A-Za-z0-9]{0,63})$").expect("valid regex"))
}

/// Hook input fields are snake_case, paths dotted: `tool_input.todos`, `model.id`.
fn path_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_]+)*$").expect("valid regex"))
}

impl Reader<'_> {
    /// One route (a mapping) or several (a list of them).
    pub(super) fn claude_code_routes(&mut self, node: &Node, path: &str) -> Option<Vec<HookRoute>> {
        match &node.value {
            NodeValue::Seq(items) if !items.is_empty() => {
                let routes: Vec<Option<HookRoute>> =
                    items.iter().enumerate().map(|(i, item)| self.claude_code(item, &format!("{path}[{i}]"))).collect();
                routes.into_iter().collect()
            }
            _ => Some(vec![self.claude_code(node, path)?]),
        }
    }

    fn claude_code(&mut self, node: &Node, path: &str) -> Option<HookRoute> {
        let entries = self.mapping(node, path, "a Claude Code route", ROUTE_KEYS)?;
        let (mut hooks, mut when, mut fields, mut answer) = (None, None, Some(Vec::new()), None);
        let mut ok = true;
        for (key, value) in entries {
            let p = join(path, &key.name);
            match key.name.as_str() {
                "hooks" => hooks = self.hook_names(value, &p),
                "when" => {
                    when = self.hook_when(value, &p);
                    ok &= when.is_some();
                }
                "fields" => fields = self.hook_fields(value, &p),
                "answer" => answer = self.hook_answer(value, &p),
                _ => {}
            }
        }
        if node.get("hooks").is_none() {
            self.error(
                DiagnosticKind::MissingKey,
                "Claude Code route has no `hooks`",
                node.pos,
                path,
                Some("list the Claude Code hooks this event serves, e.g. `hooks: [PreToolUse]`".into()),
            );
        }
        let answer = match node.get("answer") {
            Some(_) => answer?,
            None => "nothing".to_string(),
        };
        (ok).then_some(())?;
        Some(HookRoute { hooks: hooks?, when: when.flatten(), fields: fields?, answer })
    }

    fn hook_names(&mut self, node: &Node, path: &str) -> Option<Vec<String>> {
        let list = self.string_list(node, path)?;
        if list.is_empty() {
            self.error(
                DiagnosticKind::BadHookRoute,
                "`hooks` is empty",
                node.pos,
                path,
                Some("name at least one Claude Code hook".into()),
            );
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for (i, (name, pos)) in list.into_iter().enumerate() {
            let p = format!("{path}[{i}]");
            if !hook_name_regex().is_match(&name) {
                self.error(
                    DiagnosticKind::BadHookRoute,
                    format!("`{name}` is not a Claude Code hook name"),
                    pos,
                    &p,
                    Some("hook names are PascalCase, as Claude Code sends them in `hook_event_name` (or `*`)".into()),
                );
                ok = false;
            } else if out.contains(&name) {
                self.error(DiagnosticKind::BadHookRoute, format!("`{name}` is listed twice"), pos, &p, None);
                ok = false;
            } else {
                out.push(name);
            }
        }
        ok.then_some(out)
    }

    /// `when: { <field>: <value> }` or `when: { <field>: { not: <value> } }`; `Some(None)` never.
    fn hook_when(&mut self, node: &Node, path: &str) -> Option<Option<(String, String, bool)>> {
        let NodeValue::Map(entries) = &node.value else {
            self.wrong_type(node, path, "a mapping with one field, e.g. `{ tool_name: TodoWrite }`");
            return None;
        };
        let [(key, value)] = entries.as_slice() else {
            self.error(
                DiagnosticKind::BadHookRoute,
                "`when` must name exactly one field",
                node.pos,
                path,
                Some("e.g. `when: { tool_name: TodoWrite }` or `when: { tool_name: { not: TodoWrite } }`".into()),
            );
            return None;
        };
        let p = join(path, &key.name);
        if !path_regex().is_match(&key.name) || key.name.contains('.') {
            self.error(
                DiagnosticKind::BadHookRoute,
                format!("`{}` is not a top-level hook input field", key.name),
                key.pos,
                &p,
                Some("conditions test a top-level snake_case field such as `tool_name`".into()),
            );
            return None;
        }
        let (equals, negate) = match &value.value {
            NodeValue::Str(s) => (s.clone(), false),
            NodeValue::Map(_) => {
                let inner = self.mapping(value, &p, "a negated condition", &["not"])?;
                let (_, v) = inner.first()?;
                (self.string(v, &join(&p, "not"))?, true)
            }
            _ => {
                self.wrong_type(value, &p, "a string or `{ not: <string> }`");
                return None;
            }
        };
        Some(Some((key.name.clone(), equals, negate)))
    }

    fn hook_fields(&mut self, node: &Node, path: &str) -> Option<Vec<(String, HookSource)>> {
        let NodeValue::Map(entries) = &node.value else {
            self.wrong_type(node, path, "a mapping of input property → source");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (key, value) in entries {
            match self.hook_source(value, &join(path, &key.name)) {
                Some(source) => out.push((key.name.clone(), source)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `path`, `$` (the whole input), `{ const: <value> }`, or a list of paths whose last item
    /// may be `{ const: <value> }` (the fallback).
    fn hook_source(&mut self, node: &Node, path: &str) -> Option<HookSource> {
        match &node.value {
            NodeValue::Str(s) if s == "$" => Some(HookSource::Input),
            NodeValue::Str(_) => Some(HookSource::Paths { paths: vec![self.hook_path(node, path)?], fallback: None }),
            NodeValue::Map(_) => Some(HookSource::Const(self.hook_const(node, path)?)),
            NodeValue::Seq(items) if !items.is_empty() => {
                let mut paths = Vec::new();
                let mut fallback = None;
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    match &item.value {
                        NodeValue::Map(_) if i + 1 == items.len() && i > 0 => {
                            fallback = Some(self.hook_const(item, &p)?)
                        }
                        _ => paths.push(self.hook_path(item, &p)?),
                    }
                }
                Some(HookSource::Paths { paths, fallback })
            }
            _ => {
                self.wrong_type(node, path, "a hook input path, `$`, `{ const: … }` or a list of paths");
                None
            }
        }
    }

    fn hook_path(&mut self, node: &Node, path: &str) -> Option<String> {
        let s = self.string(node, path)?;
        if path_regex().is_match(&s) {
            return Some(s);
        }
        self.error(
            DiagnosticKind::BadHookRoute,
            format!("`{s}` is not a path into the hook input"),
            node.pos,
            path,
            Some("write dotted snake_case field names as Claude Code sends them, e.g. `tool_input.file_path`".into()),
        );
        None
    }

    fn hook_const(&mut self, node: &Node, path: &str) -> Option<serde_json::Value> {
        let entries = self.mapping(node, path, "a constant", &["const"])?;
        let Some((_, value)) = entries.first() else {
            self.error(DiagnosticKind::MissingKey, "constant has no `const`", node.pos, path, None);
            return None;
        };
        self.json(value, &join(path, "const"))
    }

    fn hook_answer(&mut self, node: &Node, path: &str) -> Option<String> {
        let s = self.string(node, path)?;
        if ANSWERS.contains(&s.as_str()) {
            return Some(s);
        }
        self.error(
            DiagnosticKind::WrongValue,
            format!("`{s}` is not an answer kind"),
            node.pos,
            path,
            Some(format!("one of {}", ANSWERS.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "))),
        );
        None
    }
}

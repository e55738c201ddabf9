//! The `hook.pre_tool` rule engine: decides whether a Claude Code tool call may run, with
//! warnings and an optionally rewritten input. Pure Rust, no Redis.
//!
//! Rules are data ([`HookRules`], serde; [`HookRules::from_file`] reads a YAML or JSON override,
//! with a built-in default; an example lives in `tests/fixtures/hook-rules.yaml`). Compared with the original validator this closes its bypasses:
//! - a shell command is split into every part that runs — on `;`, `&&`, `||`, `|`, `&`,
//!   newlines, `( … )` groups, and the insides of `$( … )` and backticks (also inside double
//!   quotes, where the shell still runs them) — and EVERY part is checked, so a harmless first
//!   command no longer lets the rest through;
//! - "safe" commands only exempt their own part from block rules (they exist to avoid false
//!   positives such as `echo "rm -rf /"`); warn rules still apply to them, which is what the
//!   original needed a look-ahead for;
//! - tool names match exactly (`Bash`, `Write`, `Edit`, `MultiEdit`, `NotebookEdit`), never by
//!   substring (`TodoWrite` is not `Write`);
//! - path rules see the lexically normalised `file_path` / `notebook_path` of Write, Edit,
//!   MultiEdit and NotebookEdit (`/tmp/../etc/passwd` is `/etc/passwd`);
//! - warnings are returned, and a `modify` rule (e.g. stripping `sudo `) returns the rewritten
//!   tool input.

use claudebench_generated::error::{Error, ErrorCode};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How serious a rule is; rules are evaluated most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

/// What a matching rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// Refuse the call.
    Block,
    /// Allow, with a warning.
    Warn,
    /// Rewrite the command (patterns replaced by `replacement`) and allow.
    Modify,
}

/// What a rule's patterns are matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleTarget {
    /// Every part of the shell command (for `modify`: the whole command string).
    Command,
    /// The normalised file path of the tool input.
    Path,
}

/// One rule. Unknown keys are refused: a misspelt field in a security ruleset must not be
/// silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// Exact tool names the rule applies to.
    pub tools: Vec<String>,
    pub severity: Severity,
    pub action: RuleAction,
    pub target: RuleTarget,
    /// Regular expressions (`regex` crate syntax), matched case-insensitively anywhere.
    pub patterns: Vec<String>,
    /// Reason or warning text (for `modify`: the reason returned with the rewritten input);
    /// `{{match}}` is replaced by the matched text, `{{rule}}` by the rule name.
    pub message: String,
    /// For `modify`: the replacement (`$1` refers to a capture group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// A whole ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HookRules {
    /// Command parts matching one of these (anchored, case-sensitive) are exempt from block
    /// rules, not from warn rules.
    pub safe_commands: Vec<String>,
    pub rules: Vec<Rule>,
}

/// The decision for one tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDecision {
    pub allow: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The blocking rule when refused, or the rewriting rule(s) when modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The rewritten tool input, when a modify rule changed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Value>,
}

const SHELL_TOOLS: &[&str] = &["Bash"];
const FILE_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

fn tools(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for HookRules {
    /// The built-in ruleset: the original's intent, with the patterns tightened.
    fn default() -> Self {
        HookRules {
            safe_commands: vec![
                r"^(ls|pwd|echo|whoami|date|uptime)(\s[^>]*)?$".into(),
                r"^cat\s+[^>]+$".into(),
                r"^grep\s+[^>]+$".into(),
            ],
            rules: vec![
                Rule {
                    name: "dangerous_operations".into(),
                    tools: tools(SHELL_TOOLS),
                    severity: Severity::Critical,
                    action: RuleAction::Block,
                    target: RuleTarget::Command,
                    patterns: vec![
                        r"\brm\s+(-[a-z]*r[a-z]*f|-[a-z]*f[a-z]*r|-r\s+-f|-f\s+-r)".into(),
                        r"\bsudo\s+(rm|del)\b".into(),
                        r"\b(drop|truncate)\s+(database|table|schema)\b".into(),
                        r"\bformat\s+[cd]:".into(),
                        r"\bdel\s+/[fs]\b".into(),
                        r"\bmkfs(\.\w+)?\s".into(),
                        r"\bdd\s+[^|;&]*\bof=/dev/".into(),
                    ],
                    message: "Dangerous command pattern detected: {{match}}".into(),
                    replacement: None,
                },
                Rule {
                    name: "system_protection".into(),
                    tools: tools(FILE_TOOLS),
                    severity: Severity::High,
                    action: RuleAction::Block,
                    target: RuleTarget::Path,
                    patterns: vec![
                        r"^/(etc|sys|boot|proc|dev)(/|$)".into(),
                        r"^[a-z]:\\(windows|system32|system)(\\|$)".into(),
                    ],
                    message: "Cannot modify system directory: {{match}}".into(),
                    replacement: None,
                },
                Rule {
                    name: "system_redirect".into(),
                    tools: tools(SHELL_TOOLS),
                    severity: Severity::High,
                    action: RuleAction::Block,
                    target: RuleTarget::Command,
                    patterns: vec![
                        r">>?\s*/(etc|sys|boot|proc)/".into(),
                        r"\btee\s+(-a\s+)?/(etc|sys|boot|proc)/".into(),
                    ],
                    message: "Cannot modify system directory: {{match}}".into(),
                    replacement: None,
                },
                Rule {
                    name: "performance_warnings".into(),
                    tools: tools(SHELL_TOOLS),
                    severity: Severity::Medium,
                    action: RuleAction::Warn,
                    target: RuleTarget::Command,
                    patterns: vec![r"(very-)?large-file".into()],
                    message: "Warning: Large file operation".into(),
                    replacement: None,
                },
                Rule {
                    name: "filesystem_wide".into(),
                    tools: tools(SHELL_TOOLS),
                    severity: Severity::Medium,
                    action: RuleAction::Warn,
                    target: RuleTarget::Command,
                    patterns: vec![r"\bfind\s+/(\s|$)".into()],
                    message: "Warning: Filesystem-wide operation".into(),
                    replacement: None,
                },
                Rule {
                    name: "privilege_stripping".into(),
                    tools: tools(SHELL_TOOLS),
                    severity: Severity::Low,
                    action: RuleAction::Modify,
                    target: RuleTarget::Command,
                    // At the start of the command or of any later part of it.
                    patterns: vec![r"(^|[;&|(`\n]\s*|\$\(\s*)sudo\s+".into()],
                    message: "Privileges stripped: leading sudo removed".into(),
                    replacement: Some("${1}".into()),
                },
            ],
        }
    }
}

impl HookRules {
    /// Parse a ruleset from JSON (the same shape as the serde form of [`HookRules`]).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::new(ErrorCode::Validation, format!("invalid hook rules: {e}")))
    }

    /// Parse a ruleset from YAML (same shape as the JSON form; YAML is easier to keep regexes
    /// readable in, since single-quoted strings need no backslash escaping).
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        yaml_serde::from_str(text).map_err(|e| Error::new(ErrorCode::Validation, format!("invalid hook rules: {e}")))
    }

    /// Parse a ruleset file's text, choosing the format by the file name: `.yaml` / `.yml` are
    /// YAML, anything else JSON (the format the override had before YAML was supported).
    pub fn parse_for_path(path: &std::path::Path, text: &str) -> Result<Self, Error> {
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml { Self::from_yaml(text) } else { Self::from_json(text) }
    }

    /// Read and parse a ruleset file (see [`HookRules::parse_for_path`]). An unreadable or
    /// invalid file is an error: silently falling back to other rules would hide a broken
    /// security configuration.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::internal(format!("cannot read hook rules `{}`: {e}", path.display())))?;
        Self::parse_for_path(path, &text)
            .map_err(|e| Error::new(e.code, format!("{} (in `{}`)", e.message, path.display())))
    }

    /// Compile the ruleset; every invalid pattern is reported.
    pub fn compile(&self) -> Result<HookEngine, Error> {
        let mut problems = Vec::new();
        let safe: Vec<Regex> = self
            .safe_commands
            .iter()
            .filter_map(|p| Regex::new(p).map_err(|e| problems.push(format!("safe command `{p}`: {e}"))).ok())
            .collect();
        let mut rules = Vec::new();
        for rule in &self.rules {
            let patterns: Vec<Regex> = rule
                .patterns
                .iter()
                .filter_map(|p| {
                    RegexBuilder::new(p)
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| problems.push(format!("rule `{}` pattern `{p}`: {e}", rule.name)))
                        .ok()
                })
                .collect();
            if rule.action == RuleAction::Modify && rule.replacement.is_none() {
                problems.push(format!("rule `{}`: a modify rule needs a replacement", rule.name));
            }
            rules.push(CompiledRule { rule: rule.clone(), patterns });
        }
        if !problems.is_empty() {
            return Err(Error::new(ErrorCode::Validation, format!("invalid hook rules: {}", problems.join("; "))));
        }
        // Stable: equal severities keep their configured order.
        rules.sort_by_key(|r| r.rule.severity);
        Ok(HookEngine { safe, rules, broken: None })
    }
}

#[derive(Debug, Clone)]
struct CompiledRule {
    rule: Rule,
    patterns: Vec<Regex>,
}

/// A compiled ruleset, ready to judge tool calls.
#[derive(Debug, Clone)]
pub struct HookEngine {
    safe: Vec<Regex>,
    rules: Vec<CompiledRule>,
    /// Set when the built-in rules could not be compiled: every call is refused (fail closed).
    broken: Option<String>,
}

impl Default for HookEngine {
    fn default() -> Self {
        // The built-in patterns are constants covered by tests; should one ever fail to
        // compile, an engine that silently allows everything is not acceptable: it refuses.
        HookRules::default().compile().unwrap_or_else(|e| HookEngine {
            safe: Vec::new(),
            rules: Vec::new(),
            broken: Some(e.message),
        })
    }
}

/// Where the command of a shell tool input lives.
const COMMAND_FIELDS: &[&str] = &["command", "cmd", "script"];
/// Where the path of a file tool input lives.
const PATH_FIELDS: &[&str] = &["file_path", "notebook_path", "path"];

impl HookEngine {
    /// Judge one call of `tool` with input `params`; relative paths stay relative.
    pub fn evaluate(&self, tool: &str, params: &Value) -> HookDecision {
        self.evaluate_in(tool, params, None)
    }

    /// Judge one call of `tool` with input `params`, made from the working directory `cwd`
    /// (when known): a relative file path is resolved against it before the path rules see it,
    /// so `../../etc/passwd` from `/home/dev` is recognised as `/etc/passwd`.
    pub fn evaluate_in(&self, tool: &str, params: &Value, cwd: Option<&str>) -> HookDecision {
        if let Some(problem) = &self.broken {
            return HookDecision {
                allow: false,
                reason: Some(format!("hook rules unavailable: {problem}")),
                rule: None,
                warnings: Vec::new(),
                modified: None,
            };
        }
        let command = command_of(params);
        let segments = command.as_deref().map(split_shell).unwrap_or_default();
        let path = path_of(params).map(|p| normalize_path(&resolve(cwd, &p)));
        let mut warnings = Vec::new();
        let mut rewritten: Option<String> = None;
        // Reasons and names of the modify rules that changed the command, in order.
        let mut modify_reasons: Vec<String> = Vec::new();
        let mut modify_rules: Vec<String> = Vec::new();

        for compiled in &self.rules {
            let rule = &compiled.rule;
            if !rule.tools.iter().any(|t| t == tool) {
                continue;
            }
            match (rule.action, rule.target) {
                (RuleAction::Modify, RuleTarget::Command) => {
                    let Some(replacement) = &rule.replacement else {
                        continue;
                    };
                    // Without a command string there is nothing to rewrite (and inventing an
                    // empty `command` field would change the tool input's shape).
                    let Some(before) = rewritten.clone().or_else(|| command.clone()) else {
                        continue;
                    };
                    let mut text = before.clone();
                    let mut first_match: Option<String> = None;
                    for re in &compiled.patterns {
                        if first_match.is_none() {
                            first_match = re.find(&text).map(|m| m.as_str().to_string());
                        }
                        text = re.replace_all(&text, replacement.as_str()).into_owned();
                    }
                    if text != before {
                        let reason = render(&rule.message, first_match.as_deref().unwrap_or(""), &rule.name);
                        if !modify_reasons.contains(&reason) {
                            modify_reasons.push(reason);
                        }
                        modify_rules.push(rule.name.clone());
                        rewritten = Some(text);
                    }
                }
                (RuleAction::Modify, RuleTarget::Path) => {}
                (action, target) => {
                    // Commands are checked part by part (a part on the safe list cannot be
                    // blocked); a path is checked whole.
                    let subjects: Vec<&str> = match target {
                        RuleTarget::Command => segments
                            .iter()
                            .map(String::as_str)
                            .filter(|seg| action != RuleAction::Block || !self.safe.iter().any(|s| s.is_match(seg)))
                            .collect(),
                        RuleTarget::Path => path.as_deref().into_iter().collect(),
                    };
                    for subject in subjects {
                        let Some(m) = compiled.patterns.iter().find_map(|re| re.find(subject)) else { continue };
                        let text = render(&rule.message, m.as_str(), &rule.name);
                        if action == RuleAction::Block {
                            return HookDecision {
                                allow: false,
                                reason: Some(text),
                                rule: Some(rule.name.clone()),
                                warnings,
                                modified: None,
                            };
                        }
                        if !warnings.contains(&text) {
                            warnings.push(text);
                        }
                    }
                }
            }
        }

        // A rewrite that ends where it started (rules undoing each other) is no modification.
        let modified =
            rewritten.filter(|cmd| command.as_deref() != Some(cmd.as_str())).map(|cmd| with_command(params, cmd));
        let (reason, rule) = if modified.is_some() {
            (Some(modify_reasons.join("; ")), Some(modify_rules.join(",")))
        } else {
            (None, None)
        };
        HookDecision { allow: true, reason, rule, warnings, modified }
    }
}

fn render(template: &str, matched: &str, rule: &str) -> String {
    template.replace("{{match}}", matched.trim()).replace("{{rule}}", rule)
}

/// The command string of a tool input: the input itself when it is a string, else its
/// `command` / `cmd` / `script` field.
fn command_of(params: &Value) -> Option<String> {
    match params {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => COMMAND_FIELDS.iter().find_map(|f| m.get(*f).and_then(Value::as_str)).map(str::to_string),
        _ => None,
    }
}

fn path_of(params: &Value) -> Option<String> {
    match params {
        Value::Object(m) => PATH_FIELDS.iter().find_map(|f| m.get(*f).and_then(Value::as_str)).map(str::to_string),
        _ => None,
    }
}

/// The tool input with its command replaced.
fn with_command(params: &Value, command: String) -> Value {
    match params {
        Value::Object(m) => {
            let mut m = m.clone();
            let field =
                COMMAND_FIELDS.iter().find(|f| m.get(**f).is_some_and(Value::is_string)).copied().unwrap_or("command");
            m.insert(field.to_string(), Value::String(command));
            Value::Object(m)
        }
        _ => Value::String(command),
    }
}

/// `path` made absolute against `cwd` when it is relative and `cwd` is an absolute directory.
fn resolve(cwd: Option<&str>, path: &str) -> String {
    match cwd {
        Some(dir) if !path.starts_with('/') && dir.starts_with('/') && !looks_like_windows(path) => {
            format!("{dir}/{path}")
        }
        _ => path.to_string(),
    }
}

/// `C:\…` style paths are absolute too (the Windows rules match them as given).
fn looks_like_windows(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Lexical normalisation: collapse `//` and `.`, resolve `..` (never above the root). Relative
/// paths stay relative (the working directory is unknown).
pub fn normalize_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

// --- `hook.user_prompt` ------------------------------------------------------------------------

/// What [`inspect_prompt`] found in a user prompt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PromptInspection {
    /// Warning lines (destructive commands, database destruction, secrets), in rule order.
    pub warnings: Vec<String>,
    /// Guidance hints (only when enhancement was asked for).
    pub hints: Vec<String>,
}

impl PromptInspection {
    /// The text appended to the prompt: warnings one per line, then `Context: ` and the hints,
    /// each block separated by a blank line; `None` when there is nothing to add.
    pub fn additions(&self) -> Option<String> {
        let mut blocks = Vec::new();
        if !self.warnings.is_empty() {
            blocks.push(self.warnings.join("\n"));
        }
        if !self.hints.is_empty() {
            blocks.push(format!("Context: {}", self.hints.join(". ")));
        }
        if blocks.is_empty() { None } else { Some(blocks.join("\n\n")) }
    }
}

/// (pattern, text) pairs, compiled once. Case-insensitive, as in the original.
struct PromptRule {
    re: Regex,
    text: &'static str,
}

fn prompt_rules(table: &[(&str, &'static str)]) -> Vec<PromptRule> {
    table
        .iter()
        // The patterns are constants covered by tests; one that failed to compile would only
        // lose its own warning, never the request.
        .filter_map(|(p, text)| {
            RegexBuilder::new(p).case_insensitive(true).build().ok().map(|re| PromptRule { re, text })
        })
        .collect()
}

static PROMPT_WARNINGS: std::sync::LazyLock<Vec<PromptRule>> = std::sync::LazyLock::new(|| {
    prompt_rules(&[
        (r"\brm\s+-[a-z]*(rf|fr)[a-z]*\s+/", "⚠️ Destructive command detected"),
        (r"\bdrop\s+database\b", "⚠️ Database destruction command"),
        (r"password|secret|api[_\s-]?key", "⚠️ Sensitive information mentioned"),
    ])
});

static PROMPT_HINTS: std::sync::LazyLock<Vec<PromptRule>> = std::sync::LazyLock::new(|| {
    prompt_rules(&[
        (r"\btest", "Remember to write comprehensive tests"),
        (r"\b(implement|create)", "Follow clean code principles"),
    ])
});

/// Look at a user prompt: warnings always, guidance hints when `enhance` is set.
pub fn inspect_prompt(prompt: &str, enhance: bool) -> PromptInspection {
    let pick = |rules: &[PromptRule]| {
        rules.iter().filter(|r| r.re.is_match(prompt)).map(|r| r.text.to_string()).collect::<Vec<_>>()
    };
    PromptInspection { warnings: pick(&PROMPT_WARNINGS), hints: if enhance { pick(&PROMPT_HINTS) } else { Vec::new() } }
}

/// Deepest `$( … )` / backtick nesting examined separately; anything deeper is checked as one
/// part (so it is still checked).
const MAX_NESTING: usize = 16;

/// Every part of a shell command that runs on its own, trimmed, in order (nested command
/// substitutions included as their own parts).
pub fn split_shell(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = command.chars().collect();
    split_into(&chars, &mut out, 0);
    out
}

fn flush(cur: &mut String, out: &mut Vec<String>) {
    let t = cur.trim();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    cur.clear();
}

fn split_into(chars: &[char], out: &mut Vec<String>, depth: usize) {
    if depth > MAX_NESTING {
        let whole: String = chars.iter().collect();
        if !whole.trim().is_empty() {
            out.push(whole.trim().to_string());
        }
        return;
    }
    let mut cur = String::new();
    let (mut in_single, mut in_double) = (false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_single {
            cur.push(c);
            if c == '\'' {
                in_single = false;
            }
            i += 1;
            continue;
        }
        match c {
            '\\' => {
                cur.push(c);
                if let Some(n) = chars.get(i + 1) {
                    cur.push(*n);
                }
                i += 2;
                continue;
            }
            '\'' if !in_double => {
                in_single = true;
                cur.push(c);
            }
            '"' => {
                in_double = !in_double;
                cur.push(c);
            }
            '`' => {
                let end = find_backtick(chars, i + 1);
                split_into(&chars[i + 1..end], out, depth + 1);
                i = end + 1;
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                let end = find_closing_paren(chars, i + 2);
                split_into(&chars[i + 2..end], out, depth + 1);
                i = end + 1;
                continue;
            }
            ';' | '\n' | '&' | '|' | '(' | ')' if !in_double => flush(&mut cur, out),
            _ => cur.push(c),
        }
        i += 1;
    }
    flush(&mut cur, out);
}

/// Index of the backtick closing one opened before `from` (or the end).
fn find_backtick(chars: &[char], from: usize) -> usize {
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '`' => return i,
            _ => i += 1,
        }
    }
    chars.len()
}

/// Index of the `)` closing a `(` opened before `from` (or the end), skipping quoted text.
fn find_closing_paren(chars: &[char], from: usize) -> usize {
    let (mut depth, mut in_single, mut in_double) = (1usize, false, false);
    let mut i = from;
    while i < chars.len() {
        let c = chars[i];
        if in_single {
            if c == '\'' {
                in_single = false;
            }
        } else {
            match c {
                '\\' => i += 1,
                '\'' if !in_double => in_single = true,
                '"' => in_double = !in_double,
                '(' if !in_double => depth += 1,
                ')' if !in_double => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_on_every_operator_and_extracts_substitutions() {
        assert_eq!(split_shell("ls && rm -rf /"), vec!["ls", "rm -rf /"]);
        assert_eq!(split_shell("a; b || c | d & e\nf"), vec!["a", "b", "c", "d", "e", "f"]);
        assert_eq!(split_shell("echo $(rm -rf /) done"), vec!["rm -rf /", "echo  done"]);
        assert_eq!(split_shell("echo `whoami`"), vec!["whoami", "echo"]);
        assert_eq!(split_shell("echo \"$(id)\""), vec!["id", "echo \"\""]);
        assert_eq!(split_shell("echo 'a; b'"), vec!["echo 'a; b'"]);
        assert_eq!(split_shell("(cd /; rm -rf x)"), vec!["cd /", "rm -rf x"]);
        assert_eq!(split_shell("echo $(echo $(rm -rf /))"), vec!["rm -rf /", "echo", "echo"]);
    }

    #[test]
    fn normalises_paths_lexically() {
        assert_eq!(normalize_path("/tmp/../etc//passwd"), "/etc/passwd");
        assert_eq!(normalize_path("/../../etc/./hosts"), "/etc/hosts");
        assert_eq!(normalize_path("a/../../b"), "../b");
    }

    #[test]
    fn the_default_rules_compile() {
        assert!(HookRules::default().compile().is_ok());
        let decision = HookEngine::default().evaluate("Bash", &json!({"command": "ls"}));
        assert!(decision.allow);
    }

    #[test]
    fn rules_load_from_yaml_or_json_by_extension_and_refuse_unknown_keys() {
        let yaml = yaml_serde::to_string(&HookRules::default()).unwrap();
        let path = std::path::Path::new("rules.yml");
        assert_eq!(HookRules::parse_for_path(path, &yaml).unwrap(), HookRules::default());
        let json = serde_json::to_string(&HookRules::default()).unwrap();
        assert_eq!(HookRules::parse_for_path(std::path::Path::new("rules.json"), &json).unwrap(), HookRules::default());
        let typo = "safeCommands: []\nrules:\n  - name: x\n    tools: [Bash]\n    severity: high\n    action: block\n    target: command\n    pattern: ['rm']\n    patterns: ['rm']\n    message: no\n";
        assert_eq!(HookRules::from_yaml(typo).unwrap_err().code, ErrorCode::Validation);
    }

    #[test]
    fn the_example_rules_file_parses_and_restates_the_built_in_rules() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/hook-rules.yaml");
        let rules = HookRules::from_file(&path).unwrap();
        assert!(rules.compile().is_ok());
        let mut without_project_rule = rules.clone();
        without_project_rule.rules.retain(|r| r.name != "no_force_push");
        assert_eq!(without_project_rule, HookRules::default());
    }

    #[test]
    fn sudo_stripping_returns_the_whole_input_and_says_why() {
        let d = HookEngine::default().evaluate("Bash", &json!({"command": "sudo apt-get install jq", "timeout": 5}));
        assert!(d.allow);
        assert_eq!(d.modified, Some(json!({"command": "apt-get install jq", "timeout": 5})));
        assert_eq!(d.reason.as_deref(), Some("Privileges stripped: leading sudo removed"));
        let plain = HookEngine::default().evaluate("Bash", &json!({"command": "apt-get install jq"}));
        assert_eq!((plain.modified, plain.reason), (None, None));
    }

    #[test]
    fn relative_paths_are_resolved_against_the_working_directory() {
        let e = HookEngine::default();
        let input = json!({"file_path": "../../etc/passwd", "content": "x"});
        assert!(!e.evaluate_in("Write", &input, Some("/home/dev")).allow);
        assert!(e.evaluate_in("Write", &json!({"file_path": "src/main.rs"}), Some("/home/dev")).allow);
    }

    #[test]
    fn prompts_get_warnings_and_hints_only_when_asked() {
        let i = inspect_prompt("Put the API key in the config, then rm -rf / and DROP DATABASE prod", false);
        assert_eq!(i.warnings.len(), 3);
        assert!(i.hints.is_empty());
        let i = inspect_prompt("Write tests and implement the parser", true);
        assert_eq!(
            i.additions().unwrap(),
            "Context: Remember to write comprehensive tests. Follow clean code principles"
        );
        assert_eq!(inspect_prompt("Explain this function", true).additions(), None);
    }

    #[test]
    fn rules_round_trip_through_json_and_bad_patterns_are_reported() {
        let text = serde_json::to_string(&HookRules::default()).unwrap();
        assert_eq!(HookRules::from_json(&text).unwrap(), HookRules::default());
        let mut bad = HookRules::default();
        bad.rules[0].patterns.push("(unclosed".into());
        assert_eq!(bad.compile().unwrap_err().code, ErrorCode::Validation);
    }
}

//! The `hook.pre_tool` guard: decides whether a Claude Code tool call may run — `allow`, `ask`
//! (a person confirms, with the reason) or `deny` (with the reason) — plus warnings and, for a
//! stripped `sudo`, the rewritten input. Pure Rust, no Redis.
//!
//! Parser: brush-parser (pure-Rust bash grammar with a typed AST and word pieces; no C, unlike
//! tree-sitter-bash; MIT and bash-level, unlike GPL/POSIX-only yash-syntax).
//!
//! A shell command goes through four steps, one module each:
//! 1. [`shell`]: size cap, a linear pre-scan, then parse into every simple command that may run
//!    (substitutions, here-docs, functions included), with words unquoted and decoded;
//! 2. [`resolve`]: wrappers (`sudo`, `env`, `xargs`, …) peeled off to the program that runs;
//! 3. [`judge`]: argv and write targets against the rules (paths in [`paths`], interpreter code
//!    in [`code`]);
//! 4. the strictest answer wins (deny > ask > allow). What cannot be known statically — a
//!    program or code computed at run time, downloaded or decoded data fed to a shell, text
//!    that does not parse — is `ask`, never a silent allow.
//!
//! File tools (`Write`, `Edit`, …) go through the same path rules. The rules are data
//! ([`rules`]).

mod code;
mod judge;
pub mod paths;
pub mod prompt;
pub mod resolve;
pub mod rules;
pub mod shell;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use rules::HookRules;

use paths::{Anchor, Loc, Pattern};

/// What happens to a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    /// A person must confirm (Claude Code asks the user).
    Ask,
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Deny => "deny",
        }
    }
}

/// The decision for one tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookDecision {
    pub decision: Decision,
    /// Why it is asked or denied, or why the input was rewritten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The rule that decided (for the audit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The rewritten tool input (a stripped `sudo`), to run instead of the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<Value>,
}

impl HookDecision {
    /// Whether the call may run without asking.
    pub fn allow(&self) -> bool {
        self.decision == Decision::Allow
    }
}

/// A decision with what the call would write: the files the guard resolved statically, as
/// absolute paths (the file of a file tool; for a shell command every redirection, `tee`, `cp`,
/// `mv`, `sed -i`, … target it could name). Leases are taken on these (`crate::leases::edits`).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub decision: HookDecision,
    /// Absolute, lexically normalised paths, each once, in the order met. Targets known only at
    /// run time, globs, `~` paths, Windows paths and paths relative to an unknown working
    /// directory are not listed.
    pub writes: Vec<String>,
}

/// The decision being built: the strictest answer wins, the first reason of that answer is kept.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    decision: Option<Decision>,
    reason: Option<String>,
    rule: Option<String>,
    warnings: Vec<String>,
    /// Char spans of plain `sudo`s to remove, when everything else is allowed.
    strip: Vec<(usize, usize)>,
    /// Files written, as absolute paths (see [`Judgement::writes`]).
    writes: Vec<String>,
}

impl Outcome {
    fn set(&mut self, decision: Decision, rule: &str, reason: String) {
        if self.decision.is_none_or(|d| d < decision) {
            self.decision = Some(decision);
            self.reason = Some(reason);
            self.rule = Some(rule.to_string());
        }
    }

    pub fn deny(&mut self, rule: &str, reason: String) {
        self.set(Decision::Deny, rule, reason);
    }

    pub fn ask(&mut self, rule: &str, reason: String) {
        self.set(Decision::Ask, rule, reason);
    }

    pub fn warn(&mut self, text: String) {
        if !self.warnings.contains(&text) {
            self.warnings.push(text);
        }
    }

    /// Record a file written at `loc`, when it is a plain absolute path.
    pub fn wrote(&mut self, loc: &Loc) {
        if loc.anchor != Anchor::Root || loc.climbs > 0 || loc.parts.is_empty() {
            return;
        }
        if loc.parts.iter().any(|p| paths::has_glob(p)) || matches!(loc.parts[0].as_str(), "dev" | "proc" | "sys") {
            return;
        }
        let path = loc.display();
        // Bounded: a command line of thousands of writes must cost linear time at most.
        if self.writes.len() < MAX_WRITES && !self.writes.contains(&path) {
            self.writes.push(path);
        }
    }
}

/// Most written files a judgement lists.
pub const MAX_WRITES: usize = 64;

/// A compiled ruleset, ready to judge tool calls.
#[derive(Debug, Clone)]
pub struct Guard {
    rules: HookRules,
    protected: Vec<Pattern>,
    writable: Vec<Pattern>,
    broad: Vec<Pattern>,
    homes: Vec<Pattern>,
    data_wipes: Vec<Regex>,
    program_rules: Vec<rules::CompiledRule>,
    /// Set when the built-in rules could not be compiled: every call is refused (fail closed).
    broken: Option<String>,
}

impl Default for Guard {
    fn default() -> Self {
        // The built-in rules are covered by tests; should they ever fail to load, a guard that
        // allows everything is not acceptable: it refuses.
        HookRules::builtin().and_then(|r| r.compile()).unwrap_or_else(|e| Guard {
            rules: empty_rules(),
            protected: Vec::new(),
            writable: Vec::new(),
            broad: Vec::new(),
            homes: Vec::new(),
            data_wipes: Vec::new(),
            program_rules: Vec::new(),
            broken: Some(e.message),
        })
    }
}

fn empty_rules() -> HookRules {
    HookRules {
        max_command_bytes: 0,
        max_depth: 1,
        sudo: rules::SudoPolicy::Ask,
        shell_tools: Vec::new(),
        file_tools: Vec::new(),
        protected_paths: Vec::new(),
        writable_paths: Vec::new(),
        broad_paths: Vec::new(),
        home_dirs: Vec::new(),
        shells: Vec::new(),
        interpreters: Vec::new(),
        fetchers: Vec::new(),
        decoders: Vec::new(),
        data_clients: Vec::new(),
        sql_clients: Vec::new(),
        data_wipes: Vec::new(),
        rules: Vec::new(),
    }
}

/// Where the command of a shell tool input lives.
const COMMAND_FIELDS: &[&str] = &["command", "cmd", "script"];
/// Where the path of a file tool input lives.
const PATH_FIELDS: &[&str] = &["file_path", "notebook_path", "path"];

impl Guard {
    /// Judge one call of `tool` with input `params`, cwd unknown.
    pub fn evaluate(&self, tool: &str, params: &Value) -> HookDecision {
        self.evaluate_in(tool, params, None)
    }

    /// Judge one call of `tool` with input `params`, made from the working directory `cwd`
    /// (when known; relative paths are then resolved against it).
    pub fn evaluate_in(&self, tool: &str, params: &Value, cwd: Option<&str>) -> HookDecision {
        self.judge_in(tool, params, cwd).decision
    }

    /// [`Guard::evaluate_in`], with the files the call would write.
    pub fn judge_in(&self, tool: &str, params: &Value, cwd: Option<&str>) -> Judgement {
        if let Some(problem) = &self.broken {
            let decision = HookDecision {
                decision: Decision::Deny,
                reason: Some(format!("hook rules unavailable: {problem}")),
                rule: None,
                warnings: Vec::new(),
                modified: None,
            };
            return Judgement { decision, writes: Vec::new() };
        }
        let cwd = working_dir(cwd);
        let mut out = Outcome::default();
        let mut command = None;
        if self.rules.shell_tools.iter().any(|t| t == tool) {
            command = command_of(params);
            if let Some(text) = command {
                self.judge_command(text, &cwd, &mut out);
            }
        } else if self.rules.file_tools.iter().any(|t| t == tool)
            && let Some(path) = path_of(params)
        {
            self.judge_file(&path, &cwd, &mut out);
        }
        let decision = out.decision.unwrap_or(Decision::Allow);
        let mut result =
            HookDecision { decision, reason: out.reason, rule: out.rule, warnings: out.warnings, modified: None };
        if decision == Decision::Allow
            && !out.strip.is_empty()
            && let Some(text) = command
        {
            result.modified = Some(with_command(params, strip_spans(text, &out.strip)));
            result.reason = Some("Privileges stripped: leading sudo removed".into());
            result.rule = Some("privileges".into());
        }
        Judgement { decision: result, writes: out.writes }
    }

    /// Judge a Bash command (no tool input around it): for tests, benchmarks and tools.
    pub fn check_command(&self, command: &str, cwd: Option<&str>) -> HookDecision {
        let mut out = Outcome::default();
        match &self.broken {
            Some(problem) => out.deny("broken", format!("hook rules unavailable: {problem}")),
            None => self.judge_command(command, &working_dir(cwd), &mut out),
        }
        HookDecision {
            decision: out.decision.unwrap_or(Decision::Allow),
            reason: out.reason,
            rule: out.rule,
            warnings: out.warnings,
            modified: None,
        }
    }

    fn judge_command(&self, text: &str, cwd: &Loc, out: &mut Outcome) {
        let cap = self.rules.max_command_bytes;
        if text.len() > cap {
            return out
                .ask("size_cap", format!("the command is {} bytes, over the {cap} bytes the guard reads", text.len()));
        }
        // A shell reading the command from its input drops NUL bytes (`\0rm -rf /` runs `rm`):
        // judge what it would run, and ask, since how the command reaches a shell is not known.
        let cleaned;
        let text = if text.contains('\0') {
            out.ask("control_characters", "the command contains NUL bytes: it cannot be checked".into());
            cleaned = text.replace('\0', "");
            cleaned.as_str()
        } else {
            text
        };
        let mut judge = judge::Judge { g: self, out: std::mem::take(out), downloaded: Default::default() };
        // Last resort: a bug in the guard (or the parser) must not take the request down with
        // it, nor let the command through.
        let judged = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| judge.text(text, cwd, 0)));
        *out = judge.out;
        if judged.is_err() {
            out.ask("internal", "the guard failed on this command: it cannot be checked".into());
        }
    }

    fn judge_file(&self, path: &str, cwd: &Loc, out: &mut Outcome) {
        out.wrote(&cwd.join(path));
        let loc = cwd.join(path).canonical(&self.homes);
        if let Some(p) = self.protected_hit(&loc) {
            out.deny("protected_path", format!("Cannot modify a protected path: `{}` is inside `{p}`", loc.display()));
        } else if loc.anchor == Anchor::Project && loc.climbs > 0 {
            out.ask("outside_project", format!("`{path}` is outside the working directory"));
        }
    }

    /// The protected pattern `loc` is at or below (unless it is a writable exception).
    fn protected_hit(&self, loc: &Loc) -> Option<&str> {
        if self.writable.iter().any(|w| loc.within(w)) {
            return None;
        }
        self.protected.iter().find(|p| loc.within(p)).map(|p| p.text.as_str())
    }

    /// A protected pattern at or below `loc` (deleting `loc` deletes it).
    fn protected_inside(&self, loc: &Loc) -> Option<&str> {
        self.protected.iter().find(|p| loc.contains(p)).map(|p| p.text.as_str())
    }

    fn is_broad(&self, loc: &Loc) -> bool {
        loc.climbs == 0
            && (matches!(loc.anchor, Anchor::Root | Anchor::Home | Anchor::Drive(_)) && loc.parts.is_empty()
                || self.broad.iter().any(|b| b.anchor == loc.anchor && b.parts == loc.parts))
    }
}

/// The hook's working directory: an absolute path (POSIX or Windows), else the unknown project.
fn working_dir(cwd: Option<&str>) -> Loc {
    match cwd {
        Some(dir) => {
            let loc = Loc::project().join(dir);
            if loc.anchor == Anchor::Project { Loc::project() } else { loc }
        }
        None => Loc::project(),
    }
}

/// `text` without the char ranges of `spans`.
fn strip_spans(text: &str, spans: &[(usize, usize)]) -> String {
    text.chars()
        .enumerate()
        .filter(|(i, _)| !spans.iter().any(|(from, to)| (*from..*to).contains(i)))
        .map(|(_, c)| c)
        .collect()
}

/// The command string of a tool input: the input itself when it is a string, else its
/// `command` / `cmd` / `script` field.
fn command_of(params: &Value) -> Option<&str> {
    match params {
        Value::String(s) => Some(s),
        Value::Object(m) => COMMAND_FIELDS.iter().find_map(|f| m.get(*f).and_then(Value::as_str)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(command: &str) -> HookDecision {
        Guard::default().check_command(command, Some("/home/dev/project"))
    }

    #[test]
    fn the_strictest_answer_wins_and_keeps_its_reason() {
        let mut out = Outcome::default();
        out.ask("a", "first ask".into());
        out.ask("b", "second ask".into());
        assert_eq!((out.decision, out.rule.as_deref()), (Some(Decision::Ask), Some("a")));
        out.deny("c", "deny".into());
        out.ask("d", "later ask".into());
        assert_eq!((out.decision, out.reason.as_deref()), (Some(Decision::Deny), Some("deny")));
    }

    #[test]
    fn plain_sudo_is_stripped_only_when_the_rest_is_allowed() {
        let g = Guard::default();
        let d = g.evaluate("Bash", &json!({"command": "make && sudo -n make install", "timeout": 5}));
        assert_eq!(d.decision, Decision::Allow);
        assert_eq!(d.modified, Some(json!({"command": "make && make install", "timeout": 5})));
        assert_eq!(check("sudo -u www-data whoami").decision, Decision::Ask);
        assert_eq!(check("sudo -u www-data whoami").modified, None);
        assert_eq!(check("sudo rm -rf /").decision, Decision::Deny);
        assert_eq!(check("sudo ls; $(sudo id)").decision, Decision::Ask);
    }

    #[test]
    fn file_tools_use_the_same_path_rules() {
        let g = Guard::default();
        let write = |path: &str, cwd: Option<&str>| g.evaluate_in("Write", &json!({"file_path": path}), cwd).decision;
        assert_eq!(write("/etc/passwd", None), Decision::Deny);
        assert_eq!(write("../../etc/shadow", Some("/home/dev")), Decision::Deny);
        assert_eq!(write("/home/dev/.ssh/authorized_keys", None), Decision::Deny);
        assert_eq!(write("C:/Windows/System32/x.dll", None), Decision::Deny);
        assert_eq!(write("c:\\windows\\win.ini", None), Decision::Deny);
        assert_eq!(write("src/main.rs", Some("/home/dev/p")), Decision::Allow);
        assert_eq!(write("../../x", None), Decision::Ask);
        assert_eq!(write("/dev/null", None), Decision::Allow);
        assert_eq!(g.evaluate("TodoWrite", &json!({"file_path": "/etc/passwd"})).decision, Decision::Allow);
    }

    #[test]
    fn the_size_cap_asks_without_parsing() {
        let d = check(&"a".repeat(70_000));
        assert_eq!((d.decision, d.rule.as_deref()), (Decision::Ask, Some("size_cap")));
    }
}

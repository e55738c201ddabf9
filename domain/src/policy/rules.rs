//! The guard's data: protected paths, the programs that matter (shells, interpreters, fetchers,
//! database clients) and per-program rules. Serde, `deny_unknown_fields`, YAML or JSON; the
//! built-in set is `builtin-rules.yaml` next to this file, and `tests/fixtures/hook-rules.yaml`
//! is a documented example of an override (`CLAUDEBENCH_HOOK_RULES`).
//!
//! How commands are parsed and wrappers resolved is code (`shell.rs`, `resolve.rs`): that is
//! the shell's syntax, not policy. What is dangerous is here.

use claudebench_contract::error::{Error, ErrorCode};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use super::paths::Pattern;

/// What a program rule decides when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleDecision {
    Deny,
    Ask,
    /// Allow, with `message` as a warning.
    Warn,
}

/// How `sudo`/`doas` in front of an otherwise allowed command is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SudoPolicy {
    /// Remove a plain `sudo` (no options that change the user, the command or the shell) and
    /// return the rewritten input; anything else is `ask`.
    Strip,
    /// Always `ask`.
    Ask,
}

/// A per-program rule. The argv it sees is the one that actually runs: wrappers (`sudo`, `env`,
/// `xargs`, …) removed, words unquoted, the program by its basename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgramRule {
    pub name: String,
    /// Program basenames; `*` and `?` are wildcards (`mkfs.*`).
    pub programs: Vec<String>,
    /// A regex (`regex` crate syntax, case-insensitive) that must match the argv joined by
    /// single spaces, program included; absent = any argv.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<String>,
    /// A regex that exempts a matching argv.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unless: Option<String>,
    pub decision: RuleDecision,
    /// The reason (or warning); `{{argv}}` is replaced by the argv.
    pub message: String,
}

/// An interpreter whose literal code is inspected (`python3 -c '…'`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Interpreter {
    pub programs: Vec<String>,
    /// Options whose value is code (`-c`, `-e`); they may end a cluster (`-Sc`, `-pe`).
    pub code_flags: Vec<String>,
}

/// A whole ruleset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HookRules {
    /// Longer shell commands are not parsed: the answer is `ask`.
    pub max_command_bytes: usize,
    /// Deepest nesting of commands inside commands (`bash -c`, `eval`, `$( … )`, interpreter
    /// code); deeper is `ask`.
    pub max_depth: usize,
    pub sudo: SudoPolicy,
    /// Tools whose `command` is a Bash command.
    pub shell_tools: Vec<String>,
    /// Tools whose `file_path` / `notebook_path` is written.
    pub file_tools: Vec<String>,
    /// Writing, deleting or changing anything at or below these is denied, and so is deleting
    /// (or `chmod -R`-ing) a directory that contains one. `~` is any home directory.
    pub protected_paths: Vec<String>,
    /// Exceptions below protected paths that may be written (`/dev/null`, `/dev/fd/*`).
    pub writable_paths: Vec<String>,
    /// Directories too broad to delete recursively although nothing protected is inside.
    pub broad_paths: Vec<String>,
    /// Directories that are someone's home (so `~/.ssh` also covers `/home/dev/.ssh`).
    pub home_dirs: Vec<String>,
    /// Programs that run shell code (`-c`, stdin, a script file).
    pub shells: Vec<String>,
    pub interpreters: Vec<Interpreter>,
    /// Programs whose output is data from elsewhere: run it, and the guard cannot know what runs.
    pub fetchers: Vec<String>,
    /// Programs that decode data (same concern).
    pub decoders: Vec<String>,
    /// Database clients: their arguments and input are checked against `dataWipes`.
    pub data_clients: Vec<String>,
    /// Those of `dataClients` whose statements are SQL: a wipe inside a quoted string literal is
    /// data there (unless the statements build and run code: `EXECUTE`, `$$`). Not for clients
    /// like `redis-cli`, where `eval "redis.call('flushall')"` runs its quoted text.
    #[serde(default)]
    pub sql_clients: Vec<String>,
    /// Regexes (case-insensitive) of statements that destroy data.
    pub data_wipes: Vec<String>,
    pub rules: Vec<ProgramRule>,
}

impl HookRules {
    /// The built-in ruleset.
    pub fn builtin() -> Result<Self, Error> {
        Self::from_yaml(include_str!("builtin-rules.yaml"))
    }

    /// Parse a ruleset from JSON (the same shape as the serde form of [`HookRules`]).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text).map_err(|e| Error::new(ErrorCode::Validation, format!("invalid hook rules: {e}")))
    }

    /// Parse a ruleset from YAML.
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        yaml_serde::from_str(text).map_err(|e| Error::new(ErrorCode::Validation, format!("invalid hook rules: {e}")))
    }

    /// Parse a ruleset file's text, choosing the format by the file name: `.yaml` / `.yml` are
    /// YAML, anything else JSON.
    pub fn parse_for_path(path: &std::path::Path, text: &str) -> Result<Self, Error> {
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml { Self::from_yaml(text) } else { Self::from_json(text) }
    }

    /// Read and parse a ruleset file. An unreadable or invalid file is an error: silently
    /// falling back to other rules would hide a broken security configuration.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::internal(format!("cannot read hook rules `{}`: {e}", path.display())))?;
        Self::parse_for_path(path, &text)
            .map_err(|e| Error::new(e.code, format!("{} (in `{}`)", e.message, path.display())))
    }

    /// Compile the ruleset; every problem is reported at once.
    pub fn compile(&self) -> Result<super::Guard, Error> {
        let mut problems = Vec::new();
        let mut patterns = |list: &[String], what: &str| -> Vec<Pattern> {
            list.iter()
                .filter_map(|p| {
                    let parsed = Pattern::parse(p);
                    if parsed.is_none() {
                        problems.push(format!("{what} `{p}` must start with `/`, `~` or a drive (`C:/`)"));
                    }
                    parsed
                })
                .collect()
        };
        let protected = patterns(&self.protected_paths, "protected path");
        let writable = patterns(&self.writable_paths, "writable path");
        let broad = patterns(&self.broad_paths, "broad path");
        let homes = patterns(&self.home_dirs, "home dir");
        let mut regex = |p: &str, what: &str| -> Option<Regex> {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| problems.push(format!("{what} `{p}`: {e}")))
                .ok()
        };
        let data_wipes: Vec<Regex> = self.data_wipes.iter().filter_map(|p| regex(p, "data wipe")).collect();
        let mut rules = Vec::new();
        for rule in &self.rules {
            let argv = rule.argv.as_deref().map(|p| regex(p, &format!("rule `{}` argv", rule.name)));
            let unless = rule.unless.as_deref().map(|p| regex(p, &format!("rule `{}` unless", rule.name)));
            rules.push(CompiledRule { rule: rule.clone(), argv: argv.flatten(), unless: unless.flatten() });
        }
        if self.max_depth == 0 {
            problems.push("maxDepth must be at least 1".into());
        }
        if !problems.is_empty() {
            return Err(Error::new(ErrorCode::Validation, format!("invalid hook rules: {}", problems.join("; "))));
        }
        Ok(super::Guard {
            rules: self.clone(),
            protected,
            writable,
            broad,
            homes,
            data_wipes,
            program_rules: rules,
            broken: None,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub rule: ProgramRule,
    pub argv: Option<Regex>,
    pub unless: Option<Regex>,
}

impl CompiledRule {
    /// Whether the rule applies to `program` with `argv` (program first, single spaces).
    pub fn matches(&self, program: &str, argv: &str) -> bool {
        self.rule.programs.iter().any(|p| super::paths::glob_match(p, program))
            && self.argv.as_ref().is_none_or(|re| re.is_match(argv))
            && !self.unless.as_ref().is_some_and(|re| re.is_match(argv))
    }
}

/// Whether `program` is one of `names` (wildcards allowed).
pub fn named(names: &[String], program: &str) -> bool {
    names.iter().any(|n| super::paths::glob_match(n, program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_parse_and_compile() {
        let rules = HookRules::builtin().unwrap();
        assert!(rules.compile().is_ok());
        assert!(rules.max_command_bytes >= 1024);
    }

    #[test]
    fn rules_load_from_yaml_or_json_by_extension_and_refuse_unknown_keys() {
        let builtin = HookRules::builtin().unwrap();
        let yaml = yaml_serde::to_string(&builtin).unwrap();
        assert_eq!(HookRules::parse_for_path(std::path::Path::new("rules.yml"), &yaml).unwrap(), builtin);
        let json = serde_json::to_string(&builtin).unwrap();
        assert_eq!(HookRules::parse_for_path(std::path::Path::new("rules.json"), &json).unwrap(), builtin);
        let typo = yaml.replace("maxDepth:", "maxDepht:");
        assert_eq!(HookRules::from_yaml(&typo).unwrap_err().code, ErrorCode::Validation);
    }

    #[test]
    fn bad_patterns_and_relative_paths_are_all_reported() {
        let mut rules = HookRules::builtin().unwrap();
        rules.protected_paths.push("etc".into());
        rules.data_wipes.push("(unclosed".into());
        let err = rules.compile().unwrap_err();
        assert!(err.message.contains("`etc`") && err.message.contains("(unclosed"), "{}", err.message);
    }
}

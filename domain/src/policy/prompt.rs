//! `hook.user_prompt`: warnings (destructive commands, database destruction, secrets) and, when
//! asked, guidance hints for a prompt. Text matching is enough here: a prompt is prose, not a
//! command, and nothing is blocked.

use regex::{Regex, RegexBuilder};

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

/// (pattern, text) pairs, compiled once. Case-insensitive, so `DROP DATABASE` warns like
/// `drop database`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

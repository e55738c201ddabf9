//! The Claude Code hook events `setup` knows, and how it configures each.

/// How a hook event reaches the server when neither `--http` nor `--command` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultVia {
    /// The command bridge (`claudebench hook`): it can fail closed when the server is down.
    Bridge,
    /// An HTTP hook: a down server is a non-blocking error, i.e. the hook fails open.
    Http,
}

/// One row of [`CLAUDE_CODE_HOOK_EVENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookEvent {
    /// The key under `hooks` in Claude Code's settings.
    pub name: &'static str,
    /// Matches on the tool name: `setup` writes `"matcher": "*"`. Other events get no matcher,
    /// which matches every occurrence (or, for events without matcher support, is all they have).
    pub tool_event: bool,
    /// The transport of the default (mixed) mode.
    pub default_via: DefaultVia,
    /// Claude Code runs no HTTP hooks for this event (only command and MCP-tool hooks), so it
    /// runs the bridge whatever the mode (see tests/fixtures/claude-code/SOURCES.md).
    pub command_only: bool,
    /// `Some(reason)`: `setup` leaves the event out, because configuring any hook for it changes
    /// what Claude Code does even when the hook answers nothing.
    pub left_out: Option<&'static str>,
}

const fn event(name: &'static str) -> HookEvent {
    HookEvent { name, tool_event: false, default_via: DefaultVia::Http, command_only: false, left_out: None }
}

const fn command_only(name: &'static str) -> HookEvent {
    HookEvent { name, tool_event: false, default_via: DefaultVia::Bridge, command_only: true, left_out: None }
}

const fn tool_event(name: &'static str, default_via: DefaultVia) -> HookEvent {
    HookEvent { name, tool_event: true, default_via, command_only: false, left_out: None }
}

const fn left_out(name: &'static str, reason: &'static str) -> HookEvent {
    HookEvent { name, tool_event: false, default_via: DefaultVia::Http, command_only: false, left_out: Some(reason) }
}

/// Every hook event of Claude Code's hooks reference (<https://code.claude.com/docs/en/hooks>,
/// the table under "Hook lifecycle": 31 events when this was written), in that table's order.
/// The tool events are the five whose matcher filters the tool name ("Matcher patterns").
///
/// What this table holds are facts about Claude Code (which events take a tool matcher, which run
/// no HTTP hooks, which must not be configured); which event serves each hook is the spec's hook
/// table (`events::HOOK_ROUTES`), and a test keeps the two in step.
pub const CLAUDE_CODE_HOOK_EVENTS: &[HookEvent] = &[
    command_only("SessionStart"),
    command_only("Setup"),
    event("UserPromptSubmit"),
    event("UserPromptExpansion"),
    tool_event("PreToolUse", DefaultVia::Bridge),
    tool_event("PermissionRequest", DefaultVia::Bridge),
    tool_event("PermissionDenied", DefaultVia::Http),
    tool_event("PostToolUse", DefaultVia::Http),
    tool_event("PostToolUseFailure", DefaultVia::Http),
    event("PostToolBatch"),
    event("Notification"),
    left_out(
        "MessageDisplay",
        "Claude Code holds each batch of streamed assistant text until the hook answers, so every \
         message on screen would wait for a round trip to the server; the text is display-only",
    ),
    event("SubagentStart"),
    event("SubagentStop"),
    event("TaskCreated"),
    event("TaskCompleted"),
    event("Stop"),
    event("StopFailure"),
    event("TeammateIdle"),
    event("InstructionsLoaded"),
    event("ConfigChange"),
    event("CwdChanged"),
    event("DirectoryAdded"),
    event("FileChanged"),
    left_out(
        "WorktreeCreate",
        "a configured WorktreeCreate hook replaces git's own worktree creation and must answer with \
         the new worktree's path",
    ),
    event("WorktreeRemove"),
    event("PreCompact"),
    event("PostCompact"),
    event("Elicitation"),
    event("ElicitationResult"),
    event("SessionEnd"),
];

/// The events `setup` configures, in table order.
pub fn configured() -> impl Iterator<Item = &'static HookEvent> {
    CLAUDE_CODE_HOOK_EVENTS.iter().filter(|e| e.left_out.is_none())
}

/// The events `setup` leaves out, with the reason.
pub fn left_out_events() -> impl Iterator<Item = (&'static str, &'static str)> {
    CLAUDE_CODE_HOOK_EVENTS.iter().filter_map(|e| e.left_out.map(|reason| (e.name, reason)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_event_once() {
        let mut names: Vec<_> = CLAUDE_CODE_HOOK_EVENTS.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CLAUDE_CODE_HOOK_EVENTS.len());
        assert_eq!(names.len(), 31);
    }

    #[test]
    fn the_bridge_serves_the_tool_checks_and_the_events_claude_code_runs_no_http_hooks_for() {
        let bridged: Vec<_> =
            CLAUDE_CODE_HOOK_EVENTS.iter().filter(|e| e.default_via == DefaultVia::Bridge).map(|e| e.name).collect();
        assert_eq!(bridged, ["SessionStart", "Setup", "PreToolUse", "PermissionRequest"]);
        assert!(
            CLAUDE_CODE_HOOK_EVENTS
                .iter()
                .filter(|e| e.default_via == DefaultVia::Bridge)
                .all(|e| e.tool_event || e.command_only)
        );
    }

    /// Every event `setup` knows is served by the spec's hook table (by its own event or the
    /// catch-all's explicit list), and the table names no Claude Code event `setup` does not know
    /// but those newer than the reference this table follows.
    #[test]
    fn the_events_match_the_specs_hook_table() {
        use claudebench_generated::events::HOOK_ROUTES;
        let served: std::collections::BTreeSet<&str> =
            HOOK_ROUTES.iter().flat_map(|r| r.hooks.iter().copied()).filter(|h| *h != "*").collect();
        let known: std::collections::BTreeSet<&str> = CLAUDE_CODE_HOOK_EVENTS.iter().map(|e| e.name).collect();
        let unserved: Vec<_> = known.difference(&served).collect();
        assert!(unserved.is_empty(), "events setup registers that no route names: {unserved:?}");
        let newer: Vec<_> = served.difference(&known).copied().collect();
        assert_eq!(newer, ["PostModelSwitch", "PreModelSwitch", "PreSkillShellCommand"]);
    }
}

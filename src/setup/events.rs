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
    /// `Some(reason)`: `setup` leaves the event out, because configuring any hook for it changes
    /// what Claude Code does even when the hook answers nothing.
    pub left_out: Option<&'static str>,
}

const fn event(name: &'static str) -> HookEvent {
    HookEvent { name, tool_event: false, default_via: DefaultVia::Http, left_out: None }
}

const fn tool_event(name: &'static str, default_via: DefaultVia) -> HookEvent {
    HookEvent { name, tool_event: true, default_via, left_out: None }
}

const fn left_out(name: &'static str, reason: &'static str) -> HookEvent {
    HookEvent { name, tool_event: false, default_via: DefaultVia::Http, left_out: Some(reason) }
}

/// Every hook event of Claude Code's hooks reference (<https://code.claude.com/docs/en/hooks>,
/// the table under "Hook lifecycle": 31 events when this was written), in that table's order.
/// The tool events are the five whose matcher filters the tool name ("Matcher patterns").
///
/// This table will come from the spec's hook table: once the mapping of Claude Code's hooks to
/// server events is declared in `spec/` (issue 14), the generated table replaces this constant.
pub const CLAUDE_CODE_HOOK_EVENTS: &[HookEvent] = &[
    event("SessionStart"),
    event("Setup"),
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
    fn only_tool_events_go_through_the_bridge_by_default() {
        let bridged: Vec<_> =
            CLAUDE_CODE_HOOK_EVENTS.iter().filter(|e| e.default_via == DefaultVia::Bridge).map(|e| e.name).collect();
        assert_eq!(bridged, ["PreToolUse", "PermissionRequest"]);
        assert!(CLAUDE_CODE_HOOK_EVENTS.iter().filter(|e| e.default_via == DefaultVia::Bridge).all(|e| e.tool_event));
    }
}

//! The Claude Code hook table's row type: how one Claude Code hook (`hook_event_name`) becomes a
//! call of one event of the spec, and how that event's answer goes back to Claude Code. Generated
//! from each event's `claude_code` key (see `spec/README.md`); read by the `POST /hooks/claude-code`
//! endpoint and, through it, by the `claudebench hook` bridge, so the mapping exists once.

/// One route: the hooks an event serves, which of their calls it takes, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HookRoute {
    /// The event called, e.g. `hook.pre_tool`.
    pub event: &'static str,
    /// Claude Code hook names (`PreToolUse`…); [`ANY_HOOK`] takes every hook no other route serves.
    pub hooks: &'static [&'static str],
    /// Only calls whose input matches; a route with a condition is tried before one without.
    pub when: Option<HookWhen>,
    /// Each input property of the event and where its value comes from.
    pub fields: &'static [(&'static str, HookSource)],
    /// How the event's output becomes Claude Code's hook output.
    pub answer: HookAnswer,
}

/// The hook name of the catch-all route: hooks Claude Code adds after this table was written are
/// recorded by it and answered with nothing, never refused.
pub const ANY_HOOK: &str = "*";

/// A condition on a top-level string field of the hook input, e.g. `tool_name` is `TodoWrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HookWhen {
    pub field: &'static str,
    pub equals: &'static str,
    /// The condition holds when the field is anything else (or absent).
    pub negate: bool,
}

/// Where one input property's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookSource {
    /// The first of these dotted paths into the hook input (`tool_input.todos`, `model.id`) that
    /// holds a value other than `null` or `""`; then `fallback` (JSON) if any; else the property
    /// is left out (its schema's default or optionality decides).
    Paths { paths: &'static [&'static str], fallback: Option<&'static str> },
    /// A constant (JSON).
    Const(&'static str),
    /// The whole hook input object.
    Input,
}

/// How the event's output is turned into Claude Code's hook output (the answer kinds of the spec's
/// `claude_code.answer`). Whatever the kind, a `forbidden` error of the event blocks the hook where
/// Claude Code lets a hook block, and other errors are hook errors (not blocking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookAnswer {
    /// Nothing to say: an empty answer, Claude Code carries on.
    Nothing,
    /// PreToolUse: `decision` allow | ask | deny, `reason`, `warnings`, `modified` →
    /// `hookSpecificOutput.permissionDecision` and friends.
    Permission,
    /// UserPromptSubmit: what the event added to the prompt (`modified` minus the prompt) →
    /// `hookSpecificOutput.additionalContext`.
    PromptContext,
    /// The output's `additionalContext` → `hookSpecificOutput.additionalContext` (SessionStart…).
    Context,
}

impl HookAnswer {
    /// Every kind with its name in the spec.
    pub const ALL: [(HookAnswer, &'static str); 4] = [
        (HookAnswer::Nothing, "nothing"),
        (HookAnswer::Permission, "permission"),
        (HookAnswer::PromptContext, "prompt_context"),
        (HookAnswer::Context, "context"),
    ];

    /// The spec's name of this kind.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(kind, _)| *kind == self).map_or("nothing", |(_, name)| name)
    }

    /// The kind the spec names `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(kind, _)| *kind)
    }
}

//! Which Claude Code session a hook belongs to, and how a session is named in keys and in the
//! instance registry.

/// The session used by callers that send none (the spec's shared `default` session).
pub const DEFAULT_SESSION: &str = "default";
/// Role of the instances that represent Claude Code sessions.
pub const SESSION_ROLE: &str = "claude-code";

/// The Claude Code session a hook belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id as sent (or `default`).
    pub id: String,
    /// The id as a key component (see [`key_part`]).
    pub key: String,
    /// Whether the caller named the session (the `default` session has no instance).
    pub explicit: bool,
}

impl Session {
    /// The session of a hook: the input's `sessionId` (the bridge copies Claude Code's
    /// `session_id` there), else the session the transport knows, else `None`. An empty id
    /// names no session.
    pub fn named(input: Option<&str>, transport: Option<&str>) -> Option<Session> {
        input.or(transport).filter(|s| !s.is_empty()).map(Session::explicit)
    }

    /// A session the event is about (`hook.session_start` / `hook.session_end` require the id).
    pub fn explicit(id: &str) -> Session {
        Session { id: id.to_string(), key: key_part(id), explicit: true }
    }

    /// The shared session of hooks that name none.
    pub fn shared() -> Session {
        Session { id: DEFAULT_SESSION.to_string(), key: DEFAULT_SESSION.to_string(), explicit: false }
    }

    /// Like [`Session::named`], falling back to the shared `default` session.
    pub fn resolve(input: Option<&str>, transport: Option<&str>) -> Session {
        Self::named(input, transport).unwrap_or_else(Session::shared)
    }

    /// The instance registered for this session.
    pub fn instance_id(&self) -> String {
        instance_id(&self.id)
    }
}

/// `claude-code-<first 8 characters of the session id>` (characters, not bytes: a session id is
/// any string and must not be cut inside a UTF-8 sequence).
pub fn instance_id(session_id: &str) -> String {
    format!("claude-code-{}", session_id.chars().take(8).collect::<String>())
}

/// A caller-supplied string made safe as one component of a `:`-separated key: `%` and `:` are
/// percent-encoded, so `a:tasks` can never name the key of session `a`'s task mapping. The
/// encoding is injective, so distinct ids keep distinct keys.
pub fn key_part(raw: &str) -> String {
    if !raw.contains([':', '%']) {
        return raw.to_string();
    }
    raw.replace('%', "%25").replace(':', "%3A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_take_eight_characters_not_bytes() {
        assert_eq!(instance_id("3f2a9c1b-7d4e-4a8f"), "claude-code-3f2a9c1b");
        assert_eq!(instance_id("abc"), "claude-code-abc");
        assert_eq!(instance_id("ééééééééé"), "claude-code-éééééééé");
    }

    #[test]
    fn key_parts_cannot_alias_other_keys() {
        assert_eq!(key_part("3f2a9c1b"), "3f2a9c1b");
        assert_ne!(key_part("a:tasks"), "a:tasks");
        assert_ne!(key_part("a%3Atasks"), key_part("a:tasks"));
    }

    #[test]
    fn the_input_names_the_session_before_the_transport_and_empty_names_none() {
        assert_eq!(Session::resolve(Some("a"), Some("b")).id, "a");
        assert_eq!(Session::resolve(None, Some("b")).id, "b");
        let shared = Session::resolve(Some(""), None);
        assert_eq!((shared.id.as_str(), shared.explicit), (DEFAULT_SESSION, false));
        assert!(Session::named(None, Some("")).is_none());
        assert_eq!(Session::explicit("a:b").key, "a%3Ab");
    }
}

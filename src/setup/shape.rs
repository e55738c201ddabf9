//! The parts of an existing file `setup` walks must have the shape Claude Code reads; anything
//! else in the file is kept as it is, whatever it holds.
//!
//! The check is a second, typed pass over the text (the first parses it into a `Value`), so that
//! a wrong shape is reported like a syntax error: with its line, column and JSON path.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// What a file must look like, for the keys `setup` touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `settings.json`: an object whose `hooks` (if any) maps event names to arrays of matcher
    /// groups, each an object whose `hooks` (if any) is an array of handlers.
    Settings,
    /// `.mcp.json` and `~/.claude.json`: an object whose `mcpServers` (if any) is an object.
    McpServers,
}

/// Where and why a file does not have its [`Shape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub line: usize,
    pub column: usize,
    /// The JSON path of the offending value, e.g. `hooks.PreToolUse[0].hooks`.
    pub path: String,
    pub message: String,
}

/// Check `text` (valid JSON) against `shape`.
pub fn check(text: &str, shape: Shape) -> Result<(), Mismatch> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
    let result = match shape {
        Shape::Settings => Root::<SettingsHooks>::new("hooks").deserialize(tracked),
        Shape::McpServers => Root::<McpServers>::new("mcpServers").deserialize(tracked),
    };
    result.map_err(|e: serde_json::Error| {
        let (line, mut column) = (e.line(), e.column());
        // serde_json counts the bytes it consumed: a refused array or object was only peeked at,
        // so its bracket is the next byte; point at it.
        if text
            .lines()
            .nth(line.saturating_sub(1))
            .and_then(|l| l.as_bytes().get(column))
            .is_some_and(|b| b"[{".contains(b))
        {
            column += 1;
        }
        let full = e.to_string();
        // serde_json appends the position; it is reported separately.
        let message = full.strip_suffix(&format!(" at line {line} column {column}")).unwrap_or(&full).to_string();
        let path = track.path().to_string();
        Mismatch { line, column, path: if path == "." { "the top level".into() } else { path }, message }
    })
}

type SettingsHooks = Option<BTreeMap<String, Vec<MatcherGroup>>>;
type McpServers = Option<BTreeMap<String, IgnoredAny>>;

/// A JSON object (never an array, which serde would accept for a struct) whose `key` must
/// deserialize as `T`; other keys are skipped unread.
struct Object<T> {
    key: &'static str,
    expecting: &'static str,
    value: PhantomData<T>,
}

struct Root<T>(Object<T>);

impl<T> Root<T> {
    fn new(key: &'static str) -> Self {
        Root(Object { key, expecting: "a JSON object", value: PhantomData })
    }
}

impl<'de, T: de::Deserialize<'de>> DeserializeSeed<'de> for Root<T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self.0)
    }
}

impl<'de, T: de::Deserialize<'de>> Visitor<'de> for Object<T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == self.key {
                map.next_value::<T>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `{"matcher": …, "hooks": [handler, …]}`: only `hooks` is walked.
struct MatcherGroup;

impl<'de> de::Deserialize<'de> for MatcherGroup {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let group = Object::<Option<Vec<IgnoredAny>>> {
            key: "hooks",
            expecting: "a matcher group (an object with a `hooks` array)",
            value: PhantomData,
        };
        deserializer.deserialize_map(group).map(|()| MatcherGroup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Result<(), Mismatch> {
        check(text, Shape::Settings)
    }

    #[test]
    fn keys_setup_does_not_walk_may_hold_anything() {
        assert_eq!(settings(r#"{"env": [1, {"a": null}], "permissions": "odd", "hooks": {}}"#), Ok(()));
        assert_eq!(settings(r#"{"hooks": {"Stop": [{"hooks": [1, "x", {"type": "?"}], "matcher": 3}]}}"#), Ok(()));
        assert_eq!(check(r#"{"mcpServers": {"a": 1, "b": [2]}, "projects": []}"#, Shape::McpServers), Ok(()));
    }

    #[test]
    fn a_missing_or_null_key_is_absent() {
        assert_eq!(settings("{}"), Ok(()));
        assert_eq!(settings(r#"{"hooks": null}"#), Ok(()));
        assert_eq!(settings(r#"{"hooks": {"Stop": [{"matcher": "*"}]}}"#), Ok(()));
        assert_eq!(check(r#"{"mcpServers": null}"#, Shape::McpServers), Ok(()));
    }

    #[test]
    fn a_wrong_shape_names_its_path_line_and_column() {
        let m = settings("{\n  \"hooks\": {\n    \"PreToolUse\": {\"matcher\": \"*\"}\n  }\n}").unwrap_err();
        assert_eq!((m.line, m.path.as_str()), (3, "hooks.PreToolUse"));
        assert!(m.message.contains("expected a sequence"), "{}", m.message);
        let m = settings(r#"{"hooks": {"Stop": [{"hooks": {}}]}}"#).unwrap_err();
        assert_eq!(m.path, "hooks.Stop[0].hooks");
        let m = settings(r#"{"hooks": {"Stop": [["x"]]}}"#).unwrap_err();
        assert_eq!(m.path, "hooks.Stop[0]");
        assert!(m.message.contains("matcher group"), "{}", m.message);
        let m = settings(r#"{"hooks": []}"#).unwrap_err();
        assert_eq!(m.path, "hooks");
        let m = settings("[]").unwrap_err();
        assert_eq!(m.path, "the top level");
        assert!(m.message.contains("a JSON object"), "{}", m.message);
        let m = check(r#"{"mcpServers": "x"}"#, Shape::McpServers).unwrap_err();
        assert_eq!((m.line, m.column, m.path.as_str()), (1, 18, "mcpServers"));
    }
}

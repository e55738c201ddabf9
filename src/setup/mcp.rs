//! The `claudebench` entry of Claude Code's MCP server configuration (`mcpServers` in a
//! project's `.mcp.json` or at the top level of `~/.claude.json`).

use serde_json::{Map, Value, json};

use super::hooks::TOKEN_VAR;

/// The name the server is registered under; the entry of that name is the one `setup` owns.
pub const SERVER_NAME: &str = "claudebench";

/// The server over Streamable HTTP. With `token`, the header takes the token from
/// `CLAUDEBENCH_TOKEN` (`${VAR}` expansion of Claude Code's MCP configuration).
pub fn entry(url: &str, token: bool) -> Value {
    let mut entry = json!({"type": "http", "url": format!("{url}/mcp")});
    if token {
        entry["headers"] = json!({"Authorization": format!("Bearer ${{{TOKEN_VAR}}}")});
    }
    entry
}

/// Set `mcpServers.claudebench` to `entry`: in its place when present (replacing it whole),
/// else last. Other servers and keys are untouched.
pub fn merge(root: &mut Map<String, Value>, entry: Value) {
    let servers = root.entry("mcpServers").or_insert_with(|| Value::Object(Map::new()));
    if servers.is_null() {
        *servers = Value::Object(Map::new());
    }
    if let Value::Object(servers) = servers {
        servers.insert(SERVER_NAME.to_string(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_is_streamable_http_with_the_token_from_the_environment() {
        assert_eq!(entry("http://h:1", false), json!({"type": "http", "url": "http://h:1/mcp"}));
        assert_eq!(entry("http://h:1", true)["headers"], json!({"Authorization": "Bearer ${CLAUDEBENCH_TOKEN}"}));
    }

    #[test]
    fn other_servers_keep_their_order_and_ours_keeps_its_place() {
        let ours_before = json!({"command": "claudebench", "args": ["mcp"]});
        let servers = json!({"mcpServers": {"a": {"command": "a"}, "claudebench": ours_before, "z": {}}, "x": 1});
        let mut root = servers.as_object().unwrap().clone();
        merge(&mut root, entry("http://h", false));
        let names: Vec<_> = root["mcpServers"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(names, ["a", "claudebench", "z"]);
        assert_eq!(root["mcpServers"]["claudebench"], entry("http://h", false));
        let mut empty = Map::new();
        merge(&mut empty, entry("http://h", false));
        assert_eq!(Value::Object(empty), json!({"mcpServers": {"claudebench": entry("http://h", false)}}));
    }
}

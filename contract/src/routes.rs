//! Paths the server itself serves. An event's REST route (`/<domain>/<action>`) may not be one of
//! them or lie under `/mcp` or `/assets`: the spec checker refuses such an event, and the router
//! would not mount it.

/// Exact paths of the server's own endpoints.
pub const RESERVED: [&str; 9] =
    ["/health", "/metrics", "/openapi.json", "/rpc", "/ws", "/rpc/batch", CLAUDE_CODE_HOOKS, DASHBOARD, DOCS];

/// The dashboard page.
pub const DASHBOARD: &str = "/";

/// The API reference page (the OpenAPI document rendered in the browser).
pub const DOCS: &str = "/docs";

/// The pages' embedded scripts and styles; every path under it belongs to them.
pub const ASSETS: &str = "/assets";

/// Claude Code's HTTP hooks post here (the hook table of `crate::hook`).
pub const CLAUDE_CODE_HOOKS: &str = "/hooks/claude-code";

/// The MCP endpoint; every path under it belongs to MCP.
pub const MCP: &str = "/mcp";

/// Whether an event may not use `path` as its route.
pub fn is_reserved(path: &str) -> bool {
    let under = |root: &str| path == root || path.strip_prefix(root).is_some_and(|rest| rest.starts_with('/'));
    RESERVED.contains(&path) || under(MCP) || under(ASSETS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_paths_and_everything_under_mcp_are_reserved() {
        for path in ["/rpc", "/rpc/batch", "/health", "/mcp", "/mcp/x", "/", "/docs", "/assets/x"] {
            assert!(is_reserved(path), "{path}");
        }
        for path in ["/task/create", "/mcpx/a", "/rpc/call"] {
            assert!(!is_reserved(path), "{path}");
        }
    }
}

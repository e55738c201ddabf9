//! Which of this process's endpoints are serving, for `system.health`.
//!
//! The MCP endpoint lives in the transport layer, which the handlers cannot see; the transport
//! holds an [`McpServing`] guard for as long as it serves MCP, and health reads
//! [`mcp_serving`]. A guard (not a setter) means a transport that stops or panics can never
//! leave the flag stuck at "up". Several servers in one process (tests) each hold their own
//! guard, so the endpoint counts as up while any of them serves.

use std::sync::atomic::{AtomicUsize, Ordering};

static MCP_ENDPOINTS: AtomicUsize = AtomicUsize::new(0);

/// Marks the MCP endpoint of this process as serving until dropped.
#[derive(Debug)]
#[must_use = "the endpoint counts as serving only while the guard is alive"]
pub struct McpServing(());

impl McpServing {
    /// Announce that an MCP endpoint of this process accepts requests.
    pub fn start() -> Self {
        MCP_ENDPOINTS.fetch_add(1, Ordering::SeqCst);
        McpServing(())
    }
}

impl Drop for McpServing {
    fn drop(&mut self) {
        MCP_ENDPOINTS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether an MCP endpoint of this process is serving.
pub fn mcp_serving() -> bool {
    MCP_ENDPOINTS.load(Ordering::SeqCst) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mcp_endpoint_is_up_exactly_while_a_guard_lives() {
        // Other unit tests of this crate never take a guard, so the count starts at zero.
        assert!(!mcp_serving());
        let a = McpServing::start();
        let b = McpServing::start();
        assert!(mcp_serving());
        drop(a);
        assert!(mcp_serving());
        drop(b);
        assert!(!mcp_serving());
    }
}

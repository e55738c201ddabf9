//! Which endpoints of one server are serving, for `system.health`.
//!
//! The MCP endpoint lives in the transport layer, which handlers cannot see; the transport holds
//! an [`McpServing`] guard, taken from the node's [`Serving`], for as long as it serves MCP (the
//! HTTP router that mounts `/mcp` keeps it for its life, `serve_stdio` until the client leaves),
//! and health reads [`Serving::mcp_up`]. A guard (not a setter) means a transport that stops or
//! panics can never leave the flag stuck at "up". The count belongs to one node, so several
//! servers in one process (tests, embedders) each report their own endpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The serving endpoints of one node (cheap to clone: a shared count).
#[derive(Debug, Clone, Default)]
pub struct Serving {
    mcp_endpoints: Arc<AtomicUsize>,
}

impl Serving {
    /// Announce that an MCP endpoint of this node accepts requests, until the guard is dropped.
    pub fn mcp(&self) -> McpServing {
        self.mcp_endpoints.fetch_add(1, Ordering::SeqCst);
        McpServing { count: self.mcp_endpoints.clone() }
    }

    /// Whether an MCP endpoint of this node is serving.
    pub fn mcp_up(&self) -> bool {
        self.mcp_endpoints.load(Ordering::SeqCst) > 0
    }
}

/// Marks one MCP endpoint as serving until dropped.
#[derive(Debug)]
#[must_use = "the endpoint counts as serving only while the guard is alive"]
pub struct McpServing {
    count: Arc<AtomicUsize>,
}

impl Drop for McpServing {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mcp_endpoint_is_up_exactly_while_a_guard_of_its_node_lives() {
        let node = Serving::default();
        let other = Serving::default();
        assert!(!node.mcp_up());
        let a = node.mcp();
        let b = node.mcp();
        assert!(node.mcp_up());
        assert!(!other.mcp_up(), "another node's endpoints are not this node's");
        drop(a);
        assert!(node.mcp_up());
        drop(b);
        assert!(!node.mcp_up());
    }
}

//! The coordination domain of ClaudeBench, built on the spec's types: what the server *does*.
//!
//! - [`coordination`]: tasks, instances, leadership, gossip, quorum, batches and global state, as
//!   typed APIs over atomic Lua scripts (each state change appends its event in the same step);
//! - [`sessions`]: Claude Code sessions as the hooks report them — session records, todo lists
//!   mirrored into tasks, compaction snapshots, tool statistics and error alerts, prompt history;
//! - [`leases`]: file leases between sessions — one holder per file, idle TTL, fencing tokens,
//!   per repository — and the pre-tool hook's use of them;
//! - [`policy`]: the hook policy — the pre-tool guard (shell parsing, wrappers, paths, rules) and
//!   prompt inspection. Pure Rust, no Redis;
//! - [`recovery`]: surviving Redis data loss (epoch marker, id reservations, task rehydration);
//! - [`node`]: one instance's life — connect, recover, register, persist, periodic jobs, leave;
//! - [`services`]: the [`Domain`] handlers see through their [`Ctx`]: the coordination services
//!   bound to the shared connection ([`connected`]), read-only [`views`] and [`counters`].
//!
//! The generic machinery it stands on (Redis, scripts, bus, pipeline, persistence, transports)
//! is `claudebench-runtime`, which knows nothing of tasks or hooks.

pub mod connected;
pub mod coordination;
pub mod counters;
pub mod leases;
pub mod node;
pub mod policy;
pub mod recovery;
pub mod services;
pub mod sessions;
pub mod views;

pub use services::{Ctx, Domain};

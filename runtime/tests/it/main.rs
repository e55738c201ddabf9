//! Runtime integration tests, against the real Redis (and PostgreSQL) of this machine.
//! Each test works under its own key prefix, so tests run in parallel without interfering.

mod fixtures;
mod support;

mod bus;
mod cache;
mod circuit;
mod lua_scripts;
mod rate_limit;
mod redis_cluster;
mod redis_conn;

mod transport_connections;
mod transport_generated;
mod transport_jsonrpc;
mod transport_jsonrpc_properties;
mod transport_mcp;
mod transport_origin;
mod transport_rest;
mod transport_support;
mod transport_ws;

//! Runtime integration tests, against the real Redis (and PostgreSQL) of this machine.
//! Each test works under its own key prefix, so tests run in parallel without interfering.

mod support;
mod transport_jsonrpc;
mod transport_mcp;
mod transport_rest;
mod transport_support;
mod transport_ws;

//! The network face of the server: REST, JSON-RPC 2.0, MCP (Streamable HTTP and stdio) and
//! WebSocket, all on one axum [`Router`] and all talking to one [`Backend`].
//!
//! Transports only translate: they decode a request, fill in the caller's identity
//! ([`RequestMeta`](crate::context::RequestMeta)), call [`Backend::dispatch`] and map the one
//! [`Error`](claudebench_contract::error::Error) type to their wire format. They never validate
//! event inputs themselves.

mod auth;
mod conn;
mod hooks;
mod identity;
mod limits;
mod origin;
mod web;
mod wire;

pub mod http;
pub mod jsonrpc;
pub mod mcp;
pub mod serving;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::backend::Backend;

pub use conn::{ConnectionLimits, serve};
pub use identity::clean_id as client_id;
pub use mcp::{serve_io as serve_mcp_io, serve_stdio};

/// How the HTTP server behaves; everything has a safe default.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Bearer token every route except `GET /health` requires; `None` = no authentication.
    pub token: Option<String>,
    /// Browser origins allowed on every route (and answered by CORS), e.g.
    /// `https://dash.example.com`, besides loopback origins on the server's own port. Empty = no
    /// other site; `*` allows any origin (but `null`). The whole policy is in
    /// `transport/origin.rs`.
    pub cors_origins: Vec<String>,
    /// `Host` values accepted besides `localhost`, `127.0.0.1`, `[::1]` and the bound address
    /// (`name`, or `name:port` for that port only). `Host` is checked when the server listens on
    /// loopback, or anywhere once this list is not empty (DNS-rebinding protection).
    pub allowed_hosts: Vec<String>,
    /// The address the server listens on (whoever binds the listener sets it): decides whether
    /// `Host` is checked and which loopback origins are the server's own. `None` = treated as
    /// loopback with an unknown port, so no loopback origin is trusted.
    pub local_addr: Option<SocketAddr>,
    /// Largest request body accepted, in bytes (larger → 413).
    pub body_limit: usize,
    /// Most requests per JSON-RPC batch and most bytes per JSON-RPC answer (`/rpc`, `/ws`).
    pub rpc: jsonrpc::RpcLimits,
    /// The OpenAPI document served at `GET /openapi.json` (`None` → 404).
    pub openapi: Option<Arc<str>>,
    /// Messages queued for one WebSocket client before it counts as too slow and is dropped.
    pub ws_queue: usize,
    /// Most WebSockets open at once; further upgrades get 503 (`ws.rs`).
    pub max_websockets: usize,
    /// A WebSocket that sends nothing (not even a pong to the server's pings) for this long is
    /// closed, so a vanished client's slot and subscription do not live forever.
    pub ws_idle_timeout: Duration,
    /// Header and body timeouts and the connection cap; they take effect in [`serve`]
    /// (`transport/conn.rs`), which the caller passes them to.
    pub connections: ConnectionLimits,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            token: None,
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            local_addr: None,
            body_limit: 1024 * 1024,
            rpc: jsonrpc::RpcLimits::default(),
            openapi: None,
            ws_queue: 256,
            max_websockets: 256,
            ws_idle_timeout: Duration::from_secs(60),
            connections: ConnectionLimits::default(),
        }
    }
}

/// What every handler of the router shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub backend: Arc<dyn Backend>,
    pub config: Arc<TransportConfig>,
    /// One permit per open WebSocket, held by its session.
    pub ws_slots: Arc<tokio::sync::Semaphore>,
}

/// The complete HTTP surface: `POST /{domain}/{action}` per event, `GET /health`,
/// `GET /metrics`, `GET /openapi.json`, `POST /rpc` (and `/rpc/batch`), `GET /ws`, `/mcp`,
/// `POST /hooks/claude-code`, and the browser pages `GET /` (dashboard) and `GET /docs`.
///
/// Serve it with [`serve`] (or `into_make_service_with_connect_info::<SocketAddr>()`) so
/// handlers know the peer address; without it they still work, just without that identity.
/// Only [`serve`] applies the connection limits.
pub fn router(backend: Arc<dyn Backend>, config: TransportConfig) -> Router {
    let policy = Arc::new(origin::Policy::new(&config));
    let ws_slots = Arc::new(tokio::sync::Semaphore::new(config.max_websockets));
    let state = AppState { backend: backend.clone(), config: Arc::new(config), ws_slots };
    // `system.health` reports MCP as up for as long as this router, which mounts `/mcp`, lives.
    let mcp_serving = backend.serving().map(|s| Arc::new(s.mcp()));
    let mcp = mcp::endpoint(backend, &state.config);

    let api = http::routes(&state)
        .merge(jsonrpc::routes())
        .merge(hooks::routes())
        .merge(ws::routes())
        .with_state(state.clone())
        .nest_service("/mcp", mcp);

    // Layers run outside-in in the reverse order they are added: the browser policy refuses
    // foreign hosts, origins (preflights included) and non-JSON bodies first; CORS answers
    // allowed preflights before authentication (browsers send no credentials on them); the body
    // limit applies to every extractor behind it.
    // Without a token there is nothing to check, so no layer runs (it would cost every request
    // a boxed future and a clone of the inner service).
    let api = if state.config.token.is_some() {
        api.layer(axum::middleware::from_fn_with_state(state.clone(), auth::require_token))
    } else {
        api
    };
    // The pages hold no data: a browser loads them without the token and asks for it.
    let api = api.merge(web::routes());
    api.layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(limits::cors_layer(policy.clone()))
        .layer(axum::middleware::from_fn_with_state(policy, origin::enforce))
        .layer(axum::Extension(mcp_serving))
}

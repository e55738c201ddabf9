//! CORS headers for the origins `origin.rs` allows. (The body size limit is axum's
//! `DefaultBodyLimit`, applied in [`router`](super::router); the handlers turn its rejection into
//! our 413 error body.)

use std::sync::Arc;

use axum::http::{HeaderName, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::origin::Policy;

/// CORS for exactly the origins the browser policy allows (other origins are refused before
/// this layer, preflights included).
pub(crate) fn cors_layer(policy: Arc<Policy>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| policy.allows_origin(origin)))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            HeaderName::from_static("x-client-id"),
            HeaderName::from_static("mcp-session-id"),
            HeaderName::from_static("mcp-protocol-version"),
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([HeaderName::from_static("mcp-session-id"), header::RETRY_AFTER])
}

//! Optional bearer-token authentication for every route except `GET /health` (load balancers
//! and orchestrators probe it without credentials) and `GET /openapi.json` (the published API
//! description, the same for everyone; the reference page at `/docs` reads it). The browser
//! pages are mounted outside this layer (see `web.rs`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use claudebench_contract::error::{Error, ErrorCode};

use super::AppState;
use super::wire::error_response;

/// Middleware: pass the request on when no token is configured, for `/health`, or when the
/// request proves the token; otherwise 401 `unauthorized`.
pub(crate) async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.config.token.as_deref() else {
        return next.run(request).await;
    };
    if matches!(request.uri().path(), "/health" | "/openapi.json")
        || presented_token(request.headers(), request.uri().query())
            .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()))
    {
        return next.run(request).await;
    }
    let mut response = error_response(&Error::new(ErrorCode::Unauthorized, "missing or invalid bearer token"));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// `Authorization: Bearer <token>`, or `?token=` for WebSocket upgrades (browsers cannot set
/// headers on `new WebSocket(..)`).
fn presented_token<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Option<&'a str> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let is_upgrade = headers.get(header::UPGRADE).is_some();
    from_header.or_else(
        || {
            if is_upgrade { query?.split('&').find_map(|pair| pair.strip_prefix("token=")) } else { None }
        },
    )
}

/// Compare without an early exit, so response timing does not reveal how much of a guessed
/// token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_length() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn the_query_token_counts_only_for_websocket_upgrades() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_token(&headers, Some("token=abc")), None);
        headers.insert(header::UPGRADE, header::HeaderValue::from_static("websocket"));
        assert_eq!(presented_token(&headers, Some("a=1&token=abc")), Some("abc"));
        headers.insert(header::AUTHORIZATION, header::HeaderValue::from_static("Bearer xyz"));
        assert_eq!(presented_token(&headers, Some("token=abc")), Some("xyz"));
    }
}

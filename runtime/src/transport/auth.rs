//! Optional bearer-token authentication for every route except `GET /health` (load balancers
//! and orchestrators probe it without credentials) and `GET /openapi.json` (the published API
//! description, the same for everyone; the reference page at `/docs` reads it). The browser
//! pages are mounted outside this layer (see `web.rs`).

use std::borrow::Cow;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
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
        || presented_token(request.method(), request.headers(), request.uri().query())
            .is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()))
    {
        return next.run(request).await;
    }
    let mut response = error_response(&Error::new(ErrorCode::Unauthorized, "missing or invalid bearer token"));
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    response
}

/// `Authorization: Bearer <token>`, or `?token=` (percent-encoded, as a browser's URL API
/// writes it) on a WebSocket handshake only: browsers cannot set headers on `new WebSocket(..)`,
/// and a token in any other URL would end up in proxies' logs.
fn presented_token<'a>(method: &Method, headers: &'a HeaderMap, query: Option<&'a str>) -> Option<Cow<'a, str>> {
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| Cow::Borrowed(t.trim()));
    let websocket_handshake = method == Method::GET
        && headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    from_header.or_else(|| {
        let query = query.filter(|_| websocket_handshake)?;
        form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "token").map(|(_, value)| value)
    })
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
    fn the_query_token_counts_only_for_websocket_handshakes() {
        let get = &Method::GET;
        let token = |headers: &HeaderMap, method: &Method, query: &str| {
            presented_token(method, headers, Some(query)).map(Cow::into_owned)
        };
        let mut headers = HeaderMap::new();
        assert_eq!(token(&headers, get, "token=abc"), None);
        // Any other upgrade, or a POST carrying the header, is not a WebSocket handshake.
        headers.insert(header::UPGRADE, header::HeaderValue::from_static("h2c"));
        assert_eq!(token(&headers, get, "token=abc"), None);
        headers.insert(header::UPGRADE, header::HeaderValue::from_static("WebSocket"));
        assert_eq!(token(&headers, &Method::POST, "token=abc"), None);
        assert_eq!(token(&headers, get, "a=1&token=abc").as_deref(), Some("abc"));
        headers.insert(header::AUTHORIZATION, header::HeaderValue::from_static("Bearer xyz"));
        assert_eq!(token(&headers, get, "token=abc").as_deref(), Some("xyz"));
    }

    #[test]
    fn the_query_token_is_percent_decoded_like_a_browser_encodes_it() {
        let mut headers = HeaderMap::new();
        headers.insert(header::UPGRADE, header::HeaderValue::from_static("websocket"));
        // `encodeURIComponent("s3cr3t+tok/en== ü&x")`: a base64 token with a space, a non-ASCII
        // character and an ampersand.
        let query = "token=s3cr3t%2Btok%2Fen%3D%3D%20%C3%BC%26x&other=1";
        let got = presented_token(&Method::GET, &headers, Some(query)).map(Cow::into_owned);
        assert_eq!(got.as_deref(), Some("s3cr3t+tok/en== ü&x"));
    }
}

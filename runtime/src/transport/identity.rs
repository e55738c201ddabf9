//! Who is calling, as far as HTTP tells: the `X-Client-Id` header, else the connection
//! (`ip:port`). Identity is for fairness (rate limits), not authentication.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::context::{RequestMeta, Transport};

/// Longest client id accepted from a header; longer ones are ignored rather than rejected,
/// because identity is a hint for rate limiting, not a credential.
const MAX_CLIENT_ID: usize = 128;

/// Extractor: the caller's identity as HTTP tells it (never rejects).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub client_id: Option<String>,
    pub peer: Option<String>,
}

impl Caller {
    /// A fresh `RequestMeta` for one request from this caller.
    pub fn meta(&self, transport: Transport) -> RequestMeta {
        let mut meta = RequestMeta::new(transport);
        meta.client_id = self.client_id.clone();
        meta.peer = self.peer.clone();
        meta
    }

    /// The `RequestMeta` of the one request this caller makes (no copies of its identity).
    pub fn into_meta(self, transport: Transport) -> RequestMeta {
        let mut meta = RequestMeta::new(transport);
        meta.client_id = self.client_id;
        meta.peer = self.peer;
        meta
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Caller { client_id: client_id(&parts.headers), peer: peer(&parts.extensions) })
    }
}

/// The request's identity from its headers and connection.
pub(crate) fn request_meta(transport: Transport, headers: &HeaderMap, extensions: &Extensions) -> RequestMeta {
    let mut meta = RequestMeta::new(transport);
    meta.client_id = client_id(headers);
    meta.peer = peer(extensions);
    meta
}

/// The `X-Client-Id` header, when usable.
fn client_id(headers: &HeaderMap) -> Option<String> {
    headers.get("x-client-id").and_then(|v| v.to_str().ok()).and_then(clean_id)
}

/// The connection, `ip:port`, when the server was started with connect info. The port matters:
/// every local program shares 127.0.0.1, and one busy program must not use up the limits of
/// all the others.
pub(crate) fn peer(extensions: &Extensions) -> Option<String> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| peer_text(addr))
}

/// `ip:port`, as `SocketAddr`'s `Display` writes it; IPv4 (every request over loopback) by hand,
/// because the formatting machinery cost more than the rest of identifying the caller.
fn peer_text(addr: &SocketAddr) -> String {
    let SocketAddr::V4(v4) = addr else {
        return addr.to_string();
    };
    let mut text = String::with_capacity(21);
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        push_decimal(&mut text, u32::from(octet));
    }
    text.push(':');
    push_decimal(&mut text, u32::from(v4.port()));
    text
}

fn push_decimal(text: &mut String, n: u32) {
    if n >= 10 {
        push_decimal(text, n / 10);
    }
    text.push(char::from(b'0' + (n % 10) as u8));
}

/// A usable identity string (`X-Client-Id`, a session id): trimmed, non-empty, printable ASCII,
/// bounded; `None` when unusable. Clients that build one (the hook bridge) check with this too.
pub fn clean_id(raw: &str) -> Option<String> {
    let id = raw.trim();
    let usable = !id.is_empty() && id.len() <= MAX_CLIENT_ID && id.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_read_as_socket_addresses_write_themselves() {
        for addr in ["127.0.0.1:40000", "0.0.0.0:0", "255.255.255.255:65535", "10.2.30.4:8", "[::1]:3000"] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(peer_text(&addr), addr.to_string());
        }
    }

    #[test]
    fn client_ids_must_be_short_printable_ascii() {
        assert_eq!(clean_id(" worker-1 ").as_deref(), Some("worker-1"));
        assert_eq!(clean_id(""), None);
        assert_eq!(clean_id("has space"), None);
        assert_eq!(clean_id(&"x".repeat(MAX_CLIENT_ID + 1)), None);
    }
}

//! Browser and network policy, the same for every route (REST, `/rpc`, `/ws`, `/mcp`).
//!
//! This server usually runs on a developer's machine, next to their browser, and by default
//! without a token. Any web page that browser opens can reach `127.0.0.1:3000`: it can send
//! `text/plain`, form or multipart bodies cross-origin without a CORS preflight, open a
//! WebSocket (which CORS does not protect at all), and with DNS rebinding (a hostile name that
//! resolves to 127.0.0.1) even read the answers. So, before CORS, authentication and routing:
//!
//! - **`Host`** must name this server when it listens on loopback: `localhost`, `127.0.0.1`,
//!   `[::1]`, the bound address or a configured host (any port unless the entry names one). On
//!   another address it is checked only when hosts are configured. `/health` is exempt, so load
//!   balancers and orchestrators can probe it under any name.
//! - **`Origin`**, when a browser sends one, must be a configured origin (`*` = any) or a loopback
//!   origin on the server's own port (a page the server itself could have served). `null`
//!   (sandboxed frames, `file:` pages) is never allowed.
//! - **A body must be declared JSON** (`application/json` or `application/*+json`): a page can
//!   only send that cross-origin after a preflight, which the CORS layer answers from the same rule.
//!
//! Clients that send no `Origin` (curl, SDKs, agents, the hook bridge) and send JSON are
//! unaffected. Refusals use the error body: 403 `forbidden`, or 415 with `validation`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::HttpBody;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use claudebench_contract::error::{Error, ErrorCode};

use super::TransportConfig;
use super::wire::error_response_with_status;

/// Host names that always mean this machine.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The rule, built once from the configuration.
#[derive(Debug)]
pub(crate) struct Policy {
    /// Accepted `Host` values; `None` = `Host` is not checked.
    hosts: Option<Vec<HostEntry>>,
    /// Configured origins; `None` = any origin (`*`).
    origins: Option<Vec<BrowserOrigin>>,
    /// The server's own port, for loopback origins (`None` = unknown: no loopback origin is trusted).
    own_port: Option<u16>,
}

/// A host name (lowercase, no brackets) and, if the entry names one, its port.
#[derive(Debug, PartialEq)]
struct HostEntry {
    name: String,
    port: Option<u16>,
}

impl HostEntry {
    /// Whether `raw` is exactly this entry's name (any ASCII case; IPv6 in brackets), optionally
    /// followed by `:port` with a port this entry accepts. Only ever true for values that
    /// [`parse_host`] reads the same way; `false` says nothing.
    fn matches_plain(&self, raw: &[u8]) -> bool {
        let name = self.name.as_bytes();
        let rest = if name.contains(&b':') {
            match raw.strip_prefix(b"[").and_then(|r| r.get(name.len()..).map(|tail| (&r[..name.len()], tail))) {
                Some((n, tail)) if n.eq_ignore_ascii_case(name) => match tail.strip_prefix(b"]") {
                    Some(tail) => tail,
                    None => return false,
                },
                _ => return false,
            }
        } else {
            match raw.get(..name.len()) {
                Some(n) if n.eq_ignore_ascii_case(name) => &raw[name.len()..],
                _ => return false,
            }
        };
        if rest.is_empty() {
            return self.port.is_none();
        }
        let Some(digits) = rest.strip_prefix(b":").filter(|d| !d.is_empty() && d.len() <= 5) else {
            return false;
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let port = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        u16::try_from(port).is_ok_and(|port| self.port.is_none_or(|own| own == port))
    }
}

/// An origin as browsers serialize it: scheme, host (lowercase, no brackets) and port (the
/// scheme's default when the serialization omits it).
#[derive(Debug, PartialEq)]
struct BrowserOrigin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Policy {
    pub(crate) fn new(config: &TransportConfig) -> Policy {
        let on_loopback = config.local_addr.is_none_or(|addr| addr.ip().is_loopback());
        let hosts = (on_loopback || !config.allowed_hosts.is_empty()).then(|| allowed_hosts(config));
        let origins = (!config.cors_origins.iter().any(|o| o == "*")).then(|| {
            config
                .cors_origins
                .iter()
                .filter_map(|o| {
                    let parsed = parse_origin(o);
                    if parsed.is_none() {
                        tracing::warn!(origin = %o, "ignoring an invalid origin in CLAUDEBENCH_CORS_ORIGINS");
                    }
                    parsed
                })
                .collect()
        });
        Policy { hosts, origins, own_port: config.local_addr.map(|addr| addr.port()) }
    }

    /// Whether a request may proceed; otherwise the status and error to answer. Pure, so every
    /// case is unit-tested; [`enforce`] applies it to each request.
    pub(crate) fn check(&self, path: &str, headers: &HeaderMap, has_body: bool) -> Result<(), (StatusCode, Error)> {
        let forbidden = |message: String| (StatusCode::FORBIDDEN, Error::new(ErrorCode::Forbidden, message));
        if path != "/health" && !self.allows_host(headers) {
            let host = headers.get(header::HOST).map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
            return Err(forbidden(format!(
                "Host `{}` is not a name of this server (DNS-rebinding protection); \
                 add it to CLAUDEBENCH_ALLOWED_HOSTS if it is one",
                host.unwrap_or_default()
            )));
        }
        if let Some(origin) = headers.get(header::ORIGIN).filter(|o| !self.allows_origin(o)) {
            return Err(forbidden(format!(
                "browser origin `{}` is not allowed; add it to CLAUDEBENCH_CORS_ORIGINS to allow it",
                String::from_utf8_lossy(origin.as_bytes())
            )));
        }
        if has_body && !is_json(headers.get(header::CONTENT_TYPE)) {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Error::new(ErrorCode::Validation, "the request body must be JSON (Content-Type: application/json)"),
            ));
        }
        Ok(())
    }

    /// A request without `Host` (HTTP/1.0) is not a browser's and passes.
    fn allows_host(&self, headers: &HeaderMap) -> bool {
        let (Some(allowed), Some(host)) = (&self.hosts, headers.get(header::HOST)) else {
            return true;
        };
        // Every request passes here: the usual `Host` (`localhost:3000`) is matched on its bytes;
        // anything else takes the full parse below, which decides alone.
        if allowed.iter().any(|entry| entry.matches_plain(host.as_bytes())) {
            return true;
        }
        let Some(host) = host.to_str().ok().and_then(parse_host) else {
            return false;
        };
        allowed.iter().any(|entry| entry.name == host.name && entry.port.is_none_or(|port| host.port == Some(port)))
    }

    /// Whether a browser on `origin` may call this server (also the CORS layer's rule).
    pub(crate) fn allows_origin(&self, origin: &HeaderValue) -> bool {
        let Some(origin) = origin.to_str().ok().and_then(parse_origin) else {
            return false; // includes `null`
        };
        let loopback = matches!(origin.scheme.as_str(), "http" | "https")
            && LOOPBACK_HOSTS.contains(&origin.host.as_str())
            && self.own_port.is_some_and(|own| origin.port == Some(own));
        loopback || self.origins.as_ref().is_none_or(|list| list.contains(&origin))
    }
}

/// Middleware: apply the policy before anything else sees the request.
pub(crate) async fn enforce(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    // hyper reports an exact size of 0 for requests without a body (no Content-Length or
    // `Content-Length: 0`); a chunked body counts as a body.
    let has_body = request.body().size_hint().exact() != Some(0);
    match policy.check(request.uri().path(), request.headers(), has_body) {
        Ok(()) => next.run(request).await,
        Err((status, error)) => {
            tracing::warn!(path = request.uri().path(), reason = %error.message, "request refused by the browser policy");
            error_response_with_status(status, &error)
        }
    }
}

/// Loopback names, the bound address (unless it is a wildcard) and the configured hosts.
fn allowed_hosts(config: &TransportConfig) -> Vec<HostEntry> {
    let bound = config.local_addr.map(|a: SocketAddr| a.ip()).filter(|ip| !ip.is_unspecified());
    let mut hosts: Vec<HostEntry> =
        LOOPBACK_HOSTS.iter().map(|h| HostEntry { name: h.to_string(), port: None }).collect();
    hosts.extend(bound.map(|ip| HostEntry { name: ip.to_string(), port: None }));
    for entry in &config.allowed_hosts {
        match parse_host(entry) {
            Some(host) => hosts.push(host),
            None => tracing::warn!(host = %entry, "ignoring an invalid host in CLAUDEBENCH_ALLOWED_HOSTS"),
        }
    }
    hosts
}

/// `name`, `name:port`, `[v6]` or `[v6]:port`.
fn parse_host(value: &str) -> Option<HostEntry> {
    let authority = Authority::try_from(value.trim()).ok()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    Some(HostEntry { name: normalize_host(authority.host()), port: authority.port_u16() })
}

/// `scheme://host[:port]` (a trailing `/` is tolerated in configured origins); `null` is not one.
fn parse_origin(value: &str) -> Option<BrowserOrigin> {
    let uri = Uri::try_from(value.trim()).ok()?;
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return None;
    }
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let authority = uri.authority()?;
    let default_port = match scheme.as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    };
    Some(BrowserOrigin { host: normalize_host(authority.host()), port: authority.port_u16().or(default_port), scheme })
}

fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase()
}

/// `application/json` or `application/*+json`, parameters ignored.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let essence = content_type.and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next());
    essence
        .map(|e| e.trim().to_ascii_lowercase())
        .is_some_and(|e| e == "application/json" || (e.starts_with("application/") && e.ends_with("+json")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(local: &str, origins: &[&str], hosts: &[&str]) -> Policy {
        Policy::new(&TransportConfig {
            local_addr: Some(local.parse().unwrap()),
            cors_origins: origins.iter().map(|o| o.to_string()).collect(),
            allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..TransportConfig::default()
        })
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    fn status(policy: &Policy, path: &str, pairs: &[(&'static str, &'static str)], has_body: bool) -> u16 {
        match policy.check(path, &headers(pairs), has_body) {
            Ok(()) => 200,
            Err((status, error)) => {
                let expected =
                    if status == StatusCode::FORBIDDEN { ErrorCode::Forbidden } else { ErrorCode::Validation };
                assert_eq!(error.code, expected);
                status.as_u16()
            }
        }
    }

    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn clients_without_origin_that_send_json_pass() {
        let p = policy("127.0.0.1:3000", &[], &[]);
        assert_eq!(status(&p, "/rpc", &[("host", "127.0.0.1:3000"), JSON], true), 200);
        assert_eq!(status(&p, "/task/create", &[("host", "localhost:3000")], false), 200, "a bare POST has no body");
        assert_eq!(
            status(&p, "/rpc", &[("host", "[::1]:3000"), ("content-type", "application/vnd.x+json")], true),
            200
        );
        assert_eq!(status(&p, "/rpc", &[JSON], true), 200, "no Host at all is not a browser");
    }

    #[test]
    fn a_body_that_is_not_declared_json_is_415() {
        let p = policy("127.0.0.1:3000", &[], &[]);
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            assert_eq!(status(&p, "/rpc", &[("host", "localhost"), ("content-type", content_type)], true), 415);
        }
        assert_eq!(status(&p, "/test/echo", &[("host", "localhost")], true), 415, "a body without Content-Type");
    }

    #[test]
    fn hosts_other_than_this_server_are_refused_on_loopback() {
        let p = policy("127.0.0.1:3000", &[], &["cb.internal", "box.lan:8080"]);
        assert_eq!(status(&p, "/rpc", &[("host", "evil.example.com:3000"), JSON], true), 403);
        assert_eq!(status(&p, "/ws", &[("host", "evil.example.com")], false), 403);
        assert_eq!(status(&p, "/health", &[("host", "evil.example.com")], false), 200, "/health is exempt");
        assert_eq!(status(&p, "/rpc", &[("host", "LOCALHOST:3000"), JSON], true), 200);
        assert_eq!(status(&p, "/rpc", &[("host", "cb.internal:3000"), JSON], true), 200);
        assert_eq!(status(&p, "/rpc", &[("host", "box.lan:8080"), JSON], true), 200);
        assert_eq!(status(&p, "/rpc", &[("host", "box.lan:9999"), JSON], true), 403, "an entry's port is exact");
    }

    #[test]
    fn the_byte_match_of_hosts_agrees_with_the_full_parse() {
        let entries = [
            HostEntry { name: "localhost".into(), port: None },
            HostEntry { name: "::1".into(), port: None },
            HostEntry { name: "box.lan".into(), port: Some(8080) },
        ];
        let values = [
            "localhost",
            "localhost:3000",
            "LocalHost:1",
            "localhost:",
            "localhost:65536",
            "localhost:3x",
            "localhost.evil",
            "localhostx:3000",
            "[::1]",
            "[::1]:3000",
            "[::1",
            "::1",
            "box.lan:8080",
            "box.lan:8081",
            "box.lan",
            "BOX.LAN:8080",
            "localhost:003000",
            "localhost:+3000",
            "",
        ];
        for value in values {
            for entry in &entries {
                let parsed = parse_host(value)
                    .is_some_and(|h| h.name == entry.name && entry.port.is_none_or(|port| h.port == Some(port)));
                if entry.matches_plain(value.as_bytes()) {
                    assert!(parsed, "{value:?} matched {entry:?} on its bytes but not parsed");
                }
            }
        }
        assert!(entries[0].matches_plain(b"localhost:3000") && entries[1].matches_plain(b"[::1]:3000"));
        assert!(entries[2].matches_plain(b"box.lan:8080") && !entries[2].matches_plain(b"box.lan:8081"));
    }

    #[test]
    fn hosts_are_checked_elsewhere_only_when_configured() {
        let open = policy("0.0.0.0:3000", &[], &[]);
        assert_eq!(status(&open, "/rpc", &[("host", "anything.example.com"), JSON], true), 200);
        let listed = policy("10.0.0.5:3000", &[], &["cb.example.com"]);
        assert_eq!(status(&listed, "/rpc", &[("host", "cb.example.com"), JSON], true), 200);
        assert_eq!(status(&listed, "/rpc", &[("host", "10.0.0.5:3000"), JSON], true), 200, "the bound address");
        assert_eq!(status(&listed, "/rpc", &[("host", "other.example.com"), JSON], true), 403);
    }

    #[test]
    fn only_configured_and_own_port_loopback_origins_are_allowed() {
        let p = policy("127.0.0.1:3000", &["https://dash.example.com", "http://localhost:5173/"], &[]);
        let allowed = |origin: &'static str| p.allows_origin(&HeaderValue::from_static(origin));
        assert!(allowed("https://dash.example.com"));
        assert!(allowed("https://dash.example.com:443"));
        assert!(allowed("http://localhost:5173"));
        assert!(allowed("http://localhost:3000") && allowed("http://127.0.0.1:3000") && allowed("https://[::1]:3000"));
        assert!(!allowed("http://dash.example.com"), "the scheme counts");
        assert!(!allowed("https://evil.example.com"));
        assert!(!allowed("http://localhost:8080"), "loopback on another port is another site");
        assert!(!allowed("http://127.0.0.1"));
        assert!(!allowed("null"));
        assert_eq!(
            status(&p, "/rpc", &[("host", "localhost:3000"), ("origin", "https://evil.example.com"), JSON], true),
            403
        );
        let bodiless_preflight = [("host", "localhost:3000"), ("origin", "https://evil.example.com")];
        assert_eq!(status(&p, "/rpc", &bodiless_preflight, false), 403);
    }

    #[test]
    fn a_wildcard_allows_any_origin_but_null() {
        let p = policy("127.0.0.1:3000", &["*"], &[]);
        assert!(p.allows_origin(&HeaderValue::from_static("https://anything.example.com")));
        assert!(!p.allows_origin(&HeaderValue::from_static("null")));
    }

    #[test]
    fn without_a_known_port_no_loopback_origin_is_trusted() {
        let p = Policy::new(&TransportConfig::default());
        assert!(!p.allows_origin(&HeaderValue::from_static("http://localhost:3000")));
        assert_eq!(status(&p, "/rpc", &[("host", "evil.example.com"), JSON], true), 403, "checked as loopback");
    }
}

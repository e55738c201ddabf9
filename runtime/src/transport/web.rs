//! The pages the server serves to a browser: the dashboard at `GET /` and the API reference at
//! `GET /docs`, with their scripts and styles under `/assets/`. Everything is embedded in the
//! binary at compile time (no CDN, no build step): the dashboard is plain HTML, CSS and a script
//! that talks to the same endpoints as any client (REST, `/ws`), and the reference is Redoc's
//! standalone bundle (vendored, see `runtime/web/vendor/redoc/SOURCE.md`) reading `/openapi.json`.
//!
//! The pages hold no data, so they are served without the token; the dashboard asks for it when
//! an API call answers 401 and keeps it for the browser session. The browser policy (Host,
//! Origin) applies to them like to every route. Each answer carries an `ETag`, so a reload
//! costs a 304, and a Content-Security-Policy that allows nothing but this server.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::routes::{DASHBOARD, DOCS};

use super::wire::error_response;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

const DASHBOARD_PAGE: Asset =
    Asset { name: "dashboard.html", content_type: HTML, body: include_bytes!("../../web/dashboard.html") };
const DOCS_PAGE: Asset = Asset { name: "docs.html", content_type: HTML, body: include_bytes!("../../web/docs.html") };

/// What `/assets/<name>` serves.
const ASSETS: [Asset; 6] = [
    Asset { name: "dashboard.js", content_type: JS, body: include_bytes!("../../web/dashboard.js") },
    Asset { name: "dashboard.css", content_type: CSS, body: include_bytes!("../../web/dashboard.css") },
    Asset { name: "docs.js", content_type: JS, body: include_bytes!("../../web/docs.js") },
    Asset {
        name: "redoc.standalone.js",
        content_type: JS,
        body: include_bytes!("../../web/vendor/redoc/redoc.standalone.js"),
    },
    Asset {
        name: "redoc.standalone.js.LICENSE.txt",
        content_type: TEXT,
        body: include_bytes!("../../web/vendor/redoc/redoc.standalone.js.LICENSE.txt"),
    },
    Asset { name: "redoc-LICENSE.txt", content_type: TEXT, body: include_bytes!("../../web/vendor/redoc/LICENSE") },
];

/// The dashboard: scripts, styles and connections to this server only.
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Redoc styles its elements inline (styled-components) and searches in a worker built from a blob.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(DASHBOARD, get(|headers: HeaderMap| async move { page(&DASHBOARD_PAGE, DASHBOARD_CSP, &headers) }))
        .route(DOCS, get(|headers: HeaderMap| async move { page(&DOCS_PAGE, DOCS_CSP, &headers) }))
        .route("/assets/{name}", get(asset))
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => serve(asset, &headers, None),
        None => error_response(&Error::new(ErrorCode::NotFound, format!("no asset `{name}`"))),
    }
}

fn page(asset: &Asset, csp: &'static str, headers: &HeaderMap) -> Response {
    serve(asset, headers, Some(csp))
}

/// The file, or 304 when the browser already has this version.
fn serve(asset: &Asset, request: &HeaderMap, csp: Option<&'static str>) -> Response {
    let etag = etag(asset);
    let fresh = request.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response =
        if fresh { StatusCode::NOT_MODIFIED.into_response() } else { (StatusCode::OK, asset.body).into_response() };
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // Revalidated on every load: a new binary serves new files under the same names.
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    out.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Some(csp) = csp {
        out.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
        out.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// A strong validator from the content (FNV-1a; computed once per file and process).
fn etag(asset: &Asset) -> String {
    static TAGS: LazyLock<Vec<(&'static str, String)>> = LazyLock::new(|| {
        ASSETS
            .iter()
            .chain([&DASHBOARD_PAGE, &DOCS_PAGE])
            .map(|a| {
                let hash = a
                    .body
                    .iter()
                    .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3));
                (a.name, format!("\"{hash:016x}-{}\"", a.body.len()))
            })
            .collect()
    });
    TAGS.iter().find(|(name, _)| *name == asset.name).map(|(_, tag)| tag.clone()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_has_its_own_tag() {
        let mut tags: Vec<String> = ASSETS.iter().chain([&DASHBOARD_PAGE, &DOCS_PAGE]).map(etag).collect();
        assert!(tags.iter().all(|t| t.len() > 4));
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 2);
    }
}

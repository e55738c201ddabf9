//! The browser and network policy on every route: what a web page (cross-site or through DNS
//! rebinding) can no longer do, what allowed browsers and clients without `Origin` still can,
//! and the two protocol answers that go with it (MCP parse errors, oversized WebSocket messages).

use std::time::Duration;

use claudebench_runtime::transport::TransportConfig;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{CONTENT_TYPE, HOST, ORIGIN};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::transport_support::{TestServer, client, start, start_default};

const EVIL: &str = "https://evil.example.com";
const DASH: &str = "https://dash.example.com";
const RPC_CREATE: &str = r#"{"jsonrpc":"2.0","method":"task.create","params":{"title":"pwned"},"id":1}"#;

/// The bodies a page can send cross-origin without a preflight ("simple requests").
const SIMPLE_BODIES: [(&str, &str); 3] = [
    ("text/plain;charset=UTF-8", RPC_CREATE),
    ("application/x-www-form-urlencoded", "a=1"),
    (
        "multipart/form-data; boundary=xyz",
        "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--xyz--\r\n",
    ),
];

fn mcp_initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    })
}

/// A JSON POST with optional `Origin` and `Host` headers.
async fn post_json(url: String, body: &Value, origin: Option<&str>, host: Option<&str>) -> reqwest::Response {
    let mut request = client().post(url).header("accept", "application/json, text/event-stream").json(body);
    if let Some(origin) = origin {
        request = request.header(ORIGIN, origin);
    }
    if let Some(host) = host {
        request = request.header(HOST, host);
    }
    request.send().await.unwrap()
}

async fn error_code(response: reqwest::Response) -> Value {
    response.json::<Value>().await.expect("a JSON error body")["error"]["code"].clone()
}

/// Open `/ws` with extra headers; the HTTP status of a refused upgrade as the error.
async fn open_ws(server: &TestServer, headers: &[(&'static str, String)]) -> Result<Socket, u16> {
    let mut request = format!("ws://{}/ws", server.addr).into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("unexpected WebSocket error: {other}"),
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Echo one JSON-RPC call over the socket.
async fn ws_echo(socket: &mut Socket) -> Value {
    let call = json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"over": "ws"}, "id": 1});
    socket.send(Message::text(call.to_string())).await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn simple_cross_site_posts_are_refused_with_403_on_rpc_and_rest() {
    let server = start_default().await;
    for path in ["/rpc", "/task/create"] {
        for (content_type, body) in SIMPLE_BODIES {
            let response = client()
                .post(format!("{}{path}", server.url))
                .header(ORIGIN, EVIL)
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 403, "{path} {content_type}");
            assert_eq!(error_code(response).await, json!("forbidden"));
        }
        // Even a JSON body: the page is simply not allowed (it would need a preflight anyway).
        let response = post_json(format!("{}{path}", server.url), &json!({"title": "x"}), Some(EVIL), None).await;
        assert_eq!(response.status(), 403, "{path} JSON");
    }
    assert!(server.backend.calls().is_empty(), "nothing reached the backend");
}

#[tokio::test]
async fn non_json_bodies_without_origin_are_415_on_rpc_and_rest() {
    let server = start_default().await;
    for path in ["/rpc", "/rpc/batch", "/task/create", "/mcp"] {
        for (content_type, body) in SIMPLE_BODIES {
            let response = client()
                .post(format!("{}{path}", server.url))
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{path} {content_type}");
            let error = response.json::<Value>().await.unwrap()["error"].clone();
            assert_eq!(error["code"], json!("validation"), "{path} {content_type}");
            assert!(error["message"].as_str().unwrap().contains("application/json"));
        }
    }
    assert!(server.backend.calls().is_empty(), "nothing reached the backend");
}

#[tokio::test]
async fn a_rest_body_without_content_type_is_415_but_a_bare_post_still_works() {
    let server = start_default().await;
    let response = client().post(format!("{}/test/echo", server.url)).body(r#"{"a":1}"#).send().await.unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(error_code(response).await, json!("validation"));
    let response = client().post(format!("{}/test/echo", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200, "no body, nothing to declare");
}

#[tokio::test]
async fn websocket_upgrades_from_a_foreign_origin_are_refused_and_allowed_ones_accepted() {
    let server = start(TransportConfig { cors_origins: vec![DASH.into()], ..TransportConfig::default() }).await;
    for origin in [EVIL.to_string(), "null".into(), "http://localhost:5173".into()] {
        assert_eq!(open_ws(&server, &[("origin", origin.clone())]).await.err(), Some(403), "{origin}");
    }
    let own = format!("http://localhost:{}", server.addr.port());
    for origin in [DASH.to_string(), own] {
        let mut socket = open_ws(&server, &[("origin", origin.clone())]).await.expect(&origin);
        assert_eq!(ws_echo(&mut socket).await["result"], json!({"over": "ws"}), "{origin}");
    }
}

#[tokio::test]
async fn a_rebinding_host_is_refused_on_every_route_while_loopback_names_work() {
    let server = start_default().await;
    let port = server.addr.port();
    let evil_host = format!("evil.example.com:{port}");
    let routes = [
        ("/test/echo", json!({})),
        ("/rpc", json!({"jsonrpc": "2.0", "method": "test.echo", "id": 1})),
        ("/mcp", mcp_initialize()),
    ];
    for (path, body) in &routes {
        let response = post_json(format!("{}{path}", server.url), body, None, Some(&evil_host)).await;
        assert_eq!(response.status(), 403, "{path}");
        assert_eq!(error_code(response).await, json!("forbidden"), "{path}");
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), "localhost".into()] {
            let response = post_json(format!("{}{path}", server.url), body, None, Some(&host)).await;
            assert_eq!(response.status(), 200, "{path} with Host {host}");
        }
    }
    assert_eq!(open_ws(&server, &[("host", evil_host.clone())]).await.err(), Some(403));
    assert!(open_ws(&server, &[("host", format!("localhost:{port}"))]).await.is_ok());
    let health = client().get(format!("{}/health", server.url)).header(HOST, &evil_host).send().await.unwrap();
    assert_eq!(health.status(), 200, "/health answers under any name (load balancers)");
    let metrics = client().get(format!("{}/metrics", server.url)).header(HOST, &evil_host).send().await.unwrap();
    assert_eq!(metrics.status(), 403);
}

#[tokio::test]
async fn configured_hosts_are_accepted() {
    let config = TransportConfig { allowed_hosts: vec!["cb.internal".into()], ..TransportConfig::default() };
    let server = start(config).await;
    let response = post_json(format!("{}/test/echo", server.url), &json!({}), None, Some("cb.internal:8080")).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_allowed_configured_origin_works_with_cors_headers_and_preflights() {
    let server = start(TransportConfig { cors_origins: vec![DASH.into()], ..TransportConfig::default() }).await;
    let response = post_json(format!("{}/test/echo", server.url), &json!({"ok": 1}), Some(DASH), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], DASH);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"ok": 1}));

    let preflight = |origin: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, format!("{}/rpc", server.url))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight(DASH).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(allowed.headers()["access-control-allow-origin"], DASH);
    let refused = preflight(EVIL).await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn loopback_origins_are_allowed_on_the_servers_own_port_only() {
    let server = start_default().await;
    let rpc = json!({"jsonrpc": "2.0", "method": "test.echo", "id": 1});
    let port = server.addr.port();
    for origin in
        [format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}"), format!("http://[::1]:{port}")]
    {
        let response = post_json(format!("{}/rpc", server.url), &rpc, Some(&origin), None).await;
        assert_eq!(response.status(), 200, "{origin}");
    }
    for path in ["/rpc", "/mcp"] {
        let body = if path == "/mcp" { mcp_initialize() } else { rpc.clone() };
        let response = post_json(format!("{}{path}", server.url), &body, Some("http://localhost:5173"), None).await;
        assert_eq!(response.status(), 403, "another local site on {path}");
        assert_eq!(error_code(response).await, json!("forbidden"));
    }
}

#[tokio::test]
async fn clients_without_origin_work_unchanged_on_every_route() {
    let server = start_default().await;
    let response = post_json(format!("{}/test/echo", server.url), &json!({"a": 1}), None, None).await;
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"a": 1}));
    let rpc = json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"b": 2}, "id": 1});
    let response = post_json(format!("{}/rpc", server.url), &rpc, None, None).await;
    assert_eq!(response.json::<Value>().await.unwrap()["result"], json!({"b": 2}));
    let response = post_json(format!("{}/mcp", server.url), &mcp_initialize(), None, None).await;
    assert_eq!(response.status(), 200);
    let mut socket = open_ws(&server, &[]).await.expect("upgrade");
    assert_eq!(ws_echo(&mut socket).await["result"], json!({"over": "ws"}));
    for path in ["/health", "/metrics"] {
        assert_eq!(client().get(format!("{}{path}", server.url)).send().await.unwrap().status(), 200, "{path}");
    }
}

#[tokio::test]
async fn mcp_answers_malformed_json_with_a_json_rpc_parse_error() {
    let server = start_default().await;
    for (body, code) in [("{oops", -32700), (r#"{"not": "a message"}"#, -32600)] {
        let response = client()
            .post(format!("{}/mcp", server.url))
            .header("accept", "application/json, text/event-stream")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let answer: Value = response.json().await.expect("a JSON-RPC error, not plain text");
        assert_eq!((&answer["jsonrpc"], &answer["id"]), (&json!("2.0"), &Value::Null));
        assert_eq!(answer["error"]["code"], json!(code), "{body}");
    }
}

#[tokio::test]
async fn an_oversized_websocket_message_closes_the_socket_with_1009() {
    let server = start(TransportConfig { body_limit: 1024, ..TransportConfig::default() }).await;
    let mut socket = open_ws(&server, &[]).await.expect("upgrade");
    let big = json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"x": "x".repeat(4096)}, "id": 1});
    socket.send(Message::text(big.to_string())).await.unwrap();
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.expect("a close frame with a code").code, CloseCode::Size);
    assert!(server.backend.calls().is_empty());
}

//! REST: one `POST` route per event, the error model on the wire, limits, auth and CORS.

use std::sync::Arc;

use claudebench_runtime::context::Transport;
use claudebench_runtime::transport::TransportConfig;
use serde_json::{Value, json};

use crate::transport_support::{client, start, start_default};

#[tokio::test]
async fn an_event_route_answers_200_with_the_output_json() {
    let server = start_default().await;
    let response =
        client().post(format!("{}/test/echo", server.url)).json(&json!({"hello": "world"})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"hello": "world"}));
}

#[tokio::test]
async fn each_error_code_gets_its_http_status_and_the_error_body() {
    let server = start_default().await;
    let cases = [
        ("validation", 400),
        ("unauthorized", 401),
        ("forbidden", 403),
        ("not_found", 404),
        ("conflict", 409),
        ("rate_limited", 429),
        ("internal", 500),
        ("circuit_open", 503),
        ("unavailable", 503),
        ("timeout", 504),
    ];
    for code in claudebench_generated::error::ErrorCode::ALL {
        assert!(cases.iter().any(|(c, _)| *c == code.as_str()), "{code} is not tried");
    }
    for (code, status) in cases {
        let response =
            client().post(format!("{}/test/echo", server.url)).json(&json!({"fail": code})).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "status for {code}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!(code), "body for {code}: {body}");
        assert!(body["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn validation_errors_carry_every_issue() {
    let server = start_default().await;
    let response = client().post(format!("{}/task/create", server.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["issues"], json!([{"path": "title", "code": "required", "message": "Required"}]));
}

#[tokio::test]
async fn rate_limited_and_circuit_open_answers_say_when_to_retry() {
    let server = start_default().await;
    let response =
        client().post(format!("{}/test/echo", server.url)).json(&json!({"fail": "rate_limited"})).send().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "2", "1500 ms rounds up to 2 s");
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["retryAfterMs"], json!(1500));
    let response =
        client().post(format!("{}/test/echo", server.url)).json(&json!({"fail": "circuit_open"})).send().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "30");
    let response =
        client().post(format!("{}/test/echo", server.url)).json(&json!({"fail": "conflict"})).send().await.unwrap();
    assert!(response.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn malformed_json_is_a_400_validation_error_never_a_500() {
    let server = start_default().await;
    for body in ["{not json", "{\"a\": 1", "\u{0}"] {
        let response = client()
            .post(format!("{}/test/echo", server.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "body {body:?}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], json!("validation"));
        assert_eq!(error["error"]["issues"][0]["code"], json!("invalid_type"));
    }
    assert!(server.backend.calls().is_empty(), "nothing malformed reaches the backend");
}

#[tokio::test]
async fn an_empty_body_means_an_empty_object() {
    let server = start_default().await;
    let response = client().post(format!("{}/test/echo", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_and_the_error_body() {
    let server = start(TransportConfig { body_limit: 1024, ..TransportConfig::default() }).await;
    let big = json!({ "text": "x".repeat(4096) });
    for path in ["/test/echo", "/rpc"] {
        let response = client().post(format!("{}{path}", server.url)).json(&big).send().await.unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], json!("validation"), "{path}");
        assert!(body["error"]["message"].as_str().unwrap().contains("1024"));
    }
}

#[tokio::test]
async fn unknown_routes_answer_404_and_wrong_methods_405_with_error_bodies() {
    let server = start_default().await;
    let response = client().post(format!("{}/task/nope", server.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], json!("not_found"));
    let response = client().get(format!("{}/task/create", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert!(response.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn the_caller_identity_comes_from_x_client_id_and_the_peer_address() {
    let server = start_default().await;
    client()
        .post(format!("{}/test/echo", server.url))
        .header("x-client-id", "worker-7")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (_, _, meta) = server.backend.calls().pop().unwrap();
    assert_eq!(meta.transport, Transport::Http);
    assert_eq!(meta.client_id.as_deref(), Some("worker-7"));
    let peer = meta.peer.unwrap();
    assert!(peer.starts_with("127.0.0.1:"), "the connection with its port: {peer}");
}

#[tokio::test]
async fn health_is_200_when_ready_and_503_when_not() {
    let server = start_default().await;
    let response = client().get(format!("{}/health", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.json::<Value>().await.unwrap();
    assert_eq!(
        (&body["ready"], &body["status"], &body["redis"], &body["database"]),
        (&json!(true), &json!("ok"), &json!(true), &json!(true))
    );
    assert_eq!((&body["outboxLag"], &body["deadLetters"], &body["problems"]), (&json!(0), &json!(0), &json!([])));
    server.backend.not_ready.store(true, std::sync::atomic::Ordering::Relaxed);
    let response = client().get(format!("{}/health", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body = response.json::<Value>().await.unwrap();
    assert_eq!((&body["ready"], &body["status"]), (&json!(false), &json!("unavailable")));
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let server = start_default().await;
    let response = client().get(format!("{}/metrics", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    assert!(response.text().await.unwrap().contains("claudebench_events_total 3"));
}

#[tokio::test]
async fn the_openapi_document_is_served_when_configured() {
    let server = start_default().await;
    assert_eq!(client().get(format!("{}/openapi.json", server.url)).send().await.unwrap().status(), 404);
    let document: Arc<str> = Arc::from(r#"{"openapi":"3.1.0"}"#);
    let server = start(TransportConfig { openapi: Some(document), ..TransportConfig::default() }).await;
    let response = client().get(format!("{}/openapi.json", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"openapi": "3.1.0"}));
}

#[tokio::test]
async fn with_a_token_every_route_but_health_requires_the_bearer_token() {
    let server = start(TransportConfig { token: Some("s3cret".into()), ..TransportConfig::default() }).await;
    let echo = format!("{}/test/echo", server.url);
    let response = client().post(&echo).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], json!("unauthorized"));
    let response = client().post(&echo).bearer_auth("wrong").json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 401);
    for path in ["/rpc", "/mcp", "/metrics"] {
        let response = client().post(format!("{}{path}", server.url)).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
    let response = client().post(&echo).bearer_auth("s3cret").json(&json!({"ok": 1})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(client().get(format!("{}/health", server.url)).send().await.unwrap().status(), 200);
    assert_eq!(server.backend.calls().len(), 1, "rejected requests never reach the backend");
}

#[tokio::test]
async fn the_pages_are_served_without_the_token_with_their_policy_and_revalidate_with_a_304() {
    let document = Arc::from(r#"{"openapi": "3.1.0"}"#);
    let config =
        TransportConfig { token: Some("s3cret".into()), openapi: Some(document), ..TransportConfig::default() };
    let server = start(config).await;
    for (path, kind) in [("/", "text/html"), ("/docs", "text/html"), ("/assets/dashboard.js", "text/javascript")] {
        let response = client().get(format!("{}{path}", server.url)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with(kind), "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let etag = response.headers()["etag"].clone();
        let again = client().get(format!("{}{path}", server.url)).header("if-none-match", etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let page = client().get(format!("{}/", server.url)).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("/assets/dashboard.js"));
    // The API description is public (the reference page reads it); the API is not.
    assert_eq!(client().get(format!("{}/openapi.json", server.url)).send().await.unwrap().status(), 200);
    let call = client().post(format!("{}/test/echo", server.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(call.status(), 401);
    let missing = client().get(format!("{}/assets/nope.js", server.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap()["error"]["code"], json!("not_found"));
    // A hostile page's Host (DNS rebinding) is refused here as everywhere.
    let rebound = client().get(format!("{}/", server.url)).header("host", "evil.example.com").send().await.unwrap();
    assert_eq!(rebound.status(), 403);
    assert!(server.backend.calls().is_empty());
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let server = start(TransportConfig {
        cors_origins: vec!["https://dash.example.com".into()],
        token: Some("t".into()),
        ..TransportConfig::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        client()
            .request(reqwest::Method::OPTIONS, format!("{}/task/create", server.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,authorization")
            .send()
    };
    let allowed = preflight("https://dash.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "preflights pass without credentials: {}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://dash.example.com");
    let denied = preflight("https://evil.example.com").await.unwrap();
    assert!(denied.headers().get("access-control-allow-origin").is_none());

    let server = start_default().await;
    let response = client()
        .post(format!("{}/test/echo", server.url))
        .header("origin", "https://dash.example.com")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none(), "no origins configured = no CORS");
}

//! JSON-RPC 2.0 at `POST /rpc`: envelopes, batches, notifications and every error code.

use claudebench_runtime::context::Transport;
use serde_json::{Value, json};

use crate::transport_support::{TestServer, client, start_default};

async fn rpc(server: &TestServer, body: &str) -> reqwest::Response {
    client()
        .post(format!("{}/rpc", server.url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn rpc_json(server: &TestServer, body: Value) -> Value {
    let response = rpc(server, &body.to_string()).await;
    assert_eq!(response.status(), 200, "JSON-RPC answers are HTTP 200");
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_single_request_gets_its_result_with_the_same_id() {
    let server = start_default().await;
    let answer =
        rpc_json(&server, json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"a": 1}, "id": "r-1"})).await;
    assert_eq!(answer, json!({"jsonrpc": "2.0", "result": {"a": 1}, "id": "r-1"}));
}

#[tokio::test]
async fn methods_resolve_by_alias_and_params_default_to_an_empty_object() {
    let server = start_default().await;
    let answer = rpc_json(&server, json!({"jsonrpc": "2.0", "method": "hook.agent_stop", "id": 1})).await;
    assert_eq!(answer["result"], json!({}));
    assert_eq!(server.backend.calls()[0].0, "hook.stop");
}

#[tokio::test]
async fn metadata_sets_the_session_client_and_correlation_of_the_call() {
    let server = start_default().await;
    let body = json!({"jsonrpc": "2.0", "method": "test.echo", "id": 1, "metadata": {"sessionId": "sess-1", "clientId": "cli-1", "correlationId": "corr-1"}});
    rpc_json(&server, body).await;
    let (_, _, meta) = server.backend.calls().pop().unwrap();
    assert_eq!(meta.transport, Transport::JsonRpc);
    assert_eq!(meta.session_id.as_deref(), Some("sess-1"));
    assert_eq!(meta.client_id.as_deref(), Some("cli-1"));
    assert_eq!(meta.correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(meta.peer.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_notification_is_executed_but_answered_with_no_body() {
    let server = start_default().await;
    let response = rpc(&server, r#"{"jsonrpc":"2.0","method":"test.echo","params":{"n":1}}"#).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    assert_eq!(server.backend.calls().len(), 1, "the notification ran");
}

#[tokio::test]
async fn a_batch_of_only_notifications_is_answered_204() {
    let server = start_default().await;
    let response = rpc(&server, r#"[{"jsonrpc":"2.0","method":"test.echo"},{"jsonrpc":"2.0","method":"nope"}]"#).await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_mixed_batch_answers_every_request_in_order_and_skips_notifications() {
    let server = start_default().await;
    let batch = json!([
        {"jsonrpc": "2.0", "method": "test.echo", "params": {"sleepMs": 50, "n": 1}, "id": 1},
        {"jsonrpc": "2.0", "method": "task.create", "params": {}, "id": 2},
        {"jsonrpc": "2.0", "method": "test.echo", "params": {"n": 3}},
        {"jsonrpc": "2.0", "method": "no.such", "id": 4},
        {"jsonrpc": "2.0", "method": "test.echo", "params": {"fail": "rate_limited"}, "id": 5},
        42,
        {"jsonrpc": "2.0", "method": "task.create", "params": {"title": "x"}, "id": 7}
    ]);
    let answer = rpc_json(&server, batch).await;
    let answers = answer.as_array().unwrap();
    assert_eq!(answers.len(), 6, "{answer}");
    assert_eq!(answers[0]["result"]["n"], json!(1), "a slow first item keeps its place");
    assert_eq!(answers[1]["error"]["code"], json!(-32602));
    assert_eq!(answers[2]["error"]["code"], json!(-32601));
    assert_eq!(answers[3]["error"]["code"], json!(-32000));
    assert_eq!(
        answers[4],
        json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": answers[4]["error"]["message"]}, "id": null})
    );
    assert_eq!(answers[5]["result"]["id"], json!("t-1"));
    let ids: Vec<&Value> = answers.iter().map(|a| &a["id"]).collect();
    assert_eq!(ids, [&json!(1), &json!(2), &json!(4), &json!(5), &Value::Null, &json!(7)]);
}

#[tokio::test]
async fn the_batch_route_of_the_original_is_an_alias() {
    let server = start_default().await;
    let response = client()
        .post(format!("{}/rpc/batch", server.url))
        .json(&json!([{"jsonrpc": "2.0", "method": "test.echo", "id": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()[0]["result"], json!({}));
}

#[tokio::test]
async fn unparsable_json_is_a_parse_error_with_a_null_id() {
    let server = start_default().await;
    let response = rpc(&server, r#"{"jsonrpc":"2.0","method":"#).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], json!(-32700));
    assert_eq!(answer["id"], Value::Null);
    assert!(answer["error"].get("data").is_none(), "data is omitted, not null");
}

#[tokio::test]
async fn an_empty_batch_is_one_invalid_request_error() {
    let server = start_default().await;
    let answer = rpc_json(&server, json!([])).await;
    assert!(answer.is_object());
    assert_eq!(answer["error"]["code"], json!(-32600));
}

#[tokio::test]
async fn bad_envelopes_are_invalid_requests() {
    let server = start_default().await;
    for body in [
        json!({"method": "test.echo", "id": 1}),
        json!({"jsonrpc": "1.0", "method": "test.echo", "id": 1}),
        json!({"jsonrpc": "2.0", "id": 1}),
        json!({"jsonrpc": "2.0", "method": 5, "id": 1}),
        json!({"jsonrpc": "2.0", "method": "test.echo", "params": "x", "id": 1}),
        json!("just a string"),
    ] {
        let answer = rpc_json(&server, body.clone()).await;
        assert_eq!(answer["error"]["code"], json!(-32600), "{body}");
    }
}

#[tokio::test]
async fn an_unknown_method_is_method_not_found() {
    let server = start_default().await;
    let answer = rpc_json(&server, json!({"jsonrpc": "2.0", "method": "task.explode", "id": 9})).await;
    assert_eq!(answer["error"]["code"], json!(-32601));
    assert_eq!(answer["id"], json!(9));
}

#[tokio::test]
async fn invalid_params_carry_the_validation_issues_in_data() {
    let server = start_default().await;
    let answer = rpc_json(&server, json!({"jsonrpc": "2.0", "method": "task.create", "params": {}, "id": 1})).await;
    assert_eq!(answer["error"]["code"], json!(-32602));
    assert_eq!(answer["error"]["data"]["code"], json!("validation"));
    assert_eq!(answer["error"]["data"]["issues"][0]["path"], json!("title"));
}

#[tokio::test]
async fn every_custom_error_code_is_really_emitted() {
    let server = start_default().await;
    let cases = [
        ("rate_limited", -32000),
        ("circuit_open", -32001),
        ("unauthorized", -32002),
        ("forbidden", -32003),
        ("timeout", -32004),
        ("not_found", -32005),
        ("conflict", -32006),
        ("unavailable", -32007),
        ("not_implemented", -32008),
        ("internal", -32603),
    ];
    for (code, number) in cases {
        let answer =
            rpc_json(&server, json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"fail": code}, "id": code}))
                .await;
        assert_eq!(answer["error"]["code"], json!(number), "{code}");
        assert_eq!(answer["error"]["data"]["code"], json!(code), "data is the serialized error");
        assert_eq!(answer["id"], json!(code));
    }
    let answer = rpc_json(
        &server,
        json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"fail": "rate_limited"}, "id": 1}),
    )
    .await;
    assert_eq!(answer["error"]["data"]["retryAfterMs"], json!(1500));
}

//! JSON-RPC 2.0 at `POST /rpc`: envelopes, batches, notifications and every error code.

use claudebench_runtime::context::Transport;
use serde_json::{Value, json};

use claudebench_runtime::transport::TransportConfig;
use claudebench_runtime::transport::jsonrpc::RpcLimits;

use crate::transport_support::{TestServer, client, start, start_default};

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
async fn metadata_sets_the_session_and_correlation_but_the_transport_names_the_caller() {
    let server = start_default().await;
    let body = json!({"jsonrpc": "2.0", "method": "test.echo", "id": 1, "metadata": {"sessionId": "sess-1", "clientId": "cli-1", "correlationId": "corr-1"}});
    rpc_json(&server, body.clone()).await;
    let (_, _, meta) = server.backend.calls().pop().unwrap();
    assert_eq!(meta.transport, Transport::JsonRpc);
    assert_eq!(meta.session_id.as_deref(), Some("sess-1"));
    assert_eq!(meta.client_id, None, "a body cannot name the caller");
    assert_eq!(meta.correlation_id.as_deref(), Some("corr-1"));
    let peer = meta.peer.clone().unwrap();
    assert!(peer.starts_with("127.0.0.1:"), "the connection, with its port: {peer}");
    assert_eq!(meta.caller_key(), format!("peer:{peer}"));

    let response = client()
        .post(format!("{}/rpc", server.url))
        .header("x-client-id", "worker-7")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, _, meta) = server.backend.calls().pop().unwrap();
    assert_eq!(meta.caller_key(), "client:worker-7");
}

#[tokio::test]
async fn every_item_of_a_batch_is_the_same_caller_whatever_its_metadata_says() {
    let server = start_default().await;
    let batch: Vec<Value> = (0..50)
        .map(|i| json!({"jsonrpc": "2.0", "method": "test.echo", "id": i, "metadata": {"clientId": format!("fake-{i}"), "sessionId": format!("s-{i}")}}))
        .collect();
    rpc_json(&server, Value::Array(batch)).await;
    let keys: std::collections::BTreeSet<String> =
        server.backend.calls().iter().map(|(_, _, m)| m.caller_key()).collect();
    assert_eq!(keys.len(), 1, "one caller for one connection: {keys:?}");
}

#[tokio::test]
async fn two_connections_without_a_client_id_are_two_callers() {
    let server = start_default().await;
    for _ in 0..2 {
        // A fresh client is a fresh connection.
        let body = json!({"jsonrpc": "2.0", "method": "test.echo", "id": 1});
        let response = reqwest::Client::new().post(format!("{}/rpc", server.url)).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let keys: Vec<String> = server.backend.calls().iter().map(|(_, _, m)| m.caller_key()).collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1], "callers on one host are told apart by their connection");
}

#[tokio::test]
async fn ids_that_cannot_be_echoed_exactly_are_invalid_requests() {
    let server = start_default().await;
    for id in ["1.5", "1e3", "9007199254740992", "-9007199254740992", "18446744073709551615", "true", "{}"] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"test.echo","id":{id}}}"#);
        let answer: Value = rpc(&server, &body).await.json().await.unwrap();
        assert_eq!(answer["error"]["code"], json!(-32600), "id {id}: {answer}");
        assert_eq!(answer["id"], Value::Null, "id {id}");
    }
    assert!(server.backend.calls().is_empty(), "none of them ran");
    for id in [json!(9007199254740991_i64), json!(-3), json!("x"), Value::Null] {
        let answer = rpc_json(&server, json!({"jsonrpc": "2.0", "method": "test.echo", "id": id})).await;
        assert_eq!(answer["id"], id, "{answer}");
        assert!(answer.get("result").is_some());
    }
}

#[tokio::test]
async fn a_batch_longer_than_the_limit_is_refused_whole_and_nothing_runs() {
    let server =
        start(TransportConfig { rpc: RpcLimits { max_batch: 10, ..RpcLimits::default() }, ..Default::default() }).await;
    let batch =
        |n: usize| Value::Array((0..n).map(|i| json!({"jsonrpc": "2.0", "method": "test.echo", "id": i})).collect());
    let answer = rpc_json(&server, batch(11)).await;
    assert!(answer.is_object(), "one error for the whole batch: {answer}");
    assert_eq!(answer["error"]["code"], json!(-32010));
    assert_eq!(answer["id"], Value::Null);
    assert!(answer["error"]["message"].as_str().unwrap().contains("limit of 10"));
    assert!(server.backend.calls().is_empty(), "nothing ran");
    assert_eq!(rpc_json(&server, batch(10)).await.as_array().unwrap().len(), 10, "the limit itself is fine");
}

#[tokio::test]
async fn an_answer_past_the_response_limit_says_what_ran_and_stops_running_more() {
    let limits = RpcLimits { max_batch: 100, max_response_bytes: 20_000 };
    let server = start(TransportConfig { rpc: limits, ..Default::default() }).await;
    // Each answer echoes ~5 KB; 60 of them would be 300 KB. Sequential order (sleep 0) is not
    // needed: the checks hold whatever order the concurrent items finish in.
    let batch: Vec<Value> = (0..60)
        .map(|i| json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"pad": "p".repeat(5_000)}, "id": i}))
        .collect();
    let response = rpc(&server, &Value::Array(batch).to_string()).await;
    let text = response.text().await.unwrap();
    assert!(text.len() < 2 * 20_000 + 32 * 5_200, "the answer stays near the limit: {} bytes", text.len());
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 60, "every request is answered");
    let code = |a: &Value| a["error"]["code"].as_i64();
    let ok = answers.iter().filter(|a| a.get("result").is_some()).count();
    let ran_dropped = answers.iter().filter(|a| code(a) == Some(-32011)).count();
    let not_run = answers.iter().filter(|a| code(a) == Some(-32010)).count();
    assert_eq!(ok + ran_dropped + not_run, 60, "{answers:?}");
    assert!((1..=4).contains(&ok), "about 20 KB of results: {ok}");
    assert!(not_run > 0, "requests past the limit are not run");
    assert_eq!(server.backend.calls().len(), ok + ran_dropped, "-32011 ran, -32010 did not");

    // One request whose own answer is too large: it ran, and says so.
    let big = json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"pad": "p".repeat(30_000)}, "id": "big"});
    let answer = rpc_json(&server, big).await;
    assert_eq!(answer["error"]["code"], json!(-32011), "{answer}");
    assert_eq!(answer["id"], json!("big"));
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
async fn every_error_code_is_really_emitted() {
    let server = start_default().await;
    let cases = [
        ("validation", -32602),
        ("rate_limited", -32000),
        ("circuit_open", -32001),
        ("unauthorized", -32002),
        ("forbidden", -32003),
        ("timeout", -32004),
        ("not_found", -32005),
        ("conflict", -32006),
        ("unavailable", -32007),
        ("internal", -32603),
    ];
    for code in claudebench_generated::error::ErrorCode::ALL {
        assert!(cases.iter().any(|(c, _)| *c == code.as_str()), "{code} is not tried");
    }
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

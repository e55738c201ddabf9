//! WebSocket: subscriptions, JSON-RPC on the socket, pings, and dropping slow consumers.

use std::time::Duration;

use claudebench_runtime::transport::TransportConfig;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::transport_support::{TestServer, start, start_default};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(server: &TestServer) -> Socket {
    let (socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.expect("WebSocket upgrade");
    socket
}

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next JSON text message (skipping control frames), within 5 s.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test]
async fn a_subscriber_receives_matching_events_only() {
    let server = start_default().await;
    let mut socket = open(&server).await;
    send(&mut socket, json!({"type": "subscribe", "events": ["task.*"]})).await;
    assert_eq!(next_json(&mut socket).await, json!({"type": "subscribed", "events": ["task.*"]}));

    server.backend.publish("system.heartbeat", json!({}));
    server.backend.publish("task.created", json!({"id": "t-1"}));
    let event = next_json(&mut socket).await;
    assert_eq!(
        event,
        json!({"type": "event", "event": "task.created", "id": "1-0", "ts": 1_700_000_000_000u64, "payload": {"id": "t-1"}})
    );

    send(&mut socket, json!({"type": "unsubscribe", "events": ["task.*"]})).await;
    assert_eq!(next_json(&mut socket).await, json!({"type": "unsubscribed", "events": []}));
    assert_eq!(server.backend.subscriber_count(), 0);
}

#[tokio::test]
async fn json_rpc_requests_are_answered_on_the_socket() {
    let server = start_default().await;
    let mut socket = open(&server).await;
    send(&mut socket, json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"a": 1}, "id": 3})).await;
    assert_eq!(next_json(&mut socket).await, json!({"jsonrpc": "2.0", "result": {"a": 1}, "id": 3}));
    send(&mut socket, json!({"jsonrpc": "2.0", "method": "task.create", "params": {}, "id": 4})).await;
    assert_eq!(next_json(&mut socket).await["error"]["code"], json!(-32602));
    socket.send(Message::text("{oops")).await.unwrap();
    assert_eq!(next_json(&mut socket).await["error"]["code"], json!(-32700));
}

#[tokio::test]
async fn pings_are_answered() {
    let server = start_default().await;
    let mut socket = open(&server).await;
    send(&mut socket, json!({"type": "ping"})).await;
    assert_eq!(next_json(&mut socket).await, json!({"type": "pong"}));
    socket.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
}

#[tokio::test]
async fn bad_subscriptions_get_an_error_message() {
    let server = start_default().await;
    let mut socket = open(&server).await;
    send(&mut socket, json!({"type": "subscribe", "events": "task.*"})).await;
    assert_eq!(next_json(&mut socket).await["error"]["code"], json!("validation"));
    send(&mut socket, json!({"type": "dance"})).await;
    assert_eq!(next_json(&mut socket).await["type"], json!("error"));
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected_with_a_policy_close() {
    let server = start(TransportConfig { ws_queue: 4, ..TransportConfig::default() }).await;
    let mut socket = open(&server).await;
    send(&mut socket, json!({"type": "subscribe", "events": ["*"]})).await;
    assert_eq!(next_json(&mut socket).await["type"], json!("subscribed"));
    // Large events fill the socket buffers and then the bounded queue while we do not read.
    let big = "x".repeat(256 * 1024);
    for i in 0..400 {
        server.backend.publish("task.updated", json!({"i": i, "blob": big}));
        tokio::task::yield_now().await;
        if i % 8 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let close = loop {
        let message = tokio::time::timeout_at(deadline, socket.next()).await.expect("closed in time");
        match message {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => break None,
        }
    };
    let frame = close.expect("a close frame with a reason");
    assert_eq!(frame.code, CloseCode::Policy);
}

/// A client that sends calls faster than they finish never has more than 32 running: the socket
/// stops reading until one ends, so the work (and the answers) stay bounded. Every call is still
/// answered.
#[tokio::test]
async fn one_socket_runs_at_most_32_calls_at_once_and_answers_them_all() {
    let server = start_default().await;
    let mut socket = open(&server).await;
    let calls = 200;
    for id in 0..calls {
        send(&mut socket, json!({"jsonrpc": "2.0", "method": "test.echo", "params": {"sleepMs": 100}, "id": id})).await;
    }
    let mut answered = std::collections::BTreeSet::new();
    while answered.len() < calls {
        let answer = next_json(&mut socket).await;
        assert!(answer.get("result").is_some(), "{answer}");
        answered.insert(answer["id"].as_u64().unwrap());
    }
    let most = server.backend.most_running.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=32).contains(&most), "calls of one socket running at once: {most}");
}

//! Connection policy (`transport/conn.rs`, `ws.rs`): header and body timeouts, idle keep-alive,
//! the connection cap, the WebSocket cap and idle WebSockets. Timeouts are set short here; every
//! wait is bounded, so a server without the policy fails instead of hanging.

use std::time::{Duration, Instant};

use claudebench_runtime::transport::{ConnectionLimits, TransportConfig};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::transport_support::{TestServer, start};

fn config(limits: ConnectionLimits) -> TransportConfig {
    TransportConfig { connections: limits, ..TransportConfig::default() }
}

fn short_timeouts() -> ConnectionLimits {
    ConnectionLimits {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        ..ConnectionLimits::default()
    }
}

/// Everything the server sends until it closes the connection, or `None` if it is still open
/// after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

#[tokio::test]
async fn a_half_sent_request_head_is_disconnected() {
    let server = start(config(short_timeouts())).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(format!("GET /health HTTP/1.1\r\nHost: {}\r\n", server.addr).as_bytes()).await.unwrap();
    let started = Instant::now();
    let answer = read_until_closed(&mut stream, Duration::from_secs(3)).await;
    assert_eq!(answer.as_deref(), Some(""), "closed without an answer");
    assert!(started.elapsed() >= Duration::from_millis(250), "not before the timeout: {:?}", started.elapsed());
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = start(config(short_timeouts())).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(3)).await.expect("closed when idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_stalled_body_gets_408_and_the_connection_closes() {
    let server = start(config(short_timeouts())).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /test/echo HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{{\"a\"",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(3)).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["error"]["code"], json!("timeout"), "{body}");
    assert!(server.backend.calls().is_empty(), "the handler never ran");
}

#[tokio::test]
async fn a_body_that_arrives_in_time_is_served() {
    let server = start(config(short_timeouts())).await;
    let response = reqwest::Client::new()
        .post(format!("{}/test/echo", server.url))
        .header("content-type", "application/json")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_ends() {
    let limits = ConnectionLimits { max_connections: 2, ..ConnectionLimits::default() };
    let server = start(config(limits)).await;
    // Two clients hold both slots without sending anything.
    let first = TcpStream::connect(server.addr).await.unwrap();
    let _second = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    third.write_all(request.as_bytes()).await.unwrap();
    assert_eq!(read_until_closed(&mut third, Duration::from_millis(500)).await, None, "waits while at the cap");

    drop(first);
    let answer = read_until_closed(&mut third, Duration::from_secs(3)).await.expect("served once a slot frees");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(server: &TestServer) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let connect = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr));
    tokio::time::timeout(Duration::from_secs(3), connect).await.expect("upgrade answered in time").map(|(s, _)| s)
}

#[tokio::test]
async fn websockets_beyond_the_cap_get_503_and_closing_one_frees_its_slot() {
    let server = start(TransportConfig { max_websockets: 2, ..TransportConfig::default() }).await;
    let mut first = open(&server).await.unwrap();
    let _second = open(&server).await.unwrap();
    first.send(Message::text(json!({"type": "subscribe", "events": ["task.*"]}).to_string())).await.unwrap();
    tokio::time::timeout(Duration::from_secs(3), first.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(server.backend.subscriber_count(), 1);

    match open(&server).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], json!("unavailable"), "{body}");
        }
        other => panic!("expected 503, got {:?}", other.map(|_| "an open socket")),
    }

    first.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(3), first.next()).await {}
    // The slot and the subscription are released as the session ends, just after the close.
    let deadline = Instant::now() + Duration::from_secs(3);
    let third = loop {
        match open(&server).await {
            Ok(socket) => break socket,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(error) => panic!("no slot freed: {error}"),
        }
    };
    assert_eq!(server.backend.subscriber_count(), 0);
    drop(third);
}

#[tokio::test]
async fn an_idle_websocket_is_closed_and_frees_its_slot() {
    let server = start(TransportConfig {
        max_websockets: 1,
        ws_idle_timeout: Duration::from_millis(300),
        ..TransportConfig::default()
    })
    .await;
    let mut socket = open(&server).await.unwrap();
    // Not reading means not answering the server's pings: the client looks gone.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(3), socket.next()).await.expect("closed in time") {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.expect("a close code").code, CloseCode::Away);
    let deadline = Instant::now() + Duration::from_secs(3);
    while open(&server).await.is_err() {
        assert!(Instant::now() < deadline, "the idle socket's slot was not freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_websocket_that_answers_pings_stays_open() {
    let server =
        start(TransportConfig { ws_idle_timeout: Duration::from_millis(300), ..TransportConfig::default() }).await;
    let mut socket = open(&server).await.unwrap();
    // Reading answers pings (tungstenite replies on the next read or write).
    let until = Instant::now() + Duration::from_millis(900);
    while Instant::now() < until {
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(50), socket.next()).await {
            assert!(matches!(message, Some(Ok(Message::Ping(_)))), "{message:?}");
        }
        socket.flush().await.unwrap();
    }
    socket.send(Message::text(json!({"type": "ping"}).to_string())).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(3), socket.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => {
                assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!({"type": "pong"}));
                break;
            }
            Some(Ok(Message::Ping(_))) => continue,
            other => panic!("expected a pong, got {other:?}"),
        }
    }
}

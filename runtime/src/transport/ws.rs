//! WebSocket at `GET /ws`: live events plus JSON-RPC on one socket.
//!
//! Client → server: `{"type":"subscribe","events":["task.*"]}`, `{"type":"unsubscribe",…}`,
//! `{"type":"ping"}`, or any JSON-RPC request (answered on the socket, like `POST /rpc`).
//! Server → client: `{"type":"event","event","id","ts","payload"}`, acknowledgements
//! (`subscribed`, `unsubscribed`, `pong`) and `{"type":"error","error":{…}}`.
//!
//! Everything the server sends goes through one bounded queue. When it is full the client is
//! not keeping up, and it is disconnected with close code 1008 rather than buffered without
//! bound (the same happens when the backend drops our subscription for falling behind).
//!
//! Sockets are bounded too: at most `max_websockets` are open (further upgrades get 503), each
//! with small buffers (an idle socket costs a few KiB), and one that sends nothing for
//! `ws_idle_timeout` (the server pings it at half that) is closed, so a client that vanished
//! without closing frees its slot and its subscription.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use axum::routing::get;
use claudebench_contract::error::{Error, ErrorCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::time::Instant;

use super::AppState;
use super::identity::Caller;
use super::jsonrpc;
use super::wire::error_response;
use crate::backend::{BusEvent, EventStream};
use crate::context::{RequestMeta, Transport};

/// Most patterns one socket may hold (each costs a filter on the bus).
const MAX_PATTERNS: usize = 64;

/// Initial read and write buffer of a socket. tungstenite's defaults (128 KiB each) made 2,000
/// idle sockets cost about 250 MB; messages here are small JSON, and the buffers grow for a
/// large one (up to the body limit) when needed.
const SOCKET_BUFFER: usize = 4 * 1024;

/// Calls of one socket running at once. The next call waits for a free slot, and so does the
/// reading of the socket: a client that sends faster than its calls finish is slowed down
/// instead of piling up tasks (and their answers) in memory.
const CALLS_PER_SOCKET: usize = 32;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/ws", get(upgrade))
}

async fn upgrade(State(state): State<AppState>, caller: Caller, ws: WebSocketUpgrade) -> Response {
    // The slot is taken before upgrading and held by the session until the socket is gone.
    let Ok(slot) = state.ws_slots.clone().try_acquire_owned() else {
        let error = Error {
            retry_after_ms: Some(1000),
            ..Error::unavailable(format!(
                "too many open WebSockets (at most {}); retry later",
                state.config.max_websockets
            ))
        };
        return error_response(&error);
    };
    let base = caller.meta(Transport::WebSocket);
    ws.max_message_size(state.config.body_limit)
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| session(state, base, socket, slot))
}

/// Why the server ends a connection.
struct Close {
    code: u16,
    reason: &'static str,
}

const TOO_SLOW: Close = Close { code: close_code::POLICY, reason: "client too slow: event queue overflowed" };
const TOO_BIG: Close = Close { code: close_code::SIZE, reason: "message larger than the request body limit" };
const IDLE: Close = Close { code: close_code::AWAY, reason: "idle: no message or pong within the idle timeout" };

async fn session(state: AppState, base: RequestMeta, socket: WebSocket, _slot: OwnedSemaphorePermit) {
    let (sink, mut incoming) = socket.split();
    let (out_tx, out_rx) = mpsc::channel::<Message>(state.config.ws_queue.max(1));
    let (close_tx, close_rx) = oneshot::channel::<Close>();
    let writer = tokio::spawn(write_loop(sink, out_rx, close_rx));

    let calls = Arc::new(Semaphore::new(CALLS_PER_SOCKET));
    let mut patterns: BTreeSet<String> = BTreeSet::new();
    let mut events: Option<EventStream> = None;
    let idle_timeout = state.config.ws_idle_timeout.max(Duration::from_millis(10));
    let mut pings = tokio::time::interval_at(Instant::now() + idle_timeout / 2, idle_timeout / 2);
    let mut last_heard = Instant::now();
    let close = loop {
        tokio::select! {
            message = incoming.next() => {
                last_heard = Instant::now();
                match message {
                Some(Ok(Message::Text(text))) => {
                    let request = ClientMessage { state: &state, base: &base, out: &out_tx, calls: &calls, overflowed: AtomicBool::new(false) };
                    if let Some(new_stream) = request.handle(text.as_str(), &mut patterns).await {
                        events = new_stream;
                    }
                    if request.overflowed.load(Ordering::Relaxed) { break Some(TOO_SLOW); }
                }
                Some(Ok(Message::Binary(_))) => {
                    let error = Error::new(ErrorCode::Validation, "binary messages are not supported; send JSON text");
                    if !queue(&out_tx, error_message(&error)) { break Some(TOO_SLOW); }
                }
                // Pings are answered by the WebSocket layer itself; pongs need nothing.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(error)) if is_too_big(&error) => break Some(TOO_BIG),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
            }},
            _ = pings.tick() => {
                if last_heard.elapsed() >= idle_timeout { break Some(IDLE); }
                if !queue(&out_tx, Message::Ping(Default::default())) { break Some(TOO_SLOW); }
            },
            event = next_event(&mut events) => match event {
                Some(event) => if !queue(&out_tx, event_message(&event)) { break Some(TOO_SLOW) },
                // The backend closed our subscription: we fell behind on the bus.
                None => break Some(TOO_SLOW),
            },
        }
    };
    match close {
        Some(close) => {
            let _ = close_tx.send(close);
        }
        None => drop(close_tx),
    }
    drop(out_tx);
    // The subscription is already gone with `events`; a client that stopped reading must not
    // keep the writer (and the slot) forever either.
    drop(events);
    let abort = writer.abort_handle();
    if tokio::time::timeout(Duration::from_secs(5), writer).await.is_err() {
        abort.abort();
    }
}

/// Whether reading failed because the message exceeds `max_message_size` (or a frame the
/// frame limit): the socket is still writable, so the client can be told why with 1009.
fn is_too_big(error: &axum::Error) -> bool {
    let inner = std::error::Error::source(error).and_then(|e| e.downcast_ref::<tungstenite::Error>());
    matches!(inner, Some(tungstenite::Error::Capacity(_)))
}

/// The next event of the subscription; never resolves while there is none.
async fn next_event(events: &mut Option<EventStream>) -> Option<BusEvent> {
    match events {
        Some(stream) => stream.recv().await,
        None => std::future::pending().await,
    }
}

/// Queue a message without waiting; `false` when the queue is full (or the writer is gone).
fn queue(out: &mpsc::Sender<Message>, message: Message) -> bool {
    out.try_send(message).is_ok()
}

/// Drain the queue into the socket; a close request jumps the queue (a slow client's backlog
/// is exactly what must not delay its disconnection).
async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Message>,
    mut close: oneshot::Receiver<Close>,
) {
    loop {
        tokio::select! {
            biased;
            reason = &mut close => {
                if let Ok(Close { code, reason }) = reason {
                    let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                }
                break;
            }
            message = out.recv() => match message {
                Some(message) => if sink.send(message).await.is_err() { break },
                None => break,
            },
        }
    }
    let _ = sink.close().await;
}

/// Handling of one text message from the client.
struct ClientMessage<'a> {
    state: &'a AppState,
    base: &'a RequestMeta,
    out: &'a mpsc::Sender<Message>,
    /// Slots for this socket's running calls ([`CALLS_PER_SOCKET`]).
    calls: &'a Arc<Semaphore>,
    /// Set when a reply found the queue full: the client is not reading.
    overflowed: AtomicBool,
}

impl ClientMessage<'_> {
    /// Act on the message. `Some(stream)` when the subscription changed (`Some(None)` = none left).
    async fn handle(&self, text: &str, patterns: &mut BTreeSet<String>) -> Option<Option<EventStream>> {
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => {
                // Not JSON at all: answer like JSON-RPC would (-32700), the most useful hint.
                self.reply(json!(jsonrpc::error_object(
                    Value::Null,
                    jsonrpc::PARSE_ERROR,
                    format!("Parse error: {e}"),
                    None
                )))
                .await;
                return None;
            }
        };
        match value.get("type").and_then(Value::as_str) {
            Some("subscribe") => self.change_subscription(&value, patterns, true).await,
            Some("unsubscribe") => self.change_subscription(&value, patterns, false).await,
            Some("ping") => {
                self.reply(json!({ "type": "pong" })).await;
                None
            }
            Some(other) => {
                let error = Error::new(
                    ErrorCode::Validation,
                    format!("unknown message type `{other}`; expected subscribe, unsubscribe or ping"),
                );
                self.reply(error_value(&error)).await;
                None
            }
            None => {
                self.spawn_rpc(value).await;
                None
            }
        }
    }

    async fn change_subscription(
        &self,
        message: &Value,
        patterns: &mut BTreeSet<String>,
        add: bool,
    ) -> Option<Option<EventStream>> {
        let requested = match message.get("events").and_then(Value::as_array) {
            Some(list) if list.iter().all(|p| p.as_str().is_some_and(valid_pattern)) => {
                list.iter().filter_map(Value::as_str)
            }
            _ => {
                let error = Error::new(
                    ErrorCode::Validation,
                    "`events` must be a list of event names or glob patterns (`task.*`, `*`)",
                );
                self.reply(error_value(&error)).await;
                return None;
            }
        };
        let mut next = patterns.clone();
        for pattern in requested {
            if add {
                next.insert(pattern.to_string())
            } else {
                next.remove(pattern)
            };
        }
        if next.len() > MAX_PATTERNS {
            self.reply(error_value(&Error::new(
                ErrorCode::Validation,
                format!("at most {MAX_PATTERNS} patterns per connection"),
            )))
            .await;
            return None;
        }
        // Re-subscribe with the whole set: one stream per socket keeps ordering simple. An
        // event published while switching may be missed; clients needing every event read the
        // durable history instead.
        let stream = if next.is_empty() {
            None
        } else {
            let list: Vec<String> = next.iter().cloned().collect();
            match self.state.backend.subscribe(&list).await {
                Ok(stream) => Some(stream),
                Err(error) => {
                    self.reply(error_value(&error)).await;
                    return None;
                }
            }
        };
        *patterns = next;
        let kind = if add { "subscribed" } else { "unsubscribed" };
        self.reply(json!({ "type": kind, "events": patterns.iter().collect::<Vec<_>>() })).await;
        Some(stream)
    }

    /// Run a JSON-RPC request without blocking the socket's reader (a slow event must not
    /// hold up subscriptions or other requests).
    async fn spawn_rpc(&self, message: Value) {
        // A client whose calls cannot finish within the idle timeout (it stopped reading their
        // answers) is too slow, like one whose queue overflows. The semaphore is never closed.
        let wait = self.state.config.ws_idle_timeout;
        let Ok(Ok(slot)) = tokio::time::timeout(wait, self.calls.clone().acquire_owned()).await else {
            self.overflowed.store(true, Ordering::Relaxed);
            return;
        };
        let backend = self.state.backend.clone();
        let base = self.base.clone();
        let out = self.out.clone();
        let limits = self.state.config.rpc;
        tokio::spawn(async move {
            if let Some(answer) = jsonrpc::handle_message(backend.as_ref(), message, &base, limits).await {
                let _ = out.send(Message::Text(answer.into())).await;
            }
            drop(slot);
        });
    }

    /// Replies never wait: a full queue means the client stopped reading, and waiting would
    /// keep a dead connection (and its subscription) alive forever.
    async fn reply(&self, value: Value) {
        if !queue(self.out, Message::Text(value.to_string().into())) {
            self.overflowed.store(true, Ordering::Relaxed);
        }
    }
}

/// `domain.action`, `domain.*` or `*`: letters, digits, `_`, `.` and `*` only.
fn valid_pattern(pattern: &str) -> bool {
    !pattern.is_empty()
        && pattern.len() <= 128
        && pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.*-".contains(&b))
}

fn event_message(event: &BusEvent) -> Message {
    let value =
        json!({ "type": "event", "event": event.event, "id": event.id, "ts": event.ts, "payload": event.payload });
    Message::Text(value.to_string().into())
}

fn error_value(error: &Error) -> Value {
    json!({ "type": "error", "error": error })
}

fn error_message(error: &Error) -> Message {
    Message::Text(error_value(error).to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_event_names_or_globs() {
        assert!(valid_pattern("task.*"));
        assert!(valid_pattern("*"));
        assert!(valid_pattern("hook.pre_tool"));
        assert!(!valid_pattern(""));
        assert!(!valid_pattern("task created"));
    }
}

//! Connections: how many the server holds and how long a client may take to send a request.
//!
//! The server sits on a developer's machine (and sometimes a network), so a client that opens
//! connections and never finishes a request must not be able to pile them up: every connection
//! costs a task, buffers and a file descriptor. The policy, in one place:
//!
//! - **Request heads** (request line and headers) must arrive within `header_timeout`, counted
//!   from the moment the server waits for one: on a new connection, and between requests of a
//!   keep-alive connection, so idle keep-alive connections are closed after the same time. A
//!   connection that misses it is closed without an answer (hyper's header read timeout).
//! - **Request bodies** must arrive within `body_timeout` of their head; a late one is answered
//!   with 408 and the JSON error body, and the connection is closed.
//! - **At most `max_connections` HTTP connections** are served at once. At the cap the server
//!   stops accepting: further clients wait in the kernel's listen backlog (no memory here) and are
//!   served as soon as a connection ends, which the timeouts above guarantee for stalled clients.
//!   An upgraded WebSocket leaves this count and is bounded by `max_websockets` instead (`ws.rs`).

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use claudebench_contract::error::{Error, ErrorCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{Semaphore, watch};

use super::wire::error_response_with_status;

/// Connection limits of [`serve`]; the defaults are safe for a server next to a browser.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest wait for a complete request head, and longest idle time between keep-alive requests.
    pub header_timeout: Duration,
    /// Longest time for a request body to arrive, from its head (→ 408, connection closed).
    pub body_timeout: Duration,
    /// Most HTTP connections served at once; further clients wait to be accepted.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Serve `app` on `listener` with `limits` until `shutdown` resolves, then stop accepting and wait
/// for the open HTTP connections to finish their requests (upgraded WebSockets are not waited for).
/// Handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
    let slots = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot before accepting: at the cap, new clients queue in the kernel, not in memory.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = http.serve_connection(TokioIo::new(stream), service(app.clone(), peer, limits.body_timeout));
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut connection = pin!(connection.with_upgrades());
            let stopping = tokio::select! {
                _ = connection.as_mut() => false,
                _ = stop.wait_for(|stop| *stop) => true,
            };
            if stopping {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it ends: having them all back means all are done.
    let _ = slots.acquire_many(max as u32).await;
    Ok(())
}

/// Accepting fails for one aborted client (go on) or for lack of file descriptors (pause, as
/// retrying at once would spin until a connection closes).
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::warn!(%error, "cannot accept connections; pausing for a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The router for one connection: adds the peer address and the body deadline to each request.
fn service(
    app: Router,
    peer: SocketAddr,
    body_timeout: Duration,
) -> impl hyper::service::Service<Request<Incoming>, Response = Response, Error = std::convert::Infallible, Future: Send>
+ Send {
    hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let mut app = app.clone();
        request.extensions_mut().insert(ConnectInfo(peer));
        let timed_out = Arc::new(AtomicBool::new(false));
        let request = if http_body::Body::is_end_stream(request.body()) {
            request.map(Body::new)
        } else {
            let deadline = Box::pin(tokio::time::sleep(body_timeout));
            let flag = timed_out.clone();
            request.map(|inner| Body::new(TimedBody { inner, deadline, timed_out: flag }))
        };
        async move {
            let response = tower_service::Service::call(&mut app, request).await?;
            // Whatever the handler made of the failed read, the answer is 408 and the connection
            // is not reused (the rest of the body may still arrive on it).
            if timed_out.load(Ordering::Relaxed) { Ok(body_timeout_response(body_timeout)) } else { Ok(response) }
        }
    })
}

fn body_timeout_response(body_timeout: Duration) -> Response {
    let error = Error::new(
        ErrorCode::Timeout,
        format!("the request body did not arrive within {} ms", body_timeout.as_millis()),
    );
    let mut response = error_response_with_status(StatusCode::REQUEST_TIMEOUT, &error);
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails (and says so) once its deadline passes.
struct TimedBody {
    inner: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err("the request body timed out".into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

//! Live pub/sub delivery with reconnection.
//!
//! [`listen`] is the one pub/sub loop of the runtime (the bus subscriptions and the circuit
//! breakers' change feed both use it): it subscribes to channel patterns on a dedicated
//! connection, pings it so a silently dead connection is noticed, and re-subscribes with
//! backoff after a loss, calling `on_connect` each time so users can re-read state they may
//! have missed while disconnected.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use claudebench_contract::error::Error;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::redis::{RedisHandle, redis_error};

const PING_EVERY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// One event as delivered live (the pub/sub message format of `lua/lib/publish.lua`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BusMessage {
    /// The stream entry id (replay from here with XRANGE).
    pub id: String,
    pub event: String,
    /// Publish time, ms since the epoch (Redis clock).
    pub ts: u64,
    pub payload: Value,
}

/// Whether the listener keeps going after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// A running pub/sub loop; stopped when dropped.
#[derive(Debug)]
pub(crate) struct Listener {
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a pub/sub loop over `patterns` (PSUBSCRIBE) and returns once the first subscription
/// is confirmed (so nothing published afterwards is missed), or with the first connection error.
pub(crate) async fn listen<C, F>(
    redis: RedisHandle,
    patterns: Vec<String>,
    mut on_connect: C,
    mut on_message: F,
) -> Result<Listener, Error>
where
    C: FnMut() + Send + 'static,
    F: FnMut(&str, &[u8]) -> Flow + Send + 'static,
{
    let (ready_tx, ready_rx) = oneshot::channel::<Result<(), Error>>();
    let task = tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        let mut backoff = Duration::from_millis(50);
        loop {
            match subscribed(&redis, &patterns).await {
                Ok(pubsub) => {
                    backoff = Duration::from_millis(50);
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Ok(()));
                    }
                    on_connect();
                    let (mut sink, mut stream) = pubsub.split();
                    let mut ping = tokio::time::interval(PING_EVERY);
                    ping.tick().await;
                    loop {
                        tokio::select! {
                            msg = stream.next() => match msg {
                                Some(msg) => {
                                    if on_message(msg.get_channel_name(), msg.get_payload_bytes()) == Flow::Stop {
                                        return;
                                    }
                                }
                                None => break,
                            },
                            _ = ping.tick() => {
                                let alive = tokio::time::timeout(PING_EVERY, sink.ping::<::redis::Value>()).await;
                                if !matches!(alive, Ok(Ok(_))) {
                                    break;
                                }
                            }
                        }
                    }
                    tracing::warn!(?patterns, "pub/sub connection lost; re-subscribing");
                }
                Err(e) => {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    tracing::warn!(error = %e, ?patterns, "pub/sub re-subscription failed; retrying");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    match ready_rx.await {
        Ok(Ok(())) => Ok(Listener { task }),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(Error::internal("pub/sub listener stopped before subscribing")),
    }
}

async fn subscribed(redis: &RedisHandle, patterns: &[String]) -> Result<::redis::aio::PubSub, Error> {
    let mut pubsub = redis.pubsub().await?;
    for p in patterns {
        pubsub.psubscribe(p).await.map_err(redis_error)?;
    }
    Ok(pubsub)
}

/// A live subscription to bus events. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::Receiver<BusMessage>,
    dropped: Arc<AtomicU64>,
    _listener: Listener,
}

impl Subscription {
    /// The next event; `None` only if the subscription ended.
    pub async fn recv(&mut self) -> Option<BusMessage> {
        self.rx.recv().await
    }

    /// The next event if one is buffered.
    pub fn try_recv(&mut self) -> Option<BusMessage> {
        self.rx.try_recv().ok()
    }

    /// How many events were dropped because the buffer was full (a slow consumer).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

pub(crate) async fn subscribe(
    redis: RedisHandle,
    channels: Vec<String>,
    capacity: usize,
) -> Result<Subscription, Error> {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let counter = dropped.clone();
    let listener = listen(
        redis,
        channels,
        || {},
        move |channel, payload| {
            let message = match serde_json::from_slice::<BusMessage>(payload) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(%channel, error = %e, "undecodable bus message skipped");
                    return Flow::Continue;
                }
            };
            match tx.try_send(message) {
                Ok(()) => Flow::Continue,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                    Flow::Continue
                }
                Err(mpsc::error::TrySendError::Closed(_)) => Flow::Stop,
            }
        },
    )
    .await?;
    Ok(Subscription { rx, dropped, _listener: listener })
}

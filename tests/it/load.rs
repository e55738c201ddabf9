//! The load generator of the fault drills: many concurrent client loops over HTTP.
//!
//! Every request carries a fresh `X-Client-Id`, so per-caller rate limits never refuse one. Every
//! answer is tallied by outcome (`2xx`, `503 unavailable`, `0 transport`, …) with the first and
//! last time it was seen; only 2xx answers count as acknowledged. Creators send a new text on
//! every call (`<label>-<client>-<n>`), so a retry after a failure can never be counted twice and
//! SQL rows can be matched to acknowledgements by (id, text). Workers heartbeat, claim and
//! complete, and record every acknowledged claim and completion.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::task::JoinHandle;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_DEADLINE: Duration = Duration::from_secs(20);
const HEARTBEAT_EVERY: Duration = Duration::from_millis(300);
const COMPLETE_ATTEMPTS: u32 = 20;

/// An HTTP client for the drills, with a clock every recorded time is measured on.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    clock: Instant,
}

/// One answer: the HTTP status (0 when no answer came) and the JSON body (`null` if none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// Acknowledged.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// No answer, or a server-side failure: the request may or may not have taken effect.
    pub fn ambiguous(&self) -> bool {
        self.status == 0 || self.status >= 500
    }

    /// `2xx`, or the status and the error code (`503 unavailable`, `0 transport`).
    pub fn outcome(&self) -> String {
        if self.ok() {
            return "2xx".into();
        }
        let code = self.body["error"]["code"].as_str().unwrap_or(if self.status == 0 { "transport" } else { "?" });
        format!("{} {code}", self.status)
    }

    /// How long to wait before the next call after this failure (the server's `retryAfterMs`,
    /// capped so a loop keeps probing).
    fn backoff(&self) -> Duration {
        let hinted = self.body["error"]["retryAfterMs"].as_u64().map(Duration::from_millis);
        hinted.unwrap_or(Duration::from_millis(if self.status == 0 { 50 } else { 20 })).min(Duration::from_millis(250))
    }
}

impl Api {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(128)
            .build()
            .expect("an HTTP client");
        Api { http, clock: Instant::now() }
    }

    /// Time since this client was made (the drill's clock).
    pub fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    /// `POST <base><path>` with a JSON body, as a caller nobody has seen before.
    pub async fn post(&self, base: &str, path: &str, body: &Value) -> Answer {
        static CALLER: AtomicU64 = AtomicU64::new(0);
        let caller = format!("drill-caller-{}", CALLER.fetch_add(1, Ordering::Relaxed));
        let sent = self
            .http
            .post(format!("{base}{path}"))
            .header("content-type", "application/json")
            .header("x-client-id", caller)
            .body(body.to_string())
            .send()
            .await;
        let Ok(response) = sent else { return Answer { status: 0, body: Value::Null } };
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }

    /// `GET <base><path>` (JSON answer).
    pub async fn get(&self, base: &str, path: &str) -> Answer {
        match self.http.get(format!("{base}{path}")).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                Answer {
                    status,
                    body: serde_json::from_str(&response.text().await.unwrap_or_default()).unwrap_or_default(),
                }
            }
            Err(_) => Answer { status: 0, body: Value::Null },
        }
    }
}

/// How often each outcome was seen, and when first and last (on the drill's clock).
#[derive(Default)]
pub struct Tally(Mutex<BTreeMap<String, Seen>>);

/// One outcome's count and time span.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub count: u64,
    pub first: Duration,
    pub last: Duration,
}

impl Tally {
    pub fn record(&self, answer: &Answer, at: Duration) {
        let mut map = self.0.lock().unwrap();
        let seen = map.entry(answer.outcome()).or_insert(Seen { count: 0, first: at, last: at });
        seen.count += 1;
        seen.last = at;
    }

    /// Every outcome seen.
    pub fn outcomes(&self) -> BTreeMap<String, Seen> {
        self.0.lock().unwrap().clone()
    }

    /// How many answers were ambiguous (no answer, or 5xx).
    pub fn ambiguous(&self) -> u64 {
        let ambiguous = |outcome: &str| outcome.starts_with('0') || outcome.starts_with('5');
        self.outcomes().iter().filter(|(o, _)| ambiguous(o)).map(|(_, s)| s.count).sum()
    }

    /// `2xx: 120 (0.0–3.0 s); 503 unavailable: 4 (1.2–1.4 s)`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .outcomes()
            .iter()
            .map(|(o, s)| format!("{o}: {} ({:.1}–{:.1} s)", s.count, s.first.as_secs_f64(), s.last.as_secs_f64()))
            .collect();
        parts.join("; ")
    }
}

/// A set of concurrent client loops that run one iteration after another until stopped.
pub struct Loops {
    stopping: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Loops {
    /// `n` loops; loop `c` runs `iteration(c, i, stopping)` for i = 0, 1, … until stopped.
    pub fn spawn<F, Fut>(n: usize, iteration: F) -> Loops
    where
        F: Fn(usize, u64, Arc<AtomicBool>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let stopping = Arc::new(AtomicBool::new(false));
        let iteration = Arc::new(iteration);
        let handles = (0..n)
            .map(|client| {
                let (stopping, iteration) = (stopping.clone(), iteration.clone());
                tokio::spawn(async move {
                    let mut i = 0;
                    while !stopping.load(Ordering::Relaxed) {
                        iteration(client, i, stopping.clone()).await;
                        i += 1;
                    }
                })
            })
            .collect();
        Loops { stopping, handles }
    }

    /// Asks every loop to stop after its current iteration and waits for them (bounded).
    pub async fn stop(self) {
        self.stopping.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + STOP_DEADLINE;
        for handle in self.handles {
            let left = deadline.saturating_duration_since(Instant::now());
            let abort = handle.abort_handle();
            if tokio::time::timeout(left, handle).await.is_err() {
                abort.abort();
                panic!("a load loop did not stop within {STOP_DEADLINE:?}");
            }
        }
    }
}

/// One acknowledged create.
#[derive(Debug, Clone)]
pub struct Ack {
    pub id: String,
    pub text: String,
    /// When the request was sent and when its answer came (drill clock).
    pub sent: Duration,
    pub acked: Duration,
}

impl Ack {
    /// The `<n>` of a `t-<n>` id.
    pub fn number(&self) -> Option<u64> {
        id_number(&self.id)
    }
}

/// The `<n>` of a `t-<n>` id.
pub fn id_number(id: &str) -> Option<u64> {
    id.strip_prefix("t-")?.parse().ok()
}

/// What a set of creators saw.
#[derive(Default)]
pub struct Creates {
    acks: Mutex<Vec<Ack>>,
    pub tally: Tally,
}

impl Creates {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Every acknowledged create so far.
    pub fn acks(&self) -> Vec<Ack> {
        self.acks.lock().unwrap().clone()
    }
}

/// `clients` loops creating tasks on `urls` (client `c` talks to `urls[c % len]`), pausing
/// `pause` after each acknowledged create and backing off after each failure.
pub fn creators(api: &Api, log: &Arc<Creates>, label: &str, urls: &[String], clients: usize, pause: Duration) -> Loops {
    let (api, log, label, urls) = (api.clone(), log.clone(), label.to_string(), urls.to_vec());
    Loops::spawn(clients, move |client, n, _| {
        let (api, log, server) = (api.clone(), log.clone(), urls[client % urls.len()].clone());
        let text = format!("{label}-{client}-{n}");
        async move {
            let sent = api.now();
            let answer = api.post(&server, "/task/create", &json!({"text": text, "priority": 50})).await;
            let acked = api.now();
            log.tally.record(&answer, acked);
            if !answer.ok() {
                return tokio::time::sleep(answer.backoff()).await;
            }
            let id = answer.body["id"].as_str().unwrap_or_default().to_string();
            log.acks.lock().unwrap().push(Ack { id, text, sent, acked });
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
    })
}

/// A worker's claim or completion of a task, and when its answer came (drill clock).
#[derive(Debug, Clone)]
pub struct Deed {
    pub task: String,
    pub worker: String,
    pub at: Duration,
}

impl Deed {
    fn now(api: &Api, task: &str, worker: &str) -> Deed {
        Deed { task: task.to_string(), worker: worker.to_string(), at: api.now() }
    }
}

/// What a set of workers saw: acknowledged claims and completions, and the completions whose
/// last attempt got no definite answer.
#[derive(Default)]
pub struct Work {
    pub claims: Mutex<Vec<Deed>>,
    pub completions: Mutex<Vec<Deed>>,
    pub unanswered_completions: Mutex<Vec<Deed>>,
    pub unanswered_claims: AtomicU64,
    pub tally: Tally,
}

impl Work {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }
}

/// The loops of a set of workers registered on one server: `heartbeats` (every 300 ms) and
/// `work` (claim up to 5 → work `work_time` on each, then complete it, retrying a completion while
/// it has no definite answer). A worker told to stop abandons the tasks it holds, as a crashed
/// worker would.
pub struct Workers {
    heartbeats: Loops,
    work: Loops,
}

impl Workers {
    /// Registers `ids` on `url` and starts them.
    pub async fn start(api: &Api, log: &Arc<Work>, url: &str, ids: &[String], work_time: Duration) -> Workers {
        for id in ids {
            let answer = api.post(url, "/system/register", &json!({"id": id, "roles": ["worker"]})).await;
            assert!(answer.ok(), "registering worker {id} on {url}: {answer:?}");
        }
        let heartbeats = {
            let (api, url, ids) = (api.clone(), url.to_string(), ids.to_vec());
            Loops::spawn(ids.len(), move |w, _, _| {
                let (api, url, id) = (api.clone(), url.clone(), ids[w].clone());
                async move {
                    let _ = api.post(&url, "/system/heartbeat", &json!({"instanceId": id})).await;
                    tokio::time::sleep(HEARTBEAT_EVERY).await;
                }
            })
        };
        let work = {
            let (api, log, url, ids) = (api.clone(), log.clone(), url.to_string(), ids.to_vec());
            Loops::spawn(ids.len(), move |w, _, stopping| {
                let (api, log, url, id) = (api.clone(), log.clone(), url.clone(), ids[w].clone());
                async move { work_once(&api, &log, &url, &id, work_time, &stopping).await }
            })
        };
        Workers { heartbeats, work }
    }

    pub async fn stop(self) {
        self.work.stop().await;
        self.heartbeats.stop().await;
    }
}

async fn work_once(api: &Api, log: &Work, url: &str, worker: &str, work_time: Duration, stopping: &AtomicBool) {
    let answer = api.post(url, "/task/claim", &json!({"workerId": worker, "maxTasks": 5})).await;
    log.tally.record(&answer, api.now());
    if !answer.ok() {
        if answer.ambiguous() {
            log.unanswered_claims.fetch_add(1, Ordering::Relaxed);
        }
        return tokio::time::sleep(answer.backoff()).await;
    }
    let ids: Vec<String> = answer.body["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["id"].as_str().map(String::from))
        .collect();
    if ids.is_empty() {
        return tokio::time::sleep(Duration::from_millis(50)).await;
    }
    log.claims.lock().unwrap().extend(ids.iter().map(|task| Deed::now(api, task, worker)));
    for task in ids {
        tokio::time::sleep(work_time).await;
        if stopping.load(Ordering::Relaxed) {
            return; // a stopped worker abandons what it holds
        }
        complete(api, log, url, worker, &task, stopping).await;
    }
}

/// Completes `task`, retrying while the answer is ambiguous (a retried completion answers success).
async fn complete(api: &Api, log: &Work, url: &str, worker: &str, task: &str, stopping: &AtomicBool) {
    let body = json!({"id": task, "workerId": worker, "result": {"by": worker}});
    for _ in 0..COMPLETE_ATTEMPTS {
        let answer = api.post(url, "/task/complete", &body).await;
        log.tally.record(&answer, api.now());
        if answer.ok() {
            log.completions.lock().unwrap().push(Deed::now(api, task, worker));
            return;
        }
        if !answer.ambiguous() {
            return; // a definite refusal (conflict, not_found), tallied
        }
        if stopping.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(answer.backoff()).await;
    }
    log.unanswered_completions.lock().unwrap().push(Deed::now(api, task, worker));
}

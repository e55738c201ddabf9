//! A test app per test: real Redis, a unique key prefix, no background jobs unless asked.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use claudebench::app::App;
use claudebench_domain::coordination::CoordinationConfig;
use claudebench_domain::node::NodeOptions;
use claudebench_generated::error::Error;
use claudebench_runtime::backend::Payload;
use claudebench_runtime::config::RuntimeConfig;
use claudebench_runtime::context::{RequestMeta, Services, Transport};
use serde_json::Value;

static N: AtomicU64 = AtomicU64::new(0);

/// A prefix no other test or run uses.
pub fn unique_prefix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("cbt-{}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), nanos % 1_000_000_000)
}

/// A fresh directory under the system's temporary one, `cb-<what>-<id>`, for a test's data and
/// logs; the test removes it when it passes, so a failing one leaves its logs to read.
pub fn scratch_dir(what: &str, id: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cb-{what}-{id}"));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// Options for a test app: the machine's Redis (or the test cluster), a fresh prefix, no SQL, no
/// jobs.
pub fn options() -> NodeOptions {
    let redis = crate::spawned::redis_options();
    let runtime = RuntimeConfig {
        redis_url: (!redis.is_cluster()).then_some(redis.url),
        redis_cluster_nodes: redis.cluster_nodes,
        key_prefix: unique_prefix(),
        // The pipeline tests drive `test.circuit`; a production server leaves it out.
        test_events: true,
        ..RuntimeConfig::default()
    };
    NodeOptions {
        instance_id: format!("server-{}", runtime.key_prefix),
        runtime,
        coordination: CoordinationConfig {
            partitions: crate::spawned::test_partitions(),
            ..CoordinationConfig::default()
        },
        persist: false,
        background_jobs: false,
        hook_rules: None,
        event_overrides: Default::default(),
    }
}

/// Options as a production server has them: the spec's test-only events are not served.
pub fn production_options() -> NodeOptions {
    let mut options = options();
    options.runtime.test_events = false;
    options
}

pub struct TestApp {
    pub app: Option<App>,
}

impl TestApp {
    pub async fn start() -> Self {
        Self::start_with(options()).await
    }

    pub async fn start_with(options: NodeOptions) -> Self {
        let app = App::start(options).await.expect("the test app starts (is Redis running? scripts/test.sh starts it)");
        TestApp { app: Some(app) }
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.app.as_ref().expect("running").services
    }

    /// The pipeline as transports see it.
    pub fn pipeline(&self) -> Arc<dyn claudebench_runtime::backend::Backend> {
        self.app.as_ref().expect("running").pipeline.clone()
    }

    pub fn domain(&self) -> &Arc<claudebench_domain::Domain> {
        &self.app.as_ref().expect("running").domain
    }

    /// Every entry of one event's stream, oldest first, as (`event` field, parsed `payload`).
    /// Task events live in the task partitions' streams: those are merged by entry id.
    pub async fn stream(&self, event: &str) -> Vec<(String, Value)> {
        let keys: Vec<String> = if claudebench_domain::coordination::tasks::TASK_STREAMS.contains(&event) {
            self.domain().coord.tasks.partitions().all().iter().map(|p| p.stream(event)).collect()
        } else {
            vec![self.services().keys.stream(event)]
        };
        let mut entries: Vec<((u64, u64), String, Value)> = Vec::new();
        for key in keys {
            let reply: redis::streams::StreamRangeReply =
                redis::cmd("XRANGE").arg(&key).arg("-").arg("+").query_async(&mut self.redis()).await.expect("XRANGE");
            for e in reply.ids {
                let order = claudebench_runtime::bus::consumer::parse_entry_id(&e.id);
                let name: String = e.get("event").unwrap_or_default();
                let payload: String = e.get("payload").unwrap_or_default();
                entries.push((order, name, serde_json::from_str(&payload).unwrap_or(Value::Null)));
            }
        }
        entries.sort_by_key(|(order, _, _)| *order);
        entries.into_iter().map(|(_, name, payload)| (name, payload)).collect()
    }

    /// Call an event as a fresh caller (so per-caller rate limits never interfere).
    pub async fn call(&self, event: &str, input: Value) -> Result<Value, Error> {
        let mut meta = RequestMeta::new(Transport::Internal);
        meta.client_id = Some(format!("test-client-{}", N.fetch_add(1, Ordering::Relaxed)));
        self.call_as(event, input, meta).await
    }

    /// Call an event with an explicit identity.
    pub async fn call_as(&self, event: &str, input: Value, meta: RequestMeta) -> Result<Value, Error> {
        let app = self.app.as_ref().expect("running");
        let def = claudebench_runtime::backend::Backend::resolve(app.pipeline.as_ref(), event)
            .unwrap_or_else(|| panic!("unknown event {event}"));
        app.pipeline.run(def, Payload::Value(input), meta).await
    }

    /// Call and expect success.
    pub async fn ok(&self, event: &str, input: Value) -> Value {
        match self.call(event, input.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{event} {input} failed: {e:?}"),
        }
    }

    /// A connection to the test Redis.
    pub fn redis(&self) -> claudebench_runtime::redis::Conn {
        self.services().redis.conn()
    }

    /// Shut down and delete every key of this test's prefix.
    pub async fn stop(mut self) {
        if let Some(app) = self.app.take() {
            let services = app.services.clone();
            app.shutdown().await;
            delete_prefix(&services).await;
        }
    }
}

/// Remove every key under the test's prefix (test-only: KEYS is acceptable off the hot path).
pub async fn delete_prefix(services: &Services) {
    let mut con = services.redis.conn();
    delete_keys(&mut con, services.keys.prefix()).await;
}

/// Remove every key under `prefix` (its hash-tagged slot and its own keys).
pub async fn delete_keys(con: &mut impl redis::aio::ConnectionLike, prefix: &str) {
    for pattern in [format!("{{{prefix}}}*"), format!("{prefix}:*")] {
        let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(con).await.unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: Result<(), _> = redis::cmd("DEL").arg(chunk).query_async(con).await;
        }
    }
}

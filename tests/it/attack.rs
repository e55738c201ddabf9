//! Attacks on the partitioned task store through the whole application: the partition count a
//! deployment is fixed to, odd task ids on every task event, invalid partition settings.

use std::time::Duration;

use claudebench_generated::error::ErrorCode;
use serde_json::{Value, json};

use crate::spawned::{Serve, free_port};
use crate::support::{TestApp, delete_keys, options};

/// PostgreSQL shared by the apps of one test (rows are scoped by key prefix).
fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn with_sql(
    mut o: claudebench_domain::node::NodeOptions,
    prefix: &str,
    partitions: u32,
    instance: &str,
) -> claudebench_domain::node::NodeOptions {
    o.runtime.key_prefix = prefix.to_string();
    o.runtime.database_url = Some(postgres_url());
    o.runtime.rate_limits = false;
    o.instance_id = instance.to_string();
    o.persist = true;
    o.background_jobs = true;
    o.coordination.partitions = partitions;
    o
}

/// "N is fixed for the life of a deployment's Redis: a server started with another N refuses to
/// start." After Redis lost the deployment's keys while a server ran (it recovers by itself),
/// a second server started with another count must still refuse: otherwise both restore the
/// same unfinished tasks from SQL into different partitions and hand each out twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_partition_count_is_refused_also_after_redis_lost_its_keys() {
    if crate::spawned::skip_on_cluster("deletes one prefix's keys with KEYS") {
        return;
    }
    let prefix = crate::support::unique_prefix();
    let a = TestApp::start_with(with_sql(options(), &prefix, 3, &format!("a-{prefix}"))).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(a.ok("task.create", json!({"text": format!("job {i}")})).await["id"].as_str().unwrap().to_string());
    }
    // Let the persisters write them to SQL.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Redis loses the deployment's keys (a restart without persistence, for this prefix).
    delete_keys(&mut a.redis(), &prefix).await;
    // Server A notices and recovers from SQL within a second or so.
    let mut recovered = false;
    for _ in 0..100 {
        if a.call("task.get", json!({"id": ids[0]})).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "server A recovered the lost keys");

    // Server B with another partition count.
    let b = claudebench::app::App::start(with_sql(options(), &prefix, 6, &format!("b-{prefix}"))).await;
    let Ok(b) = b else {
        a.stop().await;
        return; // refused, as promised
    };
    let b = TestApp { app: Some(b) };
    // It started: show the consequence. A worker claims through each server.
    let roles = vec!["worker".to_string()];
    a.domain().coord.instances.register(&mut a.redis(), "w1", &roles).await.unwrap();
    let via_a = a.ok("task.claim", json!({"workerId": "w1", "maxTasks": 10})).await;
    let via_b = b.ok("task.claim", json!({"workerId": "w1", "maxTasks": 10})).await;
    let ids_of = |v: &Value| -> Vec<String> {
        v["tasks"]
            .as_array()
            .map(|a| a.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let (ca, cb) = (ids_of(&via_a), ids_of(&via_b));
    let twice: Vec<&String> = ca.iter().filter(|id| cb.contains(id)).collect();
    b.stop().await;
    a.stop().await;
    panic!(
        "a server with CLAUDEBENCH_PARTITIONS=6 started on a deployment that runs with 3 (Redis had lost the \
         recorded count); claims through A {ca:?}, through B {cb:?}: handed out twice {twice:?}"
    );
}

/// Odd task ids on every task event, with SQL (the cold path) and three partitions: a
/// structured client error every time, never an internal one.
#[tokio::test]
async fn odd_task_ids_get_structured_errors_on_every_task_event() {
    let prefix = crate::support::unique_prefix();
    let t = TestApp::start_with(with_sql(options(), &prefix, 3, &format!("odd-{prefix}"))).await;
    let roles = vec!["worker".to_string()];
    t.domain().coord.instances.register(&mut t.redis(), "w1", &roles).await.unwrap();
    let real = t.ok("task.create", json!({"text": "real"})).await["id"].as_str().unwrap().to_string();
    let n: u64 = real[2..].parse().unwrap();
    let long_zeros = format!("t-{}{n}", "0".repeat(120));
    let odd = [
        "t-0".to_string(),
        format!("t-0{n}"),
        format!("t-+{n}"),
        format!("t- {n}"),
        format!("t-{n} "),
        long_zeros,
        "t-00012".to_string(),
        "t-99999999999999999999".to_string(),
        "t-18446744073709551615".to_string(),
        "t--1".to_string(),
        "t-1.5".to_string(),
        "t-1e3".to_string(),
        "t-".to_string(),
        "t".to_string(),
        "T-1".to_string(),
        "t-١٢".to_string(),
        "t-😀".to_string(),
        "{cb}:task:t-1".to_string(),
        "t-1}{".to_string(),
        "t-1\u{0}".to_string(),
        "x".repeat(129),
        String::new(),
    ];
    let mut bad = Vec::new();
    for id in &odd {
        let calls = [
            ("task.get", json!({"id": id})),
            ("task.update", json!({"id": id, "updates": {"text": "x"}})),
            ("task.update", json!({"id": id, "updates": {"status": "pending"}})),
            ("task.delete", json!({"id": id})),
            ("task.complete", json!({"id": id, "workerId": "w1"})),
            ("task.complete", json!({"taskId": id, "workerId": "w1", "error": "e"})),
            ("task.assign", json!({"taskId": id, "instanceId": "w1"})),
        ];
        for (event, input) in calls {
            match t.call(event, input.clone()).await {
                // Idempotent by contract: deleting what does not exist answers `deleted: false`.
                Ok(v) if event == "task.delete" && v["deleted"] == json!(false) => {}
                Ok(v) => bad.push(format!("{event} {id:?} succeeded: {v}")),
                Err(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::Validation) => {}
                Err(e) => bad.push(format!("{event} {id:?}: {:?} {}", e.code, e.message)),
            }
        }
    }
    // The real task is untouched by all of it.
    let still = t.ok("task.get", json!({"id": real})).await;
    t.stop().await;
    assert_eq!(still["text"], "real");
    assert!(bad.is_empty(), "{} odd-id calls misbehaved:\n{}", bad.len(), bad.join("\n"));
}

/// "With N > 1 ids are handed out per partition (round robin), so the order across partitions
/// is creation order within a few ids" (`task.list` orders by id number). With SQL, each
/// partition's first recovery reserves its own block of a million ids, so partition p's ids
/// start near p million: a listing orders by partition, not by creation.
#[tokio::test]
async fn with_sql_and_three_partitions_ids_follow_creation_order_within_a_few() {
    let prefix = crate::support::unique_prefix();
    let t = TestApp::start_with(with_sql(options(), &prefix, 3, &format!("ord-{prefix}"))).await;
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(t.ok("task.create", json!({"text": format!("n{i}")})).await["id"].as_str().unwrap().to_string());
    }
    let listed = t.ok("task.list", json!({"limit": 10})).await;
    t.stop().await;
    let nums: Vec<u64> = created.iter().map(|id| id[2..].parse().unwrap()).collect();
    let spread = nums.iter().max().unwrap() - nums.iter().min().unwrap();
    let order: Vec<&str> = listed["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert!(
        spread < 100,
        "six tasks created one after the other got ids {created:?} (spread {spread}); task.list (oldest first) answers {order:?}"
    );
}

/// Invalid partition counts stop the start with one line naming the setting.
#[tokio::test]
async fn invalid_partition_counts_stop_the_start() {
    let dir = crate::support::scratch_dir("attack", &crate::support::unique_prefix());
    for value in ["0", "1025", "-1", "abc", "3.0", "99999999999999999999"] {
        let prefix = crate::support::unique_prefix();
        let mut cmd = Serve::new("bad", &prefix, &dir).env("CLAUDEBENCH_PARTITIONS", value).serve_command(free_port());
        cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(15), cmd.output()).await;
        let out = out
            .unwrap_or_else(|_| panic!("CLAUDEBENCH_PARTITIONS={value}: the server started and kept running"))
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "CLAUDEBENCH_PARTITIONS={value}: exit {:?}", out.status);
        assert!(stderr.contains("CLAUDEBENCH_PARTITIONS"), "CLAUDEBENCH_PARTITIONS={value}: {stderr}");
        assert!(!stderr.contains("panicked"), "CLAUDEBENCH_PARTITIONS={value}: {stderr}");
    }
}

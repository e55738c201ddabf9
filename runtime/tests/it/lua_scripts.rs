//! The generic scripts: publish, exactly-once window, partition log, and EVALSHA fallback.

use std::time::Duration;

use claudebench_runtime::bus::dedup::AckTarget;
use claudebench_runtime::bus::{DedupWindow, EntityChange, EventBus, PartitionLog};
use claudebench_runtime::redis::server::{PrivateRedis, find_redis_server};
use claudebench_runtime::redis::{RedisHandle, RedisOptions};
use redis::AsyncCommands;
use redis::streams::StreamRangeReply;
use serde_json::json;

use crate::{fixtures, support};

#[tokio::test]
async fn publish_appends_one_stream_entry_with_the_prelude_fields() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    let id = bus.publish("task.created", &json!({"id": "t-1", "text": "x"})).await.unwrap();
    let state = json!({"id": "t-1", "status": "pending"});
    let id2 = bus
        .publish_change("task.updated", &json!({"id": "t-1"}), EntityChange::State { entity: "task", state: &state })
        .await
        .unwrap();
    bus.publish_change("task.deleted", &json!({"id": "t-1"}), EntityChange::Deleted { entity: "task", id: "t-1" })
        .await
        .unwrap();

    let mut conn = support::redis().await;
    let range: StreamRangeReply = conn.xrange_all(keys.stream("task.created")).await.unwrap();
    assert_eq!(range.ids.len(), 1);
    assert_eq!(range.ids[0].id, id);
    let entry = &range.ids[0];
    assert_eq!(entry.get::<String>("event").as_deref(), Some("task.created"));
    assert_eq!(entry.get::<String>("payload").as_deref(), Some(r#"{"id":"t-1","text":"x"}"#));
    assert!(entry.get::<u64>("ts").unwrap() > 1_600_000_000_000);
    assert!(entry.get::<String>("entity").is_none());

    let range: StreamRangeReply = conn.xrange_all(keys.stream("task.updated")).await.unwrap();
    assert_eq!(range.ids[0].id, id2);
    assert_eq!(range.ids[0].get::<String>("entity").as_deref(), Some("task"));
    assert_eq!(range.ids[0].get::<String>("state").as_deref(), Some(state.to_string().as_str()));
    let range: StreamRangeReply = conn.xrange_all(keys.stream("task.deleted")).await.unwrap();
    assert_eq!(range.ids[0].get::<String>("deleted").as_deref(), Some("t-1"));
    assert!(range.ids[0].get::<String>("state").is_none());
}

#[tokio::test]
async fn streams_stay_near_their_cap() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 100);
    for i in 0..1000 {
        bus.publish("capped", &json!({"i": i})).await.unwrap();
    }
    let mut conn = support::redis().await;
    let len: u64 = conn.xlen(keys.stream("capped")).await.unwrap();
    // MAXLEN ~ trims whole macro nodes (100 entries by default), so the length stays near the cap.
    assert!((100..=300).contains(&len), "length {len}");
}

#[tokio::test]
async fn retention_trim_drops_entries_older_than_the_retention() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let mut conn = support::redis().await;
    // 300 entries from an hour ago, then a fresh one.
    let hour_ago =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64 - 3_600_000;
    for i in 0..300u64 {
        let _: String = conn.xadd(keys.stream("old"), format!("{hour_ago}-{i}"), &[("event", "old")]).await.unwrap();
    }
    let bus = EventBus::new(&redis, keys.clone(), 10_000);
    bus.publish("old", &json!({})).await.unwrap();
    let removed = bus.trim(&["old"], None, Duration::from_secs(60)).await.unwrap();
    let len: u64 = conn.xlen(keys.stream("old")).await.unwrap();
    assert_eq!(removed + len, 301);
    assert!(removed >= 200, "removed {removed}");
    assert!(len >= 1);
}

/// Reads up to `count` new entries of `stream` as a member of the `persister` group; their ids.
async fn read_as_persister(conn: &mut claudebench_runtime::redis::Conn, stream: &str, count: usize) -> Vec<String> {
    let read: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("persister")
        .arg("c")
        .arg("COUNT")
        .arg(count)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(conn)
        .await
        .unwrap();
    read.keys[0].ids.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn outbox_entries_are_never_trimmed_before_the_persister_group_acknowledges_them() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let mut conn = support::redis().await;
    let stream = keys.stream("task.created");
    // A cap of 100, retention of zero: everything is old and far over the cap.
    let bus = EventBus::new(&redis, keys.clone(), 100);
    let state = json!({"id": "t-1"});
    let change = || EntityChange::State { entity: "task", state: &state };
    bus.publish_change("task.created", &state, change()).await.unwrap();
    // Before the persister's group exists nothing may go.
    for _ in 0..999 {
        bus.publish_change("task.created", &state, change()).await.unwrap();
    }
    assert_eq!(conn.xlen::<_, u64>(&stream).await.unwrap(), 1000, "outbox entries are not capped on write");
    assert_eq!(bus.trim(&["task.created"], Some("persister"), Duration::ZERO).await.unwrap(), 0);
    let _: () = conn.xgroup_create(&stream, "persister", "0").await.unwrap();
    assert_eq!(bus.trim(&["task.created"], Some("persister"), Duration::ZERO).await.unwrap(), 0, "nothing read yet");

    // The group reads 600 and acknowledges 500: at most those 500 may go.
    let ids = read_as_persister(&mut conn, &stream, 600).await;
    let _: u64 = conn.xack(&stream, "persister", &ids[..500]).await.unwrap();
    let removed = bus.trim(&["task.created"], Some("persister"), Duration::ZERO).await.unwrap();
    assert!(removed <= 500, "removed {removed}");
    let remaining: redis::streams::StreamRangeReply = conn.xrange_all(&stream).await.unwrap();
    assert!(remaining.ids.iter().any(|e| e.id == ids[500]), "the first unacknowledged entry stays");
    assert_eq!(remaining.ids.len() as u64 + removed, 1000);

    // Everything acknowledged: the stream comes down to about its cap, never below what is unread.
    let _: u64 = conn.xack(&stream, "persister", &ids[500..]).await.unwrap();
    let rest = read_as_persister(&mut conn, &stream, 1000).await;
    let _: u64 = conn.xack(&stream, "persister", &rest).await.unwrap();
    bus.trim(&["task.created"], Some("persister"), Duration::from_secs(3600)).await.unwrap();
    let len: u64 = conn.xlen(&stream).await.unwrap();
    assert!((100..=300).contains(&len), "trimmed to about the cap: {len}");
}

#[tokio::test]
async fn the_dedup_window_reports_duplicates_and_acks_in_the_same_step() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let window = DedupWindow::new(&redis, &keys, "g1", Duration::from_secs(60), 1000);
    assert!(!window.contains("e:1").await.unwrap());
    assert!(!window.record("e:1", None).await.unwrap(), "first time is not a duplicate");
    assert!(window.contains("e:1").await.unwrap());
    assert!(window.record("e:1", None).await.unwrap(), "second time is a duplicate");

    // Acking: an entry read by the group is no longer pending after record.
    let mut conn = support::redis().await;
    let stream = keys.stream("ack.test");
    let _: () = conn.xgroup_create_mkstream(&stream, "g1", "0").await.unwrap();
    let entry: String = conn.xadd(&stream, "*", &[("event", "ack.test")]).await.unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("g1")
        .arg("c1")
        .arg("STREAMS")
        .arg(&stream)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    let pending: redis::streams::StreamPendingReply = conn.xpending(&stream, "g1").await.unwrap();
    assert_eq!(pending.count(), 1);
    window.record("ack.test:x", Some(AckTarget { stream_key: &stream, group: "g1", entry_id: &entry })).await.unwrap();
    let pending: redis::streams::StreamPendingReply = conn.xpending(&stream, "g1").await.unwrap();
    assert_eq!(pending.count(), 0);
}

#[tokio::test]
async fn the_dedup_window_is_bounded_by_count() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let window = DedupWindow::new(&redis, &keys, "g", Duration::from_secs(60), 5);
    for i in 0..12 {
        window.record(&format!("id-{i}"), None).await.unwrap();
    }
    let mut conn = support::redis().await;
    let n: u64 = conn.zcard(keys.dedup("g")).await.unwrap();
    assert_eq!(n, 5);
    assert!(window.contains("id-11").await.unwrap());
    assert!(!window.contains("id-0").await.unwrap(), "the oldest ids are forgotten first");
}

#[tokio::test]
async fn the_dedup_window_is_bounded_by_age() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let window = DedupWindow::new(&redis, &keys, "g", Duration::from_millis(100), 1000);
    window.record("old", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    window.record("new", None).await.unwrap();
    assert!(!window.contains("old").await.unwrap());
    assert!(window.contains("new").await.unwrap());
}

#[tokio::test]
async fn partition_logs_keep_order_and_their_cap() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let log = PartitionLog::new(&redis, keys.clone(), 3, Duration::from_secs(60));
    for i in 0..5 {
        let len = log.append("user-123", &format!("e{i}"), &json!({"n": i, "list": []})).await.unwrap();
        assert_eq!(len, (i + 1).min(3) as u64);
    }
    log.append("other", "x", &json!(null)).await.unwrap();
    let entries = log.entries("user-123").await.unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, vec!["e2", "e3", "e4"]);
    assert_eq!(entries[2].data, json!({"n": 4, "list": []}));
    assert!(entries.windows(2).all(|w| w[0].ts <= w[1].ts));
    let mut conn = support::redis().await;
    let ttl: i64 = conn.pttl(keys.partition_events("user-123")).await.unwrap();
    assert!(ttl > 0 && ttl <= 60_000);
}

#[tokio::test]
async fn scripts_are_reloaded_after_the_server_forgets_them() {
    if find_redis_server().is_none() {
        eprintln!("redis-server not installed; skipped");
        return;
    }
    // A private server, so flushing its script cache disturbs nobody.
    let server = PrivateRedis::start(None).await.unwrap();
    let redis = RedisHandle::connect(RedisOptions::new(server.url())).await.unwrap();
    let bus = EventBus::new(&redis, support::unique_keys(), 100);
    bus.publish("a.b", &json!(1)).await.unwrap();
    let mut conn = redis.conn();
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.unwrap();
    bus.publish("a.b", &json!(2)).await.expect("NOSCRIPT falls back to loading the script");
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.unwrap();
    let all = &claudebench_runtime::scripts::ALL;
    claudebench_runtime::scripts::preload(&mut conn, all).await.unwrap();
    let mut exists = redis::cmd("SCRIPT");
    exists.arg("EXISTS");
    for lua in all {
        exists.arg(lua.hash());
    }
    let loaded: Vec<i64> = exists.query_async(&mut conn).await.unwrap();
    assert_eq!(loaded, vec![1; all.len()], "preload puts every runtime script in the cache");
}

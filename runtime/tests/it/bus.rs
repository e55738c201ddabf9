//! Live subscriptions and durable consumer groups of the event bus.

use std::time::Duration;

use claudebench_generated::error::Error;
use claudebench_runtime::bus::{ConsumerOptions, EventBus, GroupConsumer};
use redis::AsyncCommands;
use serde_json::json;

use crate::{fixtures, support};

async fn recv(sub: &mut claudebench_runtime::bus::Subscription) -> claudebench_runtime::bus::BusMessage {
    tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await
        .expect("a message within 5 s")
        .expect("subscription alive")
}

#[tokio::test]
async fn subscribers_receive_decoded_events_matching_their_glob() {
    let redis = fixtures::handle().await;
    let bus = EventBus::new(&redis, support::unique_keys(), 1000);
    let mut tasks = bus.subscribe(&["task.*"], 16).await.unwrap();
    let mut all = bus.subscribe(&["*"], 16).await.unwrap();

    let id = bus.publish("task.created", &json!({"id": "t-1"})).await.unwrap();
    bus.publish("system.heartbeat", &json!({"instanceId": "w1"})).await.unwrap();
    bus.publish("task.completed", &json!({"id": "t-1", "status": "completed"})).await.unwrap();

    let first = recv(&mut tasks).await;
    assert_eq!(first.id, id);
    assert_eq!(first.event, "task.created");
    assert_eq!(first.payload, json!({"id": "t-1"}));
    assert!(first.ts > 0);
    assert_eq!(recv(&mut tasks).await.event, "task.completed");

    let events: Vec<String> =
        [recv(&mut all).await, recv(&mut all).await, recv(&mut all).await].into_iter().map(|m| m.event).collect();
    assert_eq!(events, vec!["task.created", "system.heartbeat", "task.completed"]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tasks.try_recv().is_none(), "heartbeat does not match task.*");
}

#[tokio::test]
async fn a_slow_subscriber_loses_the_overflow_instead_of_buffering_it() {
    let redis = fixtures::handle().await;
    let bus = EventBus::new(&redis, support::unique_keys(), 1000);
    let mut sub = bus.subscribe(&["flood"], 4).await.unwrap();
    for i in 0..50 {
        bus.publish("flood", &json!(i)).await.unwrap();
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sub.dropped() < 46 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut got = Vec::new();
    while let Some(m) = sub.try_recv() {
        got.push(m.payload);
    }
    assert_eq!(got, vec![json!(0), json!(1), json!(2), json!(3)]);
    assert_eq!(sub.dropped(), 46);
}

fn options(group: &str, consumer: &str, events: &[&str]) -> ConsumerOptions {
    let mut o = ConsumerOptions::new(group, consumer, events.iter().map(|e| e.to_string()).collect());
    o.block = Duration::from_millis(100);
    o.claim_idle = Duration::from_millis(200);
    o
}

#[tokio::test]
async fn a_group_delivers_every_entry_once_across_streams_and_acks_them() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    bus.publish("task.created", &json!({"n": 0})).await.unwrap();
    let mut consumer =
        GroupConsumer::new(&redis, &keys, options("g", "c1", &["task.created", "task.updated"])).await.unwrap();
    bus.publish("task.updated", &json!({"n": 1})).await.unwrap();

    let batch = consumer.next_batch().await.unwrap();
    let mut payloads: Vec<_> = batch.iter().map(|d| d.payload().unwrap()["n"].clone()).collect();
    payloads.sort_by_key(|v| v.as_i64());
    assert_eq!(payloads, vec![json!(0), json!(1)], "entries published before the group existed are included");
    bus.publish("task.updated", &json!({"n": 2})).await.unwrap();
    let lag: std::collections::HashMap<String, u64> = consumer.lag().await.unwrap().into_iter().collect();
    assert_eq!(lag["task.created"], 1, "one read, not acknowledged");
    assert_eq!(lag["task.updated"], 2, "one pending, one unread");
    consumer.ack(&batch).await.unwrap();
    assert_eq!(consumer.next_batch().await.unwrap().len(), 1);
    assert!(consumer.next_batch().await.unwrap().is_empty());

    let mut conn = support::redis().await;
    let pending: redis::streams::StreamPendingReply = conn.xpending(keys.stream("task.created"), "g").await.unwrap();
    assert_eq!(pending.count(), 0);
}

#[tokio::test]
async fn entries_of_a_dead_consumer_are_taken_over_after_the_idle_time() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    // A long idle time, so "not idle long enough yet" holds even on a loaded machine.
    let slow_claim = |name| {
        let mut o = options("g", name, &["e"]);
        o.claim_idle = Duration::from_millis(1000);
        o
    };
    let mut dead = GroupConsumer::new(&redis, &keys, slow_claim("dead")).await.unwrap();
    for i in 0..3 {
        bus.publish("e", &json!(i)).await.unwrap();
    }
    assert_eq!(dead.next_batch().await.unwrap().len(), 3);
    drop(dead); // dies without acking

    let mut heir = GroupConsumer::new(&redis, &keys, slow_claim("heir")).await.unwrap();
    assert!(heir.next_batch().await.unwrap().is_empty(), "not idle long enough yet");
    tokio::time::sleep(Duration::from_millis(1050)).await;
    let batch = heir.next_batch().await.unwrap();
    assert_eq!(batch.len(), 3);
    assert!(batch.iter().all(|d| d.reclaimed));
    heir.ack(&batch).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert!(heir.next_batch().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_restarted_consumer_gets_its_own_unacked_entries_first() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    let mut first = GroupConsumer::new(&redis, &keys, options("g", "same", &["e"])).await.unwrap();
    bus.publish("e", &json!("a")).await.unwrap();
    assert_eq!(first.next_batch().await.unwrap().len(), 1);
    drop(first);
    let mut again = GroupConsumer::new(&redis, &keys, options("g", "same", &["e"])).await.unwrap();
    let batch = again.next_batch().await.unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].payload().unwrap(), json!("a"));
}

#[tokio::test]
async fn processing_is_exactly_once_per_group_even_when_an_entry_is_redelivered() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    let mut a = GroupConsumer::new(&redis, &keys, options("g", "a", &["e"])).await.unwrap();
    for i in 0..4 {
        bus.publish("e", &json!(i)).await.unwrap();
    }
    // Consumer a processes everything but "crashes" before acking two entries: simulate by
    // recording them as processed without acking (the effect happened, the ack was lost).
    let batch = a.next_batch().await.unwrap();
    assert_eq!(batch.len(), 4);
    for d in &batch[..2] {
        a.dedup().record(&d.dedup_id(), None).await.unwrap();
    }
    drop(a);

    let mut b = GroupConsumer::new(&redis, &keys, options("g", "b", &["e"])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut seen = Vec::new();
    let ran = b
        .process(|d| {
            seen.push(d.payload().unwrap());
            async { Ok::<(), Error>(()) }
        })
        .await
        .unwrap();
    assert_eq!(ran, 2, "the two already-processed entries are only acknowledged");
    assert_eq!(seen, vec![json!(2), json!(3)]);
    let mut conn = support::redis().await;
    let pending: redis::streams::StreamPendingReply = conn.xpending(keys.stream("e"), "g").await.unwrap();
    assert_eq!(pending.count(), 0);

    // A second group processes the same entries independently.
    let mut other = GroupConsumer::new(&redis, &keys, options("other", "x", &["e"])).await.unwrap();
    assert_eq!(other.process(|_| async { Ok::<(), Error>(()) }).await.unwrap(), 4);
}

#[tokio::test]
async fn a_failing_handler_leaves_its_entry_pending_for_another_try() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    let mut c = GroupConsumer::new(&redis, &keys, options("g", "c", &["e"])).await.unwrap();
    bus.publish("e", &json!("x")).await.unwrap();
    let ran = c.process(|_| async { Err::<(), _>(Error::internal("boom")) }).await.unwrap();
    assert_eq!(ran, 0);
    c.retry_pending();
    let ran = c.process(|_| async { Ok::<(), Error>(()) }).await.unwrap();
    assert_eq!(ran, 1);
}

#[tokio::test]
async fn pending_entries_deleted_from_the_stream_do_not_wedge_the_consumer() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let bus = EventBus::new(&redis, keys.clone(), 1000);
    let mut first = GroupConsumer::new(&redis, &keys, options("g", "same", &["e"])).await.unwrap();
    let gone = bus.publish("e", &json!("trimmed away")).await.unwrap();
    assert_eq!(first.next_batch().await.unwrap().len(), 1);
    drop(first);
    let mut conn = support::redis().await;
    let _: u64 = conn.xdel(keys.stream("e"), &[&gone]).await.unwrap();
    bus.publish("e", &json!("kept")).await.unwrap();

    let mut again = GroupConsumer::new(&redis, &keys, options("g", "same", &["e"])).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let batch = again.next_batch().await.unwrap();
        seen.extend(batch.iter().map(|d| d.payload().unwrap()));
        again.ack(&batch).await.unwrap();
    }
    assert_eq!(seen, vec![json!("kept")]);
}

//! The runtime on a Redis Cluster: what single-server tests cannot show. Each test needs the
//! cluster (`CLAUDEBENCH_TEST_REDIS_CLUSTER`, see `support`) and says so and returns without it;
//! scripts/test.sh's cluster pass runs them.

use std::time::{Duration, Instant};

use claudebench_generated::error::ErrorCode;
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::config::RuntimeConfig;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::redis::{RedisHandle, RedisOptions};
use claudebench_runtime::scripts;
use futures_util::StreamExt;
use serde_json::json;

use crate::support;

/// The cluster's masters, each as its own plain (non-cluster) client and the slot ranges it
/// serves, read with CLUSTER SLOTS from the first seed node.
async fn masters() -> Option<Vec<(redis::Client, Vec<(u16, u16)>)>> {
    let Some(nodes) = support::cluster_nodes() else {
        eprintln!("skipped: needs a Redis Cluster ({} unset)", support::CLUSTER_VAR);
        return None;
    };
    let seed = redis::Client::open(format!("redis://{}", nodes[0])).unwrap();
    let mut con = seed.get_multiplexed_async_connection().await.unwrap();
    let slots: Vec<redis::Value> = redis::cmd("CLUSTER").arg("SLOTS").query_async(&mut con).await.unwrap();
    let mut out: Vec<(String, Vec<(u16, u16)>)> = Vec::new();
    for range in slots {
        let redis::Value::Array(parts) = range else { panic!("CLUSTER SLOTS entry") };
        let (start, end): (u16, u16) =
            (redis::from_redis_value(parts[0].clone()).unwrap(), redis::from_redis_value(parts[1].clone()).unwrap());
        let master: (String, u16) = match &parts[2] {
            redis::Value::Array(node) => {
                (redis::from_redis_value(node[0].clone()).unwrap(), redis::from_redis_value(node[1].clone()).unwrap())
            }
            other => panic!("CLUSTER SLOTS node {other:?}"),
        };
        let addr = format!("{}:{}", master.0, master.1);
        match out.iter_mut().find(|(a, _)| *a == addr) {
            Some((_, ranges)) => ranges.push((start, end)),
            None => out.push((addr, vec![(start, end)])),
        }
    }
    assert!(out.len() >= 2, "a cluster of several masters: {out:?}");
    Some(
        out.into_iter()
            .map(|(addr, ranges)| (redis::Client::open(format!("redis://{addr}")).unwrap(), ranges))
            .collect(),
    )
}

/// Fresh keys whose control slot lives on the master serving `ranges`.
async fn keys_on(con: &mut redis::aio::MultiplexedConnection, ranges: &[(u16, u16)]) -> Keys {
    for _ in 0..10_000 {
        let keys = Keys::new(&support::unique_prefix());
        let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(keys.instances()).query_async(con).await.unwrap();
        if ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot)) {
            return keys;
        }
    }
    panic!("no prefix hashed onto {ranges:?}")
}

#[tokio::test]
async fn cluster_nodes_in_the_configuration_select_the_cluster_client() {
    let Some(nodes) = support::cluster_nodes() else {
        eprintln!("skipped: needs a Redis Cluster");
        return;
    };
    let config = RuntimeConfig { redis_cluster_nodes: nodes, ..RuntimeConfig::default() };
    let redis = RedisHandle::connect(RedisOptions::from_config(&config)).await.unwrap();
    assert!(redis.is_cluster() && redis.conn().is_cluster());
    redis.ping().await.expect("every master answers PING");
}

#[tokio::test]
async fn an_unreachable_cluster_fails_fast_with_unavailable() {
    let mut options = RedisOptions::cluster(vec!["127.0.0.1:1".into(), "127.0.0.1:2".into()]);
    options.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = RedisHandle::connect(options).await.expect_err("nothing listens on ports 1 and 2");
    assert_eq!(err.code, ErrorCode::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "failing took {:?}", started.elapsed());
}

/// Events published by scripts running on every master reach a subscriber connected to any one
/// node: cluster PUBLISH is broadcast over the cluster bus. Checked both for the bus's own
/// subscription (one node) and for a plain subscriber on each master.
#[tokio::test]
async fn events_published_on_any_master_reach_subscribers_on_every_node() {
    let Some(masters) = masters().await else { return };
    let redis = support::redis_handle().await;
    let mut direct = masters[0].0.get_multiplexed_async_connection().await.unwrap();
    let mut buses = Vec::new();
    for (_, ranges) in &masters {
        buses.push(EventBus::new(&redis, keys_on(&mut direct, ranges).await, 100));
    }
    // Every bus publishes on the same channels (`<prefix>:events:<event>` differs per prefix, so
    // subscribe to each prefix's channel).
    let mut listeners = Vec::new();
    for (client, _) in &masters {
        let mut pubsub = client.get_async_pubsub().await.unwrap();
        for bus in &buses {
            pubsub.psubscribe(bus.keys().channel("cluster.probe")).await.unwrap();
        }
        listeners.push(pubsub);
    }
    let mut subscriptions = Vec::new();
    for bus in &buses {
        subscriptions.push(bus.subscribe(&["cluster.*"], 16).await.unwrap());
    }
    for (i, bus) in buses.iter().enumerate() {
        bus.publish("cluster.probe", &json!({"from": i})).await.unwrap();
    }
    for (n, pubsub) in listeners.iter_mut().enumerate() {
        let mut stream = pubsub.on_message();
        let mut heard = Vec::new();
        while heard.len() < buses.len() {
            let msg = tokio::time::timeout(Duration::from_secs(5), stream.next())
                .await
                .unwrap_or_else(|_| panic!("node {n} heard only {heard:?}"))
                .expect("subscription alive");
            heard.push(msg.get_channel_name().to_string());
        }
        heard.sort();
        let mut expected: Vec<String> = buses.iter().map(|b| b.keys().channel("cluster.probe")).collect();
        expected.sort();
        assert_eq!(heard, expected, "node {n}");
    }
    for (i, sub) in subscriptions.iter_mut().enumerate() {
        let msg = tokio::time::timeout(Duration::from_secs(5), sub.recv()).await.expect("within 5 s").unwrap();
        assert_eq!(msg.payload, json!({"from": i}));
    }
}

/// `scripts::preload` fills the script cache of every master, and a master that forgets its
/// scripts (restarted, flushed) answers NOSCRIPT, which the runtime turns into a load and a
/// retry on that node.
#[tokio::test]
async fn scripts_are_preloaded_on_every_master_and_reloaded_on_whichever_forgets_them() {
    let Some(masters) = masters().await else { return };
    let redis = support::redis_handle().await;
    let mut conn = redis.conn();
    // Other tests run scripts concurrently; flushing only makes them take the NOSCRIPT path.
    let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.expect("SCRIPT FLUSH on every node");
    scripts::preload(&mut conn, &scripts::ALL).await.unwrap();
    for (n, (client, _)) in masters.iter().enumerate() {
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let mut exists = redis::cmd("SCRIPT");
        exists.arg("EXISTS");
        for lua in &scripts::ALL {
            exists.arg(lua.hash());
        }
        let loaded: Vec<i64> = exists.query_async(&mut con).await.unwrap();
        assert_eq!(loaded, vec![1; scripts::ALL.len()], "master {n} has every runtime script");
    }

    let mut direct = masters[0].0.get_multiplexed_async_connection().await.unwrap();
    for (n, (client, ranges)) in masters.iter().enumerate() {
        let bus = EventBus::new(&redis, keys_on(&mut direct, ranges).await, 100);
        let mut con = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut con).await.unwrap();
        bus.publish("a.b", &json!(n)).await.unwrap_or_else(|e| panic!("NOSCRIPT on master {n} is recovered: {e}"));
        let exists: Vec<i64> =
            redis::cmd("SCRIPT").arg("EXISTS").arg(scripts::PUBLISH.hash()).query_async(&mut con).await.unwrap();
        assert_eq!(exists, [1], "master {n} loaded the script again");
    }
}

/// The blocking connection of a consumer is a cluster connection of its own: a group read on a
/// stream of another master than the first seed node works, and does not hold up the shared
/// connection while it blocks.
#[tokio::test]
async fn blocking_reads_use_a_dedicated_cluster_connection() {
    let Some(masters) = masters().await else { return };
    let redis = support::redis_handle().await;
    let mut direct = masters[0].0.get_multiplexed_async_connection().await.unwrap();
    let keys = keys_on(&mut direct, &masters[masters.len() - 1].1).await;
    let blocking = redis.blocking_connection(Duration::from_secs(1)).await.unwrap();
    assert!(blocking.is_cluster());
    let mut options = claudebench_runtime::bus::ConsumerOptions::new("g", "c", vec!["cluster.blocking".to_string()]);
    options.block = Duration::from_millis(800);
    let mut consumer = claudebench_runtime::bus::GroupConsumer::new(&redis, &keys, options).await.unwrap();
    let read = tokio::spawn(async move { consumer.next_batch().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    redis.ping().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(500), "the shared connection is not blocked");
    let bus = EventBus::new(&redis, keys, 100);
    bus.publish("cluster.blocking", &json!(1)).await.unwrap();
    let batch = read.await.unwrap().unwrap();
    assert_eq!(batch.len(), 1, "{batch:?}");
}

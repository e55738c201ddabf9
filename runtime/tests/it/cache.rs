//! The response cache.

use claudebench_runtime::resilience::ResponseCache;
use redis::AsyncCommands;
use serde_json::json;

use crate::{fixtures, support};

#[tokio::test]
async fn answers_are_cached_per_event_and_canonical_input_with_a_ttl() {
    let redis = fixtures::handle().await;
    let keys = support::unique_keys();
    let cache = ResponseCache::new(&redis, keys.clone());
    let digest = ResponseCache::digest(&json!({"b": 1, "a": 2}));
    assert_eq!(cache.get("system.health", &digest).await.unwrap(), None);
    cache.put("system.health", &digest, r#"{"status":"healthy"}"#, 30).await.unwrap();

    let same_input = ResponseCache::digest(&json!({"a": 2, "b": 1}));
    assert_eq!(cache.get("system.health", &same_input).await.unwrap().as_deref(), Some(r#"{"status":"healthy"}"#));
    assert_eq!(cache.get("system.metrics", &same_input).await.unwrap(), None);

    let mut conn = support::redis().await;
    let ttl: i64 = conn.ttl(keys.cache("system.health", &digest)).await.unwrap();
    assert!(ttl > 0 && ttl <= 30);

    cache.put("system.health", "zero", "{}", 0).await.unwrap();
    assert_eq!(cache.get("system.health", "zero").await.unwrap(), None, "a zero TTL stores nothing");
}

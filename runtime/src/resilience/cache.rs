//! Response cache for events that declare `cache_ttl_s` (the generated table allows it only on
//! events that do not mutate state, so a cached answer never hides a state change).
//!
//! The key is the event plus a SHA-256 digest of the input in canonical JSON (object keys
//! sorted at every depth), so `{"a":1,"b":2}` and `{"b":2,"a":1}` share one entry.

use ::redis::AsyncCommands;
use claudebench_contract::error::Error;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keys::Keys;
use crate::redis::{Conn, RedisHandle, redis_error};

/// GET / SET EX of serialized answers.
#[derive(Debug, Clone)]
pub struct ResponseCache {
    conn: Conn,
    keys: Keys,
}

impl ResponseCache {
    /// A cache using `redis` and the keys under `keys`.
    pub fn new(redis: &RedisHandle, keys: Keys) -> Self {
        ResponseCache { conn: redis.conn(), keys }
    }

    /// The cache digest of an input: hex SHA-256 of its canonical JSON.
    pub fn digest(input: &Value) -> String {
        let mut canonical = String::new();
        write_canonical(input, &mut canonical);
        let hash = Sha256::digest(canonical.as_bytes());
        hash.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The cached answer (JSON text) of `event` for the input with `digest`, if any.
    pub async fn get(&self, event: &str, digest: &str) -> Result<Option<String>, Error> {
        let mut conn = self.conn.clone();
        conn.get(self.keys.cache(event, digest)).await.map_err(redis_error)
    }

    /// Stores an answer (JSON text) for `ttl_s` seconds (0 stores nothing).
    pub async fn put(&self, event: &str, digest: &str, answer_json: &str, ttl_s: u64) -> Result<(), Error> {
        if ttl_s == 0 {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        conn.set_ex::<_, _, ()>(self.keys.cache(event, digest), answer_json, ttl_s).await.map_err(redis_error)
    }
}

/// Serializes `v` with object keys sorted at every depth (independent of whether serde_json
/// keeps insertion order in this build).
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_digest() {
        let a = json!({"b": 2, "a": {"y": [1, {"q": 1, "p": 2}], "x": null}});
        let b: Value = serde_json::from_str(r#"{"a":{"x":null,"y":[1,{"p":2,"q":1}]},"b":2}"#).unwrap();
        assert_eq!(ResponseCache::digest(&a), ResponseCache::digest(&b));
        assert_eq!(ResponseCache::digest(&a).len(), 64);
    }

    #[test]
    fn different_inputs_have_different_digests() {
        assert_ne!(ResponseCache::digest(&json!({"a": 1})), ResponseCache::digest(&json!({"a": "1"})));
        assert_ne!(ResponseCache::digest(&json!([1, 2])), ResponseCache::digest(&json!([2, 1])));
    }
}

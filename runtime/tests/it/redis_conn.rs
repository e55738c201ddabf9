//! The Redis connection: fast failure during an outage, recovery afterwards, server discovery.

use std::time::{Duration, Instant};

use claudebench_generated::error::ErrorCode;
use claudebench_runtime::config::RuntimeConfig;
use claudebench_runtime::redis::server::{PrivateRedis, RedisServer, ensure_server, find_redis_server};
use claudebench_runtime::redis::{RedisHandle, RedisOptions};

use crate::fixtures;

#[tokio::test]
async fn commands_fail_fast_with_unavailable_during_an_outage_and_succeed_after_restart() {
    if find_redis_server().is_none() {
        eprintln!("redis-server not installed; skipped");
        return;
    }
    let mut server = PrivateRedis::start(None).await.expect("private redis-server");
    let mut options = RedisOptions::new(server.url());
    options.response_timeout = Duration::from_millis(500);
    options.connect_timeout = Duration::from_millis(300);
    let redis = RedisHandle::connect(options).await.expect("connect");
    redis.ping().await.expect("ping before the outage");

    server.stop().await.expect("kill the server");
    for _ in 0..3 {
        let started = Instant::now();
        let err = redis.ping().await.expect_err("no server, no answer");
        assert_eq!(err.code, ErrorCode::Unavailable, "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "failing took {:?}", started.elapsed());
    }

    server.restart().await.expect("restart on the same port");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match redis.ping().await {
            Ok(()) => break,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code, ErrorCode::Unavailable);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no recovery after the restart: {e}"),
        }
    }
}

#[tokio::test]
async fn connecting_to_nothing_fails_fast_with_unavailable() {
    let mut options = RedisOptions::new("redis://127.0.0.1:1");
    options.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = RedisHandle::connect(options).await.expect_err("nothing listens on port 1");
    assert_eq!(err.code, ErrorCode::Unavailable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_configured_url_is_used_as_is_and_the_default_is_found_when_it_answers() {
    let config = RuntimeConfig { redis_url: Some("redis://10.1.2.3:7777".into()), ..RuntimeConfig::default() };
    let server = ensure_server(&config).await.expect("configured");
    assert!(matches!(server, RedisServer::External { .. }));
    assert_eq!(server.url(), "redis://10.1.2.3:7777");

    // The machine's Redis answers on the default address in this environment.
    let server = ensure_server(&RuntimeConfig::default()).await.expect("default");
    assert_eq!(server.url(), "redis://127.0.0.1:6379");
}

#[tokio::test]
async fn the_shared_connection_answers() {
    fixtures::handle().await.ping().await.expect("ping");
}

//! The real server (app + every transport) on an ephemeral loopback port.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use claudebench::app::App;
use claudebench_domain::node::NodeOptions;
use claudebench_runtime::backend::Backend;
use claudebench_runtime::transport::{self, TransportConfig};

use crate::support;

pub const OPENAPI: &str = include_str!("../../generated/openapi.json");

pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub app: Option<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(support::options(), TransportConfig::default()).await
    }

    pub async fn start_with(options: NodeOptions, mut config: TransportConfig) -> Self {
        let app = App::start(options).await.expect("the app starts (is Redis running? scripts/test.sh starts it)");
        config.openapi = Some(Arc::from(OPENAPI));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("an ephemeral port");
        let addr = listener.local_addr().expect("bound");
        config.local_addr = Some(addr);
        let backend: Arc<dyn Backend> = app.pipeline.clone();
        let limits = config.connections;
        let router = transport::router(backend, config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(transport::serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));
        TestServer { url: format!("http://{addr}"), addr, app: Some(app), stop: Some(stop), served: Some(served) }
    }

    pub fn prefix(&self) -> String {
        self.app.as_ref().expect("running").services.keys.prefix().to_string()
    }

    /// Stop accepting, finish in-flight requests, shut the app down and delete its keys.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = served.await;
        }
        if let Some(app) = self.app.take() {
            let services = app.services.clone();
            app.shutdown().await;
            support::delete_prefix(&services).await;
        }
    }
}

/// A JSON POST; returns the status and the parsed body (`null` when empty or not JSON).
pub async fn post(url: &str, body: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

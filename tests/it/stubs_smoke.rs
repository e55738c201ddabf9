//! The application starts against real Redis and dispatches through the whole pipeline.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn invalid_input_is_refused_before_any_handler_runs() {
    let t = TestApp::start().await;
    let err = t.call("task.create", json!({"text": "", "priority": 101})).await.unwrap_err();
    assert_eq!(err.code.as_str(), "validation");
    let paths: Vec<&str> = err.issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["text", "priority"]);
    t.stop().await;
}

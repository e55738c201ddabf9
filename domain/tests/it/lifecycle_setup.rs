//! The set-up of the hot/cold lifecycle tests (`task_lifecycle`, `attack_lifecycle`): a
//! deployment with SQL, its partitions open, one persister per partition stepped by hand.

use std::time::Duration;

use claudebench_domain::coordination::tasks::{NewTask, TASK_STREAMS, TaskQuery, TaskStatus, TaskUpdate, Tasks};
use claudebench_domain::coordination::{Coordination, CoordinationConfig};
use claudebench_runtime::bus::ConsumerOptions;
use claudebench_runtime::keys::{Keys, Partitions};
use claudebench_runtime::persist::{PERSISTER_GROUP, Persister, SqlStore};
use claudebench_runtime::redis::RedisHandle;
use serde_json::Value;

use crate::fixtures;
use crate::support::{open_partitions, unique_prefix};

pub struct Setup {
    pub redis: RedisHandle,
    pub keys: Keys,
    pub parts: u32,
    pub store: SqlStore,
    pub coord: Coordination,
    pub persisters: Vec<Persister>,
}

impl Setup {
    pub async fn new(store: SqlStore, parts: u32, retention_ms: u64) -> Self {
        let redis = fixtures::handle().await;
        let keys = Keys::new(&unique_prefix());
        open_partitions(&keys, parts);
        let config = CoordinationConfig { partitions: parts, task_retention_ms: retention_ms, ..Default::default() };
        let tasks = Tasks::new(keys.clone(), config.clone()).with_store(store.clone());
        let coord = Coordination::with_tasks(tasks, keys.clone(), config);
        let mut persisters = Vec::new();
        for part in Partitions::new(&keys, parts).all() {
            let mut o = ConsumerOptions::new(PERSISTER_GROUP, "p", TASK_STREAMS.map(String::from).to_vec());
            o.stream_keys = Some(TASK_STREAMS.iter().map(|e| part.stream(e)).collect());
            o.block = Duration::from_millis(20);
            persisters.push(Persister::with_options(&redis, &keys, store.clone(), o).await.unwrap());
        }
        Setup { redis, keys, parts, store, coord, persisters }
    }

    /// Until SQL holds every change made so far.
    pub async fn drain(&mut self) {
        for p in &mut self.persisters {
            for _ in 0..50 {
                if p.step().await.unwrap().entries == 0 {
                    break;
                }
            }
        }
    }

    pub async fn version(&self, id: &str) -> i64 {
        let part = Partitions::new(&self.keys, self.parts).of_task(id).unwrap().clone();
        let v: Option<i64> =
            redis::cmd("HGET").arg(part.task(id)).arg("version").query_async(&mut self.redis.conn()).await.unwrap();
        v.expect("the task is in Redis")
    }

    /// `n` tasks created, completed by an administrator, in SQL and retired (cold).
    pub async fn cold_tasks(&mut self, n: usize) -> Vec<String> {
        let mut con = self.redis.conn();
        let tasks = self.coord.tasks.clone();
        let mut ids = Vec::new();
        for i in 0..n {
            let t = tasks.create(&mut con, NewTask::new(format!("cold {i}"))).await.unwrap();
            let done = TaskUpdate { status: Some(TaskStatus::Completed), ..Default::default() };
            tasks.update(&mut con, &t.id, done).await.unwrap();
            ids.push(t.id);
        }
        self.drain().await;
        let mut retired = 0;
        for _ in 0..20 {
            retired += tasks.retire(&mut con, 1000).await.unwrap();
            if retired as usize >= n {
                break;
            }
        }
        assert_eq!(retired as usize, n, "every finished task left Redis");
        ids
    }

    /// Whether Redis holds the task's record.
    pub async fn in_redis(&self, id: &str) -> bool {
        let part = Partitions::new(&self.keys, self.parts).of_task(id).unwrap().clone();
        redis::cmd("EXISTS").arg(part.task(id)).query_async(&mut self.redis.conn()).await.unwrap()
    }

    /// A page of `task.list`, as its total and the tasks' wire JSON.
    pub async fn list(&self, query: TaskQuery) -> (u64, Vec<Value>) {
        let page = self.coord.tasks.list(&mut self.redis.conn(), &query).await.unwrap();
        (page.total, page.tasks.iter().map(|t| serde_json::to_value(t).unwrap()).collect())
    }
}

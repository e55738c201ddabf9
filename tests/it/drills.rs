//! Fault drills: real `claudebench serve` processes on real Redis and PostgreSQL or SQLite,
//! driven by many concurrent clients (`load.rs`), with a fault injected mid-load. Every drill
//! records what the servers ACKNOWLEDGED (2xx) and ends by comparing it with what SQL holds.
//!
//! - `sustained_creates_reach_sql_exactly_once_*`: 10 s of `task.create` at 50 connections, and 3 s
//!   at 20 with `CLAUDEBENCH_STREAM_MAXLEN=100` (a cap that once trimmed the outbox before the
//!   persister read it): every acknowledged task reaches SQL exactly once with its text, and SQL
//!   holds nothing beyond creates that got no definite answer.
//! - `kill_9_one_of_three_servers_under_create_claim_complete_load`: three servers, creators and
//!   heartbeating workers on each; server A is SIGKILLed (its workers die with it). Every
//!   acknowledged task is in SQL once and ends `completed`, no task is completed by two workers or
//!   claimed by two live ones, and the tasks A's workers held were finished by B's and C's. SQL
//!   may lag by the persister group's take-over delay (entries A read but never acknowledged),
//!   so this drill waits longer for SQL.
//! - `redis_restarted_empty_while_three_servers_run`: a private Redis under three servers is
//!   restarted empty mid-load. Ids are never reused (no SQL row is overwritten by another task,
//!   later ids are greater), the tasks persisted before come back readable, and the servers keep
//!   serving; the 503s of the recovery window are counted.
//! - `postgres_refusing_connections_mid_load`: the server's database refuses connections for 4 s;
//!   creates keep succeeding meanwhile and all reach SQL afterwards.
//! - `a_poison_entry_does_not_stop_persistence`: undecodable outbox entries injected into the
//!   stream do not stop later tasks reaching SQL, and they are reported as dead letters
//!   (`/health` and `claudebench deadletter list`).
//! - `task_text_with_nul_is_stored_faithfully_*`: a text containing U+0000 is stored exactly and
//!   does not block the tasks created after it.
//!
//! The drills are heavy, so they take turns (`DRILL`) while the other tests run in parallel.
//! Each has a hard deadline and bounded waits, gives every server a log file (its tail is printed
//! when the drill fails), prints its figures (`[drill …]` lines, `--nocapture`), and removes its
//! database, data directory and Redis keys at the end, pass or fail. Each drill has its own
//! database (or SQLite file), so SQL rows are counted without filtering by key prefix.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use claudebench_runtime::redis::server::PrivateRedis;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::load::{Ack, Api, Creates, Deed, Work, Workers, creators, id_number};
use claudebench_runtime::redis::RedisOptions;

use crate::spawned::{Serve, ServerProcess, connect_redis, redis_options};
use crate::support;

static DRILL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The most one drill may take once it has its turn.
const DRILL_DEADLINE: Duration = Duration::from_secs(150);
/// The most SQL is waited for after a load, and how long it may make no progress.
const SQL_DEADLINE: Duration = Duration::from_secs(60);
const SQL_STALL: Duration = Duration::from_secs(15);
/// How long SQL may make no progress after a server was killed: the entries its persister had
/// read but not acknowledged are taken over by the survivors after 5 s (the persister's
/// take-over delay), plus slack for a loaded machine.
const TAKEOVER_STALL: Duration = Duration::from_secs(25);

// --- the drills ------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_creates_reach_sql_exactly_once_sqlite() {
    let name = "sustained_creates_reach_sql_exactly_once_sqlite";
    take_turn(name, sustained_creates(name, Store::Sqlite, 50, Duration::from_secs(10), None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_creates_reach_sql_exactly_once_postgres() {
    let name = "sustained_creates_reach_sql_exactly_once_postgres";
    take_turn(name, sustained_creates(name, Store::Postgres, 50, Duration::from_secs(10), None)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_creates_reach_sql_exactly_once_sqlite_with_stream_maxlen_100() {
    let name = "sustained_creates_reach_sql_exactly_once_sqlite_with_stream_maxlen_100";
    take_turn(name, sustained_creates(name, Store::Sqlite, 20, Duration::from_secs(3), Some("100"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_creates_reach_sql_exactly_once_postgres_with_stream_maxlen_100() {
    let name = "sustained_creates_reach_sql_exactly_once_postgres_with_stream_maxlen_100";
    take_turn(name, sustained_creates(name, Store::Postgres, 20, Duration::from_secs(3), Some("100"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_one_of_three_servers_under_create_claim_complete_load() {
    let name = "kill_9_one_of_three_servers_under_create_claim_complete_load";
    take_turn(name, kill_one_of_three(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_tasks_leave_redis_under_load_and_every_one_still_reads_back() {
    let name = "finished_tasks_leave_redis_under_load_and_every_one_still_reads_back";
    take_turn(name, retire_under_load(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_while_three_servers_run() {
    let name = "redis_restarted_empty_while_three_servers_run";
    take_turn(name, redis_restarted_empty(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_forgetting_its_scripts_under_load() {
    let name = "redis_forgetting_its_scripts_under_load";
    take_turn(name, scripts_flushed(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refusing_connections_mid_load() {
    let name = "postgres_refusing_connections_mid_load";
    take_turn(name, postgres_outage(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_entry_does_not_stop_persistence() {
    let name = "a_poison_entry_does_not_stop_persistence";
    take_turn(name, poison_entries(name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_text_with_nul_is_stored_faithfully_postgres() {
    let name = "task_text_with_nul_is_stored_faithfully_postgres";
    take_turn(name, nul_text(name, Store::Postgres)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_text_with_nul_is_stored_faithfully_sqlite() {
    let name = "task_text_with_nul_is_stored_faithfully_sqlite";
    take_turn(name, nul_text(name, Store::Sqlite)).await;
}

/// Creates at `clients` connections for `load_for`, then compares SQL with the acknowledgements.
async fn sustained_creates(name: &str, store: Store, clients: usize, load_for: Duration, stream_maxlen: Option<&str>) {
    let mut drill = Drill::new(name, store).await;
    let env: Vec<(&str, &str)> = stream_maxlen.map(|m| ("CLAUDEBENCH_STREAM_MAXLEN", m)).into_iter().collect();
    drill.spawn("solo", &env).await;
    let creates = Creates::new();
    let started = drill.api.now();
    let load = creators(&drill.api, &creates, "sustained", &drill.urls(), clients, Duration::ZERO);
    tokio::time::sleep(load_for).await;
    load.stop().await;
    let elapsed = drill.api.now() - started;

    let acks = creates.acks();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&acks, rows).missing.len()).await;
    let comparison = compare(&acks, &sql.rows);
    drill.say(format!(
        "{} acked in {:.1} s = {:.0} creates/s at {clients} connections (stream maxlen {}); answers: {}",
        acks.len(),
        elapsed.as_secs_f64(),
        acks.len() as f64 / elapsed.as_secs_f64(),
        stream_maxlen.unwrap_or("default"),
        creates.tally.summary()
    ));
    drill.say(format!("{}; {}", sql.describe(), comparison.describe()));

    let mut verdict = Verdict::default();
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    drill.conclude(verdict);
}

/// The kill drill's crews, per server: creators pausing between creates, and workers spending
/// a little time on each task (so they hold tasks when their server dies).
const CREATORS_PER_SERVER: usize = 6;
const CREATE_PAUSE: Duration = Duration::from_millis(20);
const WORKERS_PER_SERVER: usize = 5;
const WORK_TIME: Duration = Duration::from_millis(20);

/// Three servers with a retention of 0 under create/claim/complete load for 4 s: finished tasks
/// leave Redis while workers keep claiming and completing through every server. Afterwards every
/// acknowledged task is completed in SQL exactly once, most of them retired, and every one reads
/// back (from SQL for the retired ones) through every server, with the text it was created with.
async fn retire_under_load(name: &str) {
    let mut drill = Drill::new(name, Store::Postgres).await;
    let letters = ["a", "b", "c"];
    for letter in letters {
        drill.spawn(letter, &[("CLAUDEBENCH_TASK_RETENTION_S", "0")]).await;
    }
    let (creates, work) = (Creates::new(), Work::new());
    let mut crews = Vec::new();
    for (server, letter) in letters.iter().enumerate() {
        let url = drill.servers[server].url.clone();
        let ids: Vec<String> = (1..=WORKERS_PER_SERVER).map(|n| format!("r-{letter}-{n}")).collect();
        let workers = Workers::start(&drill.api, &work, &url, &ids, Duration::ZERO).await;
        let load =
            creators(&drill.api, &creates, &format!("retire-{letter}"), &[url], CREATORS_PER_SERVER, CREATE_PAUSE);
        crews.push((load, workers));
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut idle = Vec::new();
    for (load, workers) in crews {
        load.stop().await;
        idle.push(workers);
    }
    let acks = creates.acks();
    // The workers finish what is left; SQL then holds every task completed.
    let sql = drill.await_sql(TAKEOVER_STALL, |rows| not_completed(&acks, rows).len()).await;
    for workers in idle {
        workers.stop().await;
    }
    // The leader retires once a second: give it a few rounds.
    let mut retired = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        retired = drill.sql.retired().await.unwrap_or(0);
        if retired >= acks.len() as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let comparison = compare(&acks, &sql.rows);
    let unfinished = not_completed(&acks, &sql.rows);
    let urls: Vec<String> = drill.servers.iter().map(|s| s.url.clone()).collect();
    let reread = read_back(&drill.api, &urls, &acks).await;
    drill.say(format!(
        "{} acked creates ({}); workers' answers: {}; {} of them retired to SQL; read back: {} problems; {}",
        acks.len(),
        creates.tally.summary(),
        work.tally.summary(),
        retired,
        reread.problems.len(),
        sql.describe()
    ));
    let mut verdict = Verdict::default();
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    verdict.check(unfinished.is_empty(), || {
        format!("{} acknowledged tasks never ended `completed` in SQL: {}", unfinished.len(), sample(&unfinished))
    });
    verdict.check(retired * 10 >= acks.len() as i64 * 9, || {
        format!("only {retired} of {} finished tasks left Redis within 10 s (retention 0)", acks.len())
    });
    verdict.check(reread.problems.is_empty(), || {
        format!("{} acknowledged tasks did not read back: {}", reread.problems.len(), sample(&reread.problems))
    });
    drill.conclude(verdict);
}

/// Three servers under create/claim/complete load; A is SIGKILLed 3 s in, B and C carry on.
async fn kill_one_of_three(name: &str) {
    let mut drill = Drill::new(name, Store::Postgres).await;
    let letters = ["a", "b", "c"];
    for letter in letters {
        drill.spawn(letter, &[]).await;
    }
    let (creates, work) = (Creates::new(), Work::new());
    let mut crews = Vec::new();
    for (server, letter) in letters.iter().enumerate() {
        let url = drill.servers[server].url.clone();
        let ids: Vec<String> = (1..=WORKERS_PER_SERVER).map(|n| format!("w-{letter}-{n}")).collect();
        let workers = Workers::start(&drill.api, &work, &url, &ids, WORK_TIME).await;
        let load = creators(&drill.api, &creates, &format!("kill-{letter}"), &[url], CREATORS_PER_SERVER, CREATE_PAUSE);
        crews.push((load, workers));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    let killed_at = drill.api.now();
    drill.kill(0).await;
    let (a_load, a_workers) = crews.remove(0);
    a_load.stop().await;
    a_workers.stop().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut survivors = Vec::new();
    for (load, workers) in crews {
        load.stop().await;
        survivors.push(workers);
    }
    let stopped_at = drill.api.now();

    let acks = creates.acks();
    let sql = drill.await_sql(TAKEOVER_STALL, |rows| not_completed(&acks, rows).len()).await;
    for workers in survivors {
        workers.stop().await;
    }
    let comparison = compare(&acks, &sql.rows);
    let unfinished = not_completed(&acks, &sql.rows);
    let live = drill.servers[1].url.clone();
    for id in unfinished.iter().take(5) {
        let answer = drill.api.post(&live, "/task/get", &json!({"id": id})).await;
        drill.say(format!("unfinished {id} in Redis: {} {}", answer.status, answer.body));
    }
    let ledger = WorkLedger::of(&work, |worker| worker.starts_with("w-a-"), killed_at);
    drill.say(format!(
        "A killed at {:.1} s, creates stopped at {:.1} s; {} acked creates ({}); {} tasks with acked completions; \
         workers' answers: {}; claims without a definite answer: {}",
        killed_at.as_secs_f64(),
        stopped_at.as_secs_f64(),
        acks.len(),
        creates.tally.summary(),
        ledger.completions.len(),
        work.tally.summary(),
        work.unanswered_claims.load(std::sync::atomic::Ordering::Relaxed)
    ));
    drill.say(format!(
        "{} tasks held by A's workers when A died ({} finished by B/C); all acked tasks completed in SQL: {}; {}",
        ledger.orphans.len(),
        ledger.orphans.iter().filter(|t| ledger.finished_by_live(t)).count(),
        if unfinished.is_empty() { "yes".to_string() } else { format!("no, {} not completed", unfinished.len()) },
        sql.describe()
    ));

    let mut verdict = Verdict::default();
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    verdict.check(unfinished.is_empty(), || {
        format!("{} acknowledged tasks never ended `completed` in SQL: {}", unfinished.len(), sample(&unfinished))
    });
    let requeued = drill.requeued_from("w-a-").await;
    drill.say(format!("the failure sweep re-queued {requeued} tasks from A's workers"));
    ledger.check(&mut verdict, requeued);
    // Three persisters on one database: row locks are taken in one order, so none may deadlock.
    let deadlocks = drill.log_mentions("deadlock detected");
    drill.say(format!("PostgreSQL deadlocks reported in the servers' logs: {deadlocks}"));
    verdict.check(deadlocks == 0, || format!("the persisters deadlocked {deadlocks} times"));
    drill.conclude(verdict);
}

/// Three servers on a private Redis, which is restarted empty in the middle of the creates.
async fn redis_restarted_empty(name: &str) {
    if crate::spawned::skip_on_cluster("restarts a private single Redis empty") {
        return;
    }
    let mut redis = PrivateRedis::start(None).await.expect("a private redis-server (apt-get install redis-server)");
    let mut drill = Drill::on_redis(name, Store::Postgres, RedisOptions::new(redis.url())).await;
    for server in ["a", "b", "c"] {
        drill.spawn(server, &[]).await;
    }
    let urls = drill.urls();
    let mut verdict = Verdict::default();

    let before = Creates::new();
    let load = creators(&drill.api, &before, "before", &urls, 30, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(3)).await;
    load.stop().await;
    let phase1 = before.acks();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&phase1, rows).missing.len()).await;
    drill.say(format!("phase 1: {} acked ({}); {}", phase1.len(), before.tally.summary(), sql.describe()));
    verdict.check(sql.remaining == 0, || format!("phase 1 never fully reached SQL: {} missing", sql.remaining));

    let across = Creates::new();
    let load = creators(&drill.api, &across, "across", &urls, 30, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let restart_began = drill.api.now();
    redis.restart().await.expect("the private Redis restarts");
    let restart_done = drill.api.now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    load.stop().await;
    let phase2 = across.acks();

    let reread = read_back(&drill.api, &urls, &phase1).await;
    let all: Vec<Ack> = phase1.iter().chain(&phase2).cloned().collect();
    // What must reach SQL: phase 1 (drained before the restart) and everything sent after it;
    // creates acknowledged just before Redis went away may be lost (the documented window).
    let must: Vec<Ack> = phase1.iter().chain(phase2.iter().filter(|a| a.sent > restart_done)).cloned().collect();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&must, rows).missing.len()).await;
    let comparison = compare(&all, &sql.rows);
    let acked_before = phase1.iter().chain(phase2.iter().filter(|a| a.acked < restart_began));
    let highest_before = acked_before.filter_map(Ack::number).max().unwrap_or(0);
    let sent_after: Vec<&Ack> = phase2.iter().filter(|a| a.sent > restart_done).collect();
    let mut reused: Vec<String> =
        sent_after.iter().filter(|a| a.number().is_none_or(|n| n <= highest_before)).map(|a| a.id.clone()).collect();
    reused.sort_by_key(|id| id_number(id));
    let missing: HashSet<&str> = comparison.missing.iter().map(String::as_str).collect();
    let phase1_lost: Vec<String> =
        phase1.iter().filter(|a| missing.contains(a.id.as_str())).map(|a| a.id.clone()).collect();
    let phase2_lost = phase2.iter().filter(|a| missing.contains(a.id.as_str()));
    let (lost_before, lost_after) =
        phase2_lost.fold((0, 0), |(b, a), ack| if ack.acked < restart_began { (b + 1, a) } else { (b, a + 1) });
    let first_ack_after = sent_after.iter().map(|a| a.acked).min();
    drill.say(format!(
        "phase 2: {} acked, {} of them sent after the restart ({:.2}–{:.2} s); first 2xx {} after it; answers: {}; \
         phase-2 acks missing from SQL: {lost_before} acked before the restart, {lost_after} after",
        phase2.len(),
        sent_after.len(),
        restart_began.as_secs_f64(),
        restart_done.as_secs_f64(),
        first_ack_after.map_or("never".into(), |t| format!("{} ms", (t - restart_done).as_millis())),
        across.tally.summary()
    ));
    drill.say(format!(
        "{} ids reused after the restart (highest before: t-{highest_before}); phase-1 tasks unreadable \
         after the restart: {} (first readable after {}); {}; {}",
        reused.len(),
        reread.problems.len(),
        reread.recovered_after.map_or("never".into(), |t| format!("{:.1} s", t.as_secs_f64())),
        sql.describe(),
        comparison.describe()
    ));

    verdict.check(comparison.duplicate_acks.is_empty(), || {
        format!(
            "{} ids were acknowledged for two different creates: {}",
            comparison.duplicate_acks.len(),
            sample(&comparison.duplicate_acks)
        )
    });
    verdict.check(reread.problems.is_empty(), || {
        format!(
            "{} of {} phase-1 tasks are not readable with their text after the restart: {}",
            reread.problems.len(),
            phase1.len(),
            sample(&reread.problems)
        )
    });
    verdict.check(comparison.wrong_text.is_empty(), || {
        format!(
            "{} SQL rows hold another task's text (overwritten): {}",
            comparison.wrong_text.len(),
            sample(&comparison.wrong_text)
        )
    });
    verdict.check(phase1_lost.is_empty(), || {
        format!("{} phase-1 rows vanished from SQL: {}", phase1_lost.len(), sample(&phase1_lost))
    });
    verdict.check(reused.is_empty(), || {
        format!(
            "{} ids acknowledged after the restart are not above t-{highest_before}: {}",
            reused.len(),
            sample(&reused)
        )
    });
    verdict.check(!sent_after.is_empty(), || "no create succeeded after the restart".to_string());
    // Acknowledged before Redis went away but not yet drained: lost with Redis (the window the
    // README states). Anything sent after the restart must reach SQL.
    let lost_after_restart: Vec<String> =
        sent_after.iter().filter(|a| missing.contains(a.id.as_str())).map(|a| a.id.clone()).collect();
    verdict.check(lost_after_restart.is_empty(), || {
        format!(
            "{} creates sent after the restart never reached SQL: {}",
            lost_after_restart.len(),
            sample(&lost_after_restart)
        )
    });
    drill.conclude(verdict);
    let _ = redis.stop().await;
}

/// The server's PostgreSQL database refuses connections for 4 s in the middle of the creates.
/// Two servers take creates from 40 connections for 5 s while their Redis forgets every script
/// (`SCRIPT FLUSH`) five times a second: each script call falls back to loading its body, so
/// every request is answered 2xx and every acknowledged create reaches SQL exactly once.
async fn scripts_flushed(name: &str) {
    if crate::spawned::skip_on_cluster(
        "flushes the scripts of a private single Redis (runtime redis_cluster covers NOSCRIPT on every master)",
    ) {
        return;
    }
    let redis = PrivateRedis::start(None).await.expect("a private redis-server (apt-get install redis-server)");
    let mut drill = Drill::on_redis(name, Store::Sqlite, RedisOptions::new(redis.url())).await;
    for server in ["a", "b"] {
        drill.spawn(server, &[]).await;
    }
    let creates = Creates::new();
    let load = creators(&drill.api, &creates, "flushed", &drill.urls(), 40, Duration::ZERO);
    let mut con = redis::Client::open(redis.url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let mut flushes = 0;
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut con).await.expect("SCRIPT FLUSH");
        flushes += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    load.stop().await;

    let acks = creates.acks();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&acks, rows).missing.len()).await;
    let comparison = compare(&acks, &sql.rows);
    drill.say(format!("{flushes} flushes; {} acked; answers: {}", acks.len(), creates.tally.summary()));
    drill.say(format!("{}; {}", sql.describe(), comparison.describe()));
    let mut verdict = Verdict::default();
    let failed: u64 = creates.tally.outcomes().iter().filter(|(o, _)| *o != "2xx").map(|(_, s)| s.count).sum();
    verdict.check(failed == 0, || format!("{failed} requests failed: {}", creates.tally.summary()));
    verdict.check(acks.len() > 100, || format!("only {} creates acknowledged", acks.len()));
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    drill.conclude(verdict);
}

async fn postgres_outage(name: &str) {
    let mut drill = Drill::new(name, Store::Postgres).await;
    drill.spawn("solo", &[]).await;
    let creates = Creates::new();
    let load = creators(&drill.api, &creates, "outage", &drill.urls(), 20, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let outage_began = drill.api.now();
    drill.sql.refuse_connections(true).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    drill.sql.refuse_connections(false).await;
    let outage_ended = drill.api.now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    load.stop().await;

    let acks = creates.acks();
    let during = acks.iter().filter(|a| a.acked > outage_began && a.acked < outage_ended).count();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&acks, rows).missing.len()).await;
    let comparison = compare(&acks, &sql.rows);
    drill.say(format!(
        "{} acked, {during} of them during the outage ({:.1}–{:.1} s); answers: {}; {}; {}",
        acks.len(),
        outage_began.as_secs_f64(),
        outage_ended.as_secs_f64(),
        creates.tally.summary(),
        sql.describe(),
        comparison.describe()
    ));

    let mut verdict = Verdict::default();
    verdict.check(during > 0, || "no create succeeded while PostgreSQL refused connections".to_string());
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    drill.conclude(verdict);
}

/// Two undecodable `task.created` entries are added to the outbox stream mid-load.
async fn poison_entries(name: &str) {
    let mut drill = Drill::new(name, Store::Postgres).await;
    drill.spawn("solo", &[]).await;
    let creates = Creates::new();
    let load = creators(&drill.api, &creates, "poison", &drill.urls(), 10, Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let poison = [
        drill.add_outbox_entry("not json").await,
        drill.add_outbox_entry(r#"{"text": "a state without an id"}"#).await,
    ];
    tokio::time::sleep(Duration::from_millis(2500)).await;
    load.stop().await;

    let acks = creates.acks();
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&acks, rows).missing.len()).await;
    let comparison = compare(&acks, &sql.rows);
    let health = drill.api.get(&drill.servers[0].url, "/health").await;
    let listed = drill.cli(0, &["deadletter", "list"]).await;
    drill.say(format!(
        "{} acked ({}); poison entries {poison:?}; {}; {}",
        acks.len(),
        creates.tally.summary(),
        sql.describe(),
        comparison.describe()
    ));
    drill.say(format!("GET /health → {} {}; `deadletter list` → {listed}", health.status, health.body));

    let mut verdict = Verdict::default();
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    let dead_letters = health.body["deadLetters"].as_u64();
    verdict.check(dead_letters.is_some_and(|n| n >= 1), || {
        format!("GET /health should report deadLetters ≥ 1, got {}", health.body)
    });
    verdict.check(health.body["status"] == json!("degraded"), || {
        format!("GET /health should report status \"degraded\", got {}", health.body)
    });
    verdict.check(listed.success, || format!("`claudebench deadletter list` failed: {listed}"));
    for entry in poison.iter().filter(|_| listed.success) {
        verdict.check(listed.stdout.contains(entry.as_str()), || {
            format!("`claudebench deadletter list` does not show the poison entry {entry}: {listed}")
        });
    }
    drill.conclude(verdict);
}

/// A task whose text contains U+0000, followed by ordinary creates.
async fn nul_text(name: &str, store: Store) {
    let mut drill = Drill::new(name, store).await;
    drill.spawn("solo", &[]).await;
    let url = drill.urls()[0].clone();
    let text = "a\u{0}b".to_string();
    let sent = drill.api.now();
    let answer = drill.api.post(&url, "/task/create", &json!({"text": text})).await;
    let acked = drill.api.now();
    let id = answer.body["id"].as_str().unwrap_or_default().to_string();

    let creates = Creates::new();
    let load = creators(&drill.api, &creates, "after-nul", &drill.urls(), 5, Duration::ZERO);
    tokio::time::sleep(Duration::from_secs(1)).await;
    load.stop().await;
    let mut acks = creates.acks();
    let later = acks.len();
    if answer.ok() {
        acks.push(Ack { id: id.clone(), text: text.clone(), sent, acked });
    }
    let sql = drill.await_sql(SQL_STALL, |rows| compare(&acks, rows).missing.len()).await;
    let comparison = compare(&acks, &sql.rows);
    let stored = sql.rows.iter().find(|r| r.id == id).map(|r| r.text.clone());
    drill.say(format!(
        "NUL create → {} {}; stored text {stored:?}; {later} later creates acked; {}; {}",
        answer.status,
        answer.body,
        sql.describe(),
        comparison.describe()
    ));

    let mut verdict = Verdict::default();
    verdict.check(answer.ok(), || format!("a text with U+0000 was refused: {} {}", answer.status, answer.body));
    verdict.check(stored.as_deref() == Some(text.as_str()), || format!("the NUL task {id} is stored as {stored:?}"));
    comparison.check_exactly_once(&mut verdict, creates.tally.ambiguous());
    drill.conclude(verdict);
}

// --- the drill fixture ---------------------------------------------------------------------------

/// Runs one drill after the previous one finished, within [`DRILL_DEADLINE`].
async fn take_turn(name: &str, drill: impl Future<Output = ()>) {
    let _turn = DRILL.lock().await;
    if tokio::time::timeout(DRILL_DEADLINE, drill).await.is_err() {
        panic!("drill {name} did not finish within {DRILL_DEADLINE:?}");
    }
}

/// One drill's world: a key prefix, a data directory, a database, the servers and the client.
/// Dropping it kills the servers and removes everything (printing the servers' log tails first
/// unless the drill passed).
struct Drill {
    name: String,
    prefix: String,
    dir: PathBuf,
    redis: RedisOptions,
    sql: Sql,
    api: Api,
    servers: Vec<ServerProcess>,
    started: Instant,
    passed: bool,
}

impl Drill {
    async fn new(name: &str, store: Store) -> Drill {
        Self::on_redis(name, store, redis_options()).await
    }

    async fn on_redis(name: &str, store: Store, redis: RedisOptions) -> Drill {
        let prefix = support::unique_prefix();
        let dir = crate::support::scratch_dir("drill", &prefix);
        let sql = Sql::create(store, &prefix, &dir).await;
        Drill {
            name: name.to_string(),
            prefix,
            dir,
            redis,
            sql,
            api: Api::new(),
            servers: Vec::new(),
            started: Instant::now(),
            passed: false,
        }
    }

    /// Starts a server named `name` (instance `<name>-<prefix>`) with extra environment.
    async fn spawn(&mut self, name: &str, env: &[(&str, &str)]) {
        let mut serve = Serve::new(name, &self.prefix, &self.dir);
        serve = match self.redis.is_cluster() {
            true => serve.env("REDIS_CLUSTER_NODES", self.redis.cluster_nodes.join(",")),
            false => serve.env("REDIS_URL", &self.redis.url),
        };
        let mut serve = serve.log_to(self.dir.join(format!("{name}.log")));
        if let Some(url) = &self.sql.server_url {
            serve = serve.env("DATABASE_URL", url);
        }
        for (key, value) in env {
            serve = serve.env(key, *value);
        }
        self.servers.push(serve.spawn().await);
    }

    fn urls(&self) -> Vec<String> {
        self.servers.iter().map(|s| s.url.clone()).collect()
    }

    /// SIGKILL, no clean shutdown.
    async fn kill(&mut self, server: usize) {
        let child = &mut self.servers[server].child;
        child.start_kill().expect("SIGKILL");
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    }

    /// Runs `claudebench <args>` with server `server`'s environment (bounded).
    async fn cli(&self, server: usize, args: &[&str]) -> CliRun {
        let mut command = self.servers[server].command();
        command.args(args).kill_on_drop(true);
        match tokio::time::timeout(Duration::from_secs(20), command.output()).await {
            Ok(Ok(out)) => CliRun {
                success: out.status.success(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
            Ok(Err(e)) => CliRun { success: false, stdout: String::new(), stderr: e.to_string() },
            Err(_) => CliRun { success: false, stdout: String::new(), stderr: "did not finish within 20 s".into() },
        }
    }

    /// How many tasks the failure sweeps re-queued from instances whose id starts with
    /// `prefix` (the `instance.failed` events' `tasksReassigned`).
    async fn requeued_from(&self, prefix: &str) -> u64 {
        let mut con = connect_redis(self.redis.clone()).await;
        let stream = claudebench_runtime::keys::Keys::new(&self.prefix).stream("instance.failed");
        let entries: Vec<(String, HashMap<String, String>)> =
            redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut con).await.unwrap_or_default();
        entries
            .iter()
            .filter_map(|(_, fields)| serde_json::from_str::<Value>(fields.get("payload")?).ok())
            .filter(|p| p["id"].as_str().is_some_and(|id| id.starts_with(prefix)))
            .filter_map(|p| p["tasksReassigned"].as_u64())
            .sum()
    }

    /// Appends a `task.created` entry whose task state is `state` to the outbox stream; its id.
    async fn add_outbox_entry(&self, state: &str) -> String {
        let mut con = connect_redis(self.redis.clone()).await;
        // The first task partition's outbox stream (its persister reads it like any other).
        let keys = claudebench_runtime::keys::Keys::new(&self.prefix);
        let partitions = crate::spawned::test_partitions();
        let stream = claudebench_runtime::keys::Partitions::new(&keys, partitions).get(0).stream("task.created");
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis().to_string();
        let fields = [("event", "task.created"), ("payload", "{}"), ("ts", &ms), ("entity", "task"), ("state", state)];
        redis::cmd("XADD").arg(&stream).arg("*").arg(&fields[..]).query_async(&mut con).await.expect("XADD")
    }

    /// Polls SQL until `remaining(rows)` is 0, makes no progress for `patience`, or
    /// [`SQL_DEADLINE`] passes.
    async fn await_sql(&self, patience: Duration, remaining: impl Fn(&[SqlTask]) -> usize) -> SqlWait {
        let started = Instant::now();
        let (mut rows, mut error) = (Vec::new(), None);
        let (mut best, mut improved) = (usize::MAX, Instant::now());
        loop {
            match self.sql.tasks().await {
                Ok(now) => rows = now,
                Err(e) => error = Some(e.to_string()),
            }
            let left = remaining(&rows);
            if left < best {
                (best, improved) = (left, Instant::now());
            }
            if left == 0 || started.elapsed() > SQL_DEADLINE || improved.elapsed() > patience {
                return SqlWait { rows, waited: started.elapsed(), remaining: left, error };
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// How many lines of the servers' logs contain `needle`.
    fn log_mentions(&self, needle: &str) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return 0 };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .map(|text| text.lines().filter(|l| l.contains(needle)).count())
            .sum()
    }

    fn say(&self, figures: String) {
        println!("[drill {}] {figures}", self.name);
    }

    /// Ends the drill: cleans up (printing the logs if it failed), then fails with every
    /// failed check.
    fn conclude(mut self, verdict: Verdict) {
        self.passed = verdict.failures.is_empty();
        let name = self.name.clone();
        drop(self);
        verdict.assert(&name);
    }
}

impl Drop for Drill {
    fn drop(&mut self) {
        for server in &mut self.servers {
            let _ = server.child.start_kill();
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(server.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if !self.passed {
            for server in &self.servers {
                eprintln!("{}", server.log_tail(40));
            }
        }
        let (redis, prefix, sql) = (self.redis.clone(), self.prefix.clone(), self.sql.clone());
        run_aside(async move {
            let forget_keys = async {
                if let Ok(Ok(handle)) = tokio::time::timeout(
                    Duration::from_secs(2),
                    claudebench_runtime::redis::RedisHandle::connect(redis),
                )
                .await
                {
                    support::delete_keys(&mut handle.conn(), &prefix).await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(20), forget_keys).await;
            let _ = tokio::time::timeout(Duration::from_secs(20), sql.drop_database()).await;
        });
        let _ = std::fs::remove_dir_all(&self.dir);
        let outcome = if self.passed { "passed" } else { "FAILED" };
        self.say(format!("{outcome}; wall time {:.1} s", self.started.elapsed().as_secs_f64()));
    }
}

/// Runs `work` to completion on a runtime of its own, on another thread (usable from `Drop`).
fn run_aside(work: impl Future<Output = ()> + Send) {
    std::thread::scope(|scope| {
        scope.spawn(move || {
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(work)
        });
    });
}

/// What a `claudebench` command printed.
struct CliRun {
    success: bool,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for CliRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (out, err) = (self.stdout.trim(), self.stderr.trim());
        write!(f, "{} stdout {out:?} stderr {err:?}", if self.success { "exit 0," } else { "FAILED," })
    }
}

/// Every failed check of a drill, reported together.
#[derive(Default)]
struct Verdict {
    failures: Vec<String>,
}

impl Verdict {
    fn check(&mut self, ok: bool, failure: impl FnOnce() -> String) {
        if !ok {
            self.failures.push(failure());
        }
    }

    fn assert(self, drill: &str) {
        assert!(
            self.failures.is_empty(),
            "drill {drill}: {} check(s) failed:\n  - {}",
            self.failures.len(),
            self.failures.join("\n  - ")
        );
    }
}

/// The first few of a list, with its length.
fn sample(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(8).map(String::as_str).collect();
    format!("{} [{}{}]", ids.len(), shown.join(", "), if ids.len() > shown.len() { ", …" } else { "" })
}

// --- SQL ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Store {
    Sqlite,
    Postgres,
}

/// The drill's database: a fresh PostgreSQL database, or the SQLite file of the data directory.
#[derive(Clone)]
struct Sql {
    /// What the drill reads through.
    url: String,
    /// `DATABASE_URL` for the servers (none for SQLite).
    server_url: Option<String>,
    /// The PostgreSQL database's name.
    database: Option<String>,
}

/// A task row as SQL holds it (text and status read from the snapshot JSON when present).
#[derive(Debug, Clone)]
struct SqlTask {
    id: String,
    text: String,
    status: String,
}

/// The admin connection URL (`TEST_DATABASE_URL`, or the local `test` database).
fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

async fn connect(url: &str) -> Result<sqlx::AnyConnection, sqlx::Error> {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await
}

/// Runs one statement on the admin connection.
async fn admin(statement: &str) {
    let mut con = connect(&postgres_admin_url()).await.expect("PostgreSQL answers (scripts/test.sh starts it)");
    sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut con)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    let _ = con.close().await;
}

impl Sql {
    async fn create(store: Store, prefix: &str, dir: &std::path::Path) -> Sql {
        match store {
            Store::Sqlite => Sql {
                url: format!("sqlite://{}?mode=ro", dir.join("claudebench.db").display()),
                server_url: None,
                database: None,
            },
            Store::Postgres => {
                let database = format!("cbdrill_{}", prefix.replace('-', "_"));
                admin(&format!("CREATE DATABASE {database}")).await;
                let admin_url = postgres_admin_url();
                let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
                let url = format!("{base}/{database}");
                Sql { url: url.clone(), server_url: Some(url), database: Some(database) }
            }
        }
    }

    /// How many task rows are retired (their task left Redis; SQL answers for it).
    async fn retired(&self) -> Result<i64, sqlx::Error> {
        let mut con = connect(&self.url).await?;
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM tasks WHERE deleted = 0 AND retired = 1").fetch_one(&mut con).await;
        let _ = con.close().await;
        row?.try_get::<i64, _>("n")
    }

    /// Every task row that is not deleted.
    async fn tasks(&self) -> Result<Vec<SqlTask>, sqlx::Error> {
        let mut con = connect(&self.url).await?;
        let rows =
            sqlx::query("SELECT id, text, status, snapshot FROM tasks WHERE deleted = 0").fetch_all(&mut con).await;
        let _ = con.close().await;
        rows?.iter().map(sql_task).collect()
    }

    /// Makes PostgreSQL refuse (and drop) every connection to this database, or accept them again.
    async fn refuse_connections(&self, refuse: bool) {
        let database = self.database.as_deref().expect("a PostgreSQL drill");
        admin(&format!("ALTER DATABASE {database} ALLOW_CONNECTIONS {}", !refuse)).await;
        if refuse {
            admin(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"))
                .await;
        }
    }

    async fn drop_database(&self) {
        if let Some(database) = &self.database {
            admin(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await;
        }
    }
}

fn sql_task(row: &sqlx::any::AnyRow) -> Result<SqlTask, sqlx::Error> {
    let snapshot: Option<String> = row.try_get("snapshot")?;
    let snapshot: Value = snapshot.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    let field = |name: &str| -> Result<String, sqlx::Error> {
        match snapshot[name].as_str() {
            Some(s) => Ok(s.to_string()),
            None => row.try_get(name),
        }
    };
    Ok(SqlTask { id: row.try_get("id")?, text: field("text")?, status: field("status")? })
}

/// The outcome of waiting for SQL.
struct SqlWait {
    rows: Vec<SqlTask>,
    waited: Duration,
    remaining: usize,
    error: Option<String>,
}

impl SqlWait {
    fn describe(&self) -> String {
        let how = if self.remaining == 0 {
            format!("SQL caught up {:.1} s after the load", self.waited.as_secs_f64())
        } else {
            format!("SQL stopped short by {} after waiting {:.1} s", self.remaining, self.waited.as_secs_f64())
        };
        match &self.error {
            Some(e) => format!("{how} (last read error: {e})"),
            None => how,
        }
    }
}

// --- acknowledgements vs SQL -------------------------------------------------------------------------

/// Acknowledged creates compared with SQL rows.
struct Comparison {
    acked: usize,
    rows: usize,
    /// Ids acknowledged for more than one create.
    duplicate_acks: Vec<String>,
    /// Acknowledged ids without a row.
    missing: Vec<String>,
    /// Ids with more than one row.
    doubled: Vec<String>,
    /// Rows whose text is not the text acknowledged for their id.
    wrong_text: Vec<String>,
    /// Rows nobody acknowledged.
    extra: Vec<String>,
}

fn compare(acks: &[Ack], rows: &[SqlTask]) -> Comparison {
    let mut acked: HashMap<&str, Vec<&str>> = HashMap::new();
    for ack in acks {
        acked.entry(ack.id.as_str()).or_default().push(ack.text.as_str());
    }
    let mut stored: HashMap<&str, Vec<&SqlTask>> = HashMap::new();
    for row in rows {
        stored.entry(row.id.as_str()).or_default().push(row);
    }
    let ids = |pick: &dyn Fn(&str) -> bool, from: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        let mut ids: Vec<String> = from.filter(|id| pick(id)).map(String::from).collect();
        ids.sort_by_key(|id| id_number(id));
        ids
    };
    let wrong_text = |id: &str| {
        let texts = &acked[id];
        stored.get(id).is_some_and(|rows| rows.iter().any(|r| texts.iter().any(|t| *t != r.text)))
    };
    Comparison {
        acked: acks.len(),
        rows: rows.len(),
        duplicate_acks: ids(&|id| acked[id].len() > 1, &mut acked.keys().copied()),
        missing: ids(&|id| !stored.contains_key(id), &mut acked.keys().copied()),
        doubled: ids(&|id| stored[id].len() > 1, &mut stored.keys().copied()),
        wrong_text: ids(&wrong_text, &mut acked.keys().copied()),
        extra: ids(&|id| !acked.contains_key(id), &mut stored.keys().copied()),
    }
}

impl Comparison {
    fn describe(&self) -> String {
        format!(
            "{} acked, {} SQL rows: {} missing, {} doubled, {} with another text, {} unacknowledged, {} ids acked twice",
            self.acked,
            self.rows,
            self.missing.len(),
            self.doubled.len(),
            self.wrong_text.len(),
            self.extra.len(),
            self.duplicate_acks.len()
        )
    }

    /// Every acknowledged create is in SQL exactly once with its text, ids were never handed out
    /// twice, and SQL holds no more unacknowledged rows than there were creates without a definite
    /// answer.
    fn check_exactly_once(&self, verdict: &mut Verdict, ambiguous: u64) {
        verdict.check(self.duplicate_acks.is_empty(), || {
            format!("ids acknowledged for two different creates: {}", sample(&self.duplicate_acks))
        });
        verdict.check(self.missing.is_empty(), || {
            format!("acknowledged tasks missing from SQL ({} acked): {}", self.acked, sample(&self.missing))
        });
        verdict.check(self.doubled.is_empty(), || format!("tasks stored more than once: {}", sample(&self.doubled)));
        verdict.check(self.wrong_text.is_empty(), || {
            format!("SQL rows with a text other than the acknowledged one: {}", sample(&self.wrong_text))
        });
        verdict.check(self.extra.len() as u64 <= ambiguous, || {
            format!(
                "SQL rows nobody acknowledged (only {ambiguous} creates lacked a definite answer): {}",
                sample(&self.extra)
            )
        });
    }
}

/// Acknowledged tasks that SQL does not show as `completed`.
fn not_completed(acks: &[Ack], rows: &[SqlTask]) -> Vec<String> {
    let completed: BTreeSet<&str> = rows.iter().filter(|r| r.status == "completed").map(|r| r.id.as_str()).collect();
    acks.iter().filter(|a| !completed.contains(a.id.as_str())).map(|a| a.id.clone()).collect()
}

/// The workers' acknowledged claims and completions, by task, split between the workers of the
/// killed server (`dead`, killed at `died_at`) and the live ones.
struct WorkLedger {
    claims: HashMap<String, Vec<Deed>>,
    completions: HashMap<String, Vec<Deed>>,
    unanswered: HashMap<String, Vec<Deed>>,
    /// Tasks claimed by a dead worker and not completed by it.
    orphans: Vec<String>,
    dead: fn(&str) -> bool,
    died_at: Duration,
}

impl WorkLedger {
    fn of(work: &Work, dead: fn(&str) -> bool, died_at: Duration) -> WorkLedger {
        let by_task = |deeds: &[Deed]| {
            let mut map: HashMap<String, Vec<Deed>> = HashMap::new();
            for deed in deeds {
                map.entry(deed.task.clone()).or_default().push(deed.clone());
            }
            map
        };
        let claims = by_task(&work.claims.lock().unwrap());
        let completions = by_task(&work.completions.lock().unwrap());
        let unanswered = by_task(&work.unanswered_completions.lock().unwrap());
        let by_dead = |deeds: Option<&Vec<Deed>>| deeds.is_some_and(|ds| ds.iter().any(|d| dead(&d.worker)));
        let mut orphans: Vec<String> = claims
            .iter()
            .filter(|(task, claims)| by_dead(Some(claims)) && !by_dead(completions.get(*task)))
            .map(|(task, _)| task.clone())
            .collect();
        orphans.sort_by_key(|id| id_number(id));
        WorkLedger { claims, completions, unanswered, orphans, dead, died_at }
    }

    /// The distinct workers of `deeds` that are dead (or live).
    fn workers(&self, deeds: &[Deed], dead: bool) -> BTreeSet<String> {
        deeds.iter().filter(|d| (self.dead)(&d.worker) == dead).map(|d| d.worker.clone()).collect()
    }

    fn finished_by_live(&self, task: &str) -> bool {
        self.completions.get(task).is_some_and(|ds| !self.workers(ds, false).is_empty())
    }

    /// A dead worker's completion of `task` that got no answer (it may have taken effect).
    fn maybe_done_by_dead(&self, task: &str) -> bool {
        self.unanswered.get(task).is_some_and(|ds| !self.workers(ds, true).is_empty())
    }

    /// Two workers held the task at once: two live ones, two dead ones (both were alive before
    /// the kill), or a live one that claimed it before its dead holder died.
    fn shared(&self, claims: &[Deed]) -> bool {
        let (live, dead) = (self.workers(claims, false), self.workers(claims, true));
        let live_before_death = claims.iter().any(|d| !(self.dead)(&d.worker) && d.at < self.died_at);
        live.len() > 1 || dead.len() > 1 || (!dead.is_empty() && live_before_death)
    }

    /// `requeued_by_sweep`: tasks the failure sweep re-queued from the dead workers (a claim
    /// whose answer died with the server is held in Redis without the ledger knowing it).
    fn check(&self, verdict: &mut Verdict, requeued_by_sweep: u64) {
        let describe = |(task, deeds): (&String, &Vec<Deed>)| {
            let by: Vec<String> =
                deeds.iter().map(|d| format!("{} at {:.2} s", d.worker, d.at.as_secs_f64())).collect();
            format!("{task} by {}", by.join(" and "))
        };
        let twice: Vec<String> = self
            .completions
            .iter()
            .filter(|(_, ds)| ds.iter().map(|d| &d.worker).collect::<BTreeSet<_>>().len() > 1)
            .map(describe)
            .collect();
        verdict
            .check(twice.is_empty(), || format!("tasks acknowledged as completed by two workers: {}", sample(&twice)));
        let shared: Vec<String> = self.claims.iter().filter(|(_, ds)| self.shared(ds)).map(describe).collect();
        verdict.check(shared.is_empty(), || format!("tasks claimed by two live workers: {}", sample(&shared)));
        verdict.check(!self.orphans.is_empty() || requeued_by_sweep > 0, || {
            "the drill did not exercise re-queueing: A's workers held no task when A died".to_string()
        });
        let stranded: Vec<String> =
            self.orphans.iter().filter(|t| !self.finished_by_live(t) && !self.maybe_done_by_dead(t)).cloned().collect();
        verdict.check(stranded.is_empty(), || {
            format!("tasks held by A's workers that B/C never finished: {}", sample(&stranded))
        });
    }
}

/// Phase-1 tasks read back through `task.get` after the Redis restart.
struct ReadBack {
    /// How long after the first attempt the first task read back correctly.
    recovered_after: Option<Duration>,
    /// `id: what was read` for every task that did not read back with its text.
    problems: Vec<String>,
}

/// Waits (≤ 10 s) until the first acknowledged task reads back with its text, then reads all.
async fn read_back(api: &Api, urls: &[String], acks: &[Ack]) -> ReadBack {
    let read = |i: usize, ack: &Ack| {
        let (api, url, ack) = (api.clone(), urls[i % urls.len()].clone(), ack.clone());
        async move {
            let answer = api.post(&url, "/task/get", &json!({"id": ack.id})).await;
            match &answer.body["text"] {
                Value::String(text) if answer.ok() && *text == ack.text => Ok(()),
                Value::String(text) if answer.ok() => Err(format!("{} reads {text:?}", ack.id)),
                _ => Err(format!("{} → {}", ack.id, answer.outcome())),
            }
        }
    };
    let Some(first) = acks.first() else { return ReadBack { recovered_after: None, problems: Vec::new() } };
    let started = Instant::now();
    let mut recovered_after = None;
    while started.elapsed() < Duration::from_secs(10) {
        if read(0, first).await.is_ok() {
            recovered_after = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let results: Vec<Result<(), String>> = futures_util::stream::iter(acks.iter().enumerate().map(|(i, a)| read(i, a)))
        .buffer_unordered(16)
        .collect()
        .await;
    ReadBack { recovered_after, problems: results.into_iter().filter_map(Result::err).collect() }
}

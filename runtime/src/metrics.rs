//! In-process metrics rendered in the Prometheus text exposition format (version 0.0.4).
//!
//! Deliberately small: counters, one latency histogram family and a few gauges behind one
//! mutex. Updates are a map lookup and an add; rendering sorts by labels so the output is
//! stable (and testable).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use crate::resilience::CircuitState;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    /// Non-cumulative count per bucket; the last slot is +Inf.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let slot = LATENCY_BUCKETS.iter().position(|b| seconds <= *b).unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[slot] += 1;
        self.sum += seconds;
        self.count += 1;
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Requests by event, then outcome: their count is the histogram's. Nested rather than keyed
    /// by a pair so that counting a request looks up by `&str` and allocates nothing once the
    /// pair has been seen (this runs on every request).
    requests: BTreeMap<String, BTreeMap<String, Histogram>>,
    rate_limited: BTreeMap<String, u64>,
    circuit: BTreeMap<String, CircuitState>,
    queue_depth: BTreeMap<String, i64>,
    stream_lag: BTreeMap<(String, String), i64>,
    bus_dropped: u64,
    durability: Durability,
    dead_lettered: u64,
    recoveries: u64,
    /// Not yet added to the cluster-wide counters in Redis.
    unflushed: Totals,
}

/// Cluster-wide counters: each process adds what it counted since its last flush.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Requests that reached a handler (whatever the outcome).
    pub events: u64,
    /// Their summed latency, in microseconds.
    pub latency_us: u64,
    /// Tasks completed successfully.
    pub tasks_completed: u64,
}

/// What the durability jobs last observed (the outbox, dead letters, recovery): the gauges of
/// `/metrics` and the inputs of `/health`'s verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durability {
    /// Outbox entries not yet written to SQL (all persisted streams).
    pub outbox_lag: i64,
    /// Age of the oldest of them, in milliseconds (0 when none).
    pub outbox_age_ms: i64,
    /// Dead letters waiting for review.
    pub dead_letters: i64,
    /// Whether task state is being recovered after Redis lost its data.
    pub recovering: bool,
}

/// The process's metrics registry.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Counts one request of `event` with `outcome` (`ok` or an error code) and its latency.
    pub fn observe_request(&self, event: &str, outcome: &str, latency: Duration) {
        self.with(|m| {
            update(&mut m.requests, event, |outcomes| update(outcomes, outcome, |h| h.observe(latency.as_secs_f64())));
            m.unflushed.events += 1;
            m.unflushed.latency_us += latency.as_micros().min(u64::MAX as u128) as u64;
        });
    }

    /// Counts one task that reached `completed`.
    pub fn task_completed(&self) {
        self.with(|m| m.unflushed.tasks_completed += 1);
    }

    /// The totals counted since the last call (which the caller adds to Redis), resetting them.
    pub fn take_totals(&self) -> Totals {
        self.with(|m| std::mem::take(&mut m.unflushed))
    }

    /// Gives totals back after a failed flush, so nothing is lost.
    pub fn restore_totals(&self, t: Totals) {
        self.with(|m| {
            m.unflushed.events += t.events;
            m.unflushed.latency_us += t.latency_us;
            m.unflushed.tasks_completed += t.tasks_completed;
        });
    }

    /// Counts one rate-limit rejection of `event`.
    pub fn rate_limited(&self, event: &str) {
        self.with(|m| update(&mut m.rate_limited, event, |n| *n += 1));
    }

    /// Sets the circuit state shown for `event` (every request of an event with a breaker
    /// reports it, so an unchanged state costs a lookup, not an allocation).
    pub fn set_circuit_state(&self, event: &str, state: CircuitState) {
        self.with(|m| update(&mut m.circuit, event, |current| *current = state));
    }

    /// Sets the depth of a queue (e.g. `pending`).
    pub fn set_queue_depth(&self, queue: &str, depth: i64) {
        self.with(|m| {
            m.queue_depth.insert(queue.to_string(), depth);
        });
    }

    /// Sets how many entries of `stream` consumer group `group` has not processed yet.
    pub fn set_stream_lag(&self, stream: &str, group: &str, lag: i64) {
        self.with(|m| {
            m.stream_lag.insert((stream.to_string(), group.to_string()), lag);
        });
    }

    /// Records the outbox backlog: entries not yet in SQL and the age of the oldest.
    pub fn set_outbox(&self, lag: i64, oldest_age_ms: i64) {
        self.with(|m| {
            m.durability.outbox_lag = lag;
            m.durability.outbox_age_ms = oldest_age_ms;
        });
    }

    /// Records how many dead letters wait for review.
    pub fn set_dead_letters(&self, n: i64) {
        self.with(|m| m.durability.dead_letters = n);
    }

    /// Counts one outbox entry this process moved to the dead letters.
    pub fn dead_lettered(&self) {
        self.with(|m| {
            m.dead_lettered += 1;
            m.durability.dead_letters += 1;
        });
    }

    /// Marks the start (`true`) or end (`false`) of a recovery after a Redis data loss.
    pub fn set_recovering(&self, recovering: bool) {
        self.with(|m| {
            if m.durability.recovering && !recovering {
                m.recoveries += 1;
            }
            m.durability.recovering = recovering;
        });
    }

    /// What the durability jobs last observed.
    pub fn durability(&self) -> Durability {
        self.with(|m| m.durability)
    }

    /// Adds live bus messages dropped because a subscriber was too slow.
    pub fn bus_dropped(&self, n: u64) {
        self.with(|m| m.bus_dropped += n);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        self.with(|m| {
            let mut out = String::new();
            header(&mut out, "claudebench_requests_total", "counter", "Requests handled, by event and outcome.");
            for (event, outcome, h) in m.requests.iter().flat_map(|(e, o)| o.iter().map(move |(o, h)| (e, o, h))) {
                let _ = writeln!(
                    out,
                    "claudebench_requests_total{{event=\"{}\",outcome=\"{}\"}} {}",
                    esc(event),
                    esc(outcome),
                    h.count
                );
            }
            header(
                &mut out,
                "claudebench_request_duration_seconds",
                "histogram",
                "Request latency, by event and outcome.",
            );
            for (event, outcome, h) in m.requests.iter().flat_map(|(e, o)| o.iter().map(move |(o, h)| (e, o, h))) {
                let labels = format!("event=\"{}\",outcome=\"{}\"", esc(event), esc(outcome));
                let mut cumulative = 0;
                for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                    cumulative += h.buckets[i];
                    let _ = writeln!(
                        out,
                        "claudebench_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                    );
                }
                let _ =
                    writeln!(out, "claudebench_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "claudebench_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "claudebench_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
            header(
                &mut out,
                "claudebench_rate_limited_total",
                "counter",
                "Requests rejected by the rate limiter, by event.",
            );
            for (event, n) in &m.rate_limited {
                let _ = writeln!(out, "claudebench_rate_limited_total{{event=\"{}\"}} {n}", esc(event));
            }
            header(
                &mut out,
                "claudebench_circuit_state",
                "gauge",
                "Circuit breaker state by event (1 for the current state).",
            );
            for (event, state) in &m.circuit {
                for s in [CircuitState::Closed, CircuitState::Open, CircuitState::HalfOpen] {
                    let v = u8::from(*state == s);
                    let _ = writeln!(
                        out,
                        "claudebench_circuit_state{{event=\"{}\",state=\"{}\"}} {v}",
                        esc(event),
                        s.as_str()
                    );
                }
            }
            header(&mut out, "claudebench_queue_depth", "gauge", "Tasks waiting in a queue.");
            for (queue, n) in &m.queue_depth {
                let _ = writeln!(out, "claudebench_queue_depth{{queue=\"{}\"}} {n}", esc(queue));
            }
            header(
                &mut out,
                "claudebench_stream_lag",
                "gauge",
                "Stream entries a consumer group has not processed yet.",
            );
            for ((stream, group), n) in &m.stream_lag {
                let _ =
                    writeln!(out, "claudebench_stream_lag{{stream=\"{}\",group=\"{}\"}} {n}", esc(stream), esc(group));
            }
            header(
                &mut out,
                "claudebench_bus_dropped_total",
                "counter",
                "Live bus messages dropped for slow subscribers.",
            );
            let _ = writeln!(out, "claudebench_bus_dropped_total {}", m.bus_dropped);
            let d = m.durability;
            header(&mut out, "claudebench_outbox_lag", "gauge", "Outbox entries not yet written to SQL.");
            let _ = writeln!(out, "claudebench_outbox_lag {}", d.outbox_lag);
            header(
                &mut out,
                "claudebench_outbox_oldest_age_seconds",
                "gauge",
                "Age of the oldest outbox entry not yet written to SQL.",
            );
            let _ = writeln!(out, "claudebench_outbox_oldest_age_seconds {}", d.outbox_age_ms as f64 / 1000.0);
            header(&mut out, "claudebench_dead_letters", "gauge", "Dead letters waiting for review.");
            let _ = writeln!(out, "claudebench_dead_letters {}", d.dead_letters);
            header(
                &mut out,
                "claudebench_dead_lettered_total",
                "counter",
                "Outbox entries this process could not write to SQL and moved to the dead letters.",
            );
            let _ = writeln!(out, "claudebench_dead_lettered_total {}", m.dead_lettered);
            header(
                &mut out,
                "claudebench_recovering",
                "gauge",
                "1 while task state is recovered after a Redis data loss.",
            );
            let _ = writeln!(out, "claudebench_recovering {}", u8::from(d.recovering));
            header(
                &mut out,
                "claudebench_recoveries_total",
                "counter",
                "Recoveries from a Redis data loss this process took part in.",
            );
            let _ = writeln!(out, "claudebench_recoveries_total {}", m.recoveries);
            out
        })
    }
}

/// Applies `f` to the entry of `key`, created (with the default) only when missing: the
/// request path looks up by `&str` and allocates nothing for a key it has seen.
fn update<V: Default>(map: &mut BTreeMap<String, V>, key: &str, f: impl FnOnce(&mut V)) {
    if let Some(value) = map.get_mut(key) {
        f(value);
    } else {
        f(map.entry(key.to_string()).or_default());
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, double quote, newline).
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_format_has_types_cumulative_buckets_and_escaped_labels() {
        let m = Metrics::new();
        m.observe_request("task.create", "ok", Duration::from_millis(3));
        m.observe_request("task.create", "ok", Duration::from_millis(40));
        m.observe_request("task.create", "ok", Duration::from_secs(10));
        m.observe_request("task.claim", "rate_limited", Duration::from_micros(200));
        m.rate_limited("task.claim");
        m.set_circuit_state("task.create", CircuitState::Open);
        m.set_queue_depth("pending", 7);
        m.set_stream_lag("task.created", "persister", 2);
        m.set_queue_depth("we\"ird\\q\nx", 1);
        let text = m.render();

        assert!(text.contains("# TYPE claudebench_requests_total counter\n"));
        assert!(text.contains("claudebench_requests_total{event=\"task.create\",outcome=\"ok\"} 3\n"));
        assert!(text.contains("# TYPE claudebench_request_duration_seconds histogram\n"));
        assert!(text.contains(
            "claudebench_request_duration_seconds_bucket{event=\"task.create\",outcome=\"ok\",le=\"0.001\"} 0\n"
        ));
        assert!(text.contains(
            "claudebench_request_duration_seconds_bucket{event=\"task.create\",outcome=\"ok\",le=\"0.005\"} 1\n"
        ));
        assert!(text.contains(
            "claudebench_request_duration_seconds_bucket{event=\"task.create\",outcome=\"ok\",le=\"0.05\"} 2\n"
        ));
        assert!(text.contains(
            "claudebench_request_duration_seconds_bucket{event=\"task.create\",outcome=\"ok\",le=\"5\"} 2\n"
        ));
        assert!(text.contains(
            "claudebench_request_duration_seconds_bucket{event=\"task.create\",outcome=\"ok\",le=\"+Inf\"} 3\n"
        ));
        assert!(text.contains("claudebench_request_duration_seconds_count{event=\"task.create\",outcome=\"ok\"} 3\n"));
        assert!(text.contains("claudebench_rate_limited_total{event=\"task.claim\"} 1\n"));
        assert!(text.contains("claudebench_circuit_state{event=\"task.create\",state=\"open\"} 1\n"));
        assert!(text.contains("claudebench_circuit_state{event=\"task.create\",state=\"closed\"} 0\n"));
        assert!(text.contains("claudebench_queue_depth{queue=\"pending\"} 7\n"));
        assert!(text.contains("claudebench_stream_lag{stream=\"task.created\",group=\"persister\"} 2\n"));
        assert!(text.contains("claudebench_queue_depth{queue=\"we\\\"ird\\\\q\\nx\"} 1\n"));

        // Every non-comment line is `name{labels} value` or `name value` with a numeric value.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("a sample line has a value");
            assert!(value.parse::<f64>().is_ok(), "non-numeric sample: {line}");
        }
        // HELP and TYPE come once per family.
        assert_eq!(text.matches("# TYPE claudebench_request_duration_seconds ").count(), 1);
    }
}

//! What `GET /metrics` reports, in Prometheus' text format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the `/invocations` latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// What `/metrics` reports.
#[derive(Default)]
pub(super) struct Stats {
    /// (path, status) → count; unknown paths count as `other`.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Cumulative-free bucket counts; the last slot is +Inf.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_sum_ns: AtomicU64,
    latency_count: AtomicU64,
    pub(super) rows: AtomicU64,
}

pub(super) fn route_label(path: &str) -> &'static str {
    match path {
        "/ping" => "/ping",
        "/invocations" => "/invocations",
        "/execution-parameters" => "/execution-parameters",
        "/metrics" => "/metrics",
        _ => "other",
    }
}

impl Stats {
    pub(super) fn record(&self, path: &'static str, status: u16, seconds: f64) {
        *self
            .requests
            .lock()
            .expect("stats")
            .entry((path, status))
            .or_insert(0) += 1;
        if path == "/invocations" {
            let slot = LATENCY_BUCKETS
                .iter()
                .position(|&b| seconds <= b)
                .unwrap_or(LATENCY_BUCKETS.len());
            self.buckets[slot].fetch_add(1, Ordering::Relaxed);
            self.latency_sum_ns
                .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
            self.latency_count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(super) fn prometheus(
        &self,
        loaded: bool,
        capture: Option<&super::capture::Capturer>,
    ) -> String {
        let mut out = String::new();
        out += "# HELP purchase_predict_requests_total Requests answered, by path and status.\n";
        out += "# TYPE purchase_predict_requests_total counter\n";
        for ((path, status), n) in self.requests.lock().expect("stats").iter() {
            out += &format!(
                "purchase_predict_requests_total{{path=\"{path}\",status=\"{status}\"}} {n}\n"
            );
        }
        out += "# HELP purchase_predict_invocation_seconds Time to answer /invocations.\n";
        out += "# TYPE purchase_predict_invocation_seconds histogram\n";
        let mut cumulative = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            cumulative += b.load(Ordering::Relaxed);
            let le = LATENCY_BUCKETS
                .get(i)
                .map(|x| x.to_string())
                .unwrap_or_else(|| "+Inf".into());
            out += &format!(
                "purchase_predict_invocation_seconds_bucket{{le=\"{le}\"}} {cumulative}\n"
            );
        }
        out += &format!(
            "purchase_predict_invocation_seconds_sum {}\n",
            self.latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9
        );
        out += &format!(
            "purchase_predict_invocation_seconds_count {}\n",
            self.latency_count.load(Ordering::Relaxed)
        );
        out += "# HELP purchase_predict_log_lines_dropped_total Request log lines dropped because the log's output could not keep up.\n";
        out += "# TYPE purchase_predict_log_lines_dropped_total counter\n";
        out += &format!(
            "purchase_predict_log_lines_dropped_total {}\n",
            crate::util::log::dropped_lines()
        );
        out += "# HELP purchase_predict_rows_scored_total Customers scored by /invocations.\n";
        out += "# TYPE purchase_predict_rows_scored_total counter\n";
        out += &format!(
            "purchase_predict_rows_scored_total {}\n",
            self.rows.load(Ordering::Relaxed)
        );
        out += "# HELP purchase_predict_model_loaded 1 once the model is loaded.\n";
        out += "# TYPE purchase_predict_model_loaded gauge\n";
        out += &format!("purchase_predict_model_loaded {}\n", u8::from(loaded));
        if let Some(capture) = capture {
            let n = capture.counts();
            out += "# HELP purchase_predict_captures_total Answered requests by what data capture did with them.\n";
            out += "# TYPE purchase_predict_captures_total counter\n";
            for (outcome, count) in [
                ("written", n.written),
                ("dropped", n.dropped),
                ("failed", n.failed),
                ("sampled_out", n.sampled_out),
            ] {
                out +=
                    &format!("purchase_predict_captures_total{{outcome=\"{outcome}\"}} {count}\n");
            }
            out += "# HELP purchase_predict_capture_files_total Capture files published.\n";
            out += "# TYPE purchase_predict_capture_files_total counter\n";
            out += &format!("purchase_predict_capture_files_total {}\n", n.files);
        }
        out
    }
}

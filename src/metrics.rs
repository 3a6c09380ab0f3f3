//! Metrics in the Prometheus text format (version 0.0.4), served at `/metrics`. Counters and
//! histograms are kept by the process as events happen (requests, jobs, seals, pages,
//! signatures, archive errors); gauges (queue depth, log size, the last fixity pass) are
//! read from the index when scraped. No client library: the format is a few lines of text
//! and the set of metrics is fixed, each named and described in `FAMILIES`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// Upper bounds of the duration histograms, in seconds: a fast request to a long OCR job.
const BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Histogram,
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
            Kind::Gauge => "gauge",
        }
    }
}

/// Every metric the service exposes: name, type and help line.
const FAMILIES: [(&str, Kind, &str); 13] = [
    ("sohoa_http_requests_total", Kind::Counter, "HTTP requests answered, by route, method and status."),
    ("sohoa_http_request_duration_seconds", Kind::Histogram, "Time to answer an HTTP request, by route."),
    ("sohoa_job_duration_seconds", Kind::Histogram, "Time from a job's queueing to its end, by kind and outcome."),
    ("sohoa_seal_duration_seconds", Kind::Histogram, "Time to seal one digitized copy, by outcome."),
    ("sohoa_ocr_pages_total", Kind::Counter, "Pages of recognised scans accepted from workers."),
    ("sohoa_signatures_total", Kind::Counter, "Signatures made or accepted, by kind (seal, official, deferred)."),
    ("sohoa_archive_errors_total", Kind::Counter, "Archive errors: the store failing (store), an object not its digest (corrupt)."),
    ("sohoa_jobs", Kind::Gauge, "Jobs in the queue, by kind and state."),
    ("sohoa_log_leaves", Kind::Gauge, "Leaves of the transparency log."),
    ("sohoa_fixity_objects", Kind::Gauge, "Objects of the last fixity pass, by outcome."),
    ("sohoa_fixity_last_run_timestamp_seconds", Kind::Gauge, "When the last fixity pass finished (Unix time)."),
    ("sohoa_up", Kind::Gauge, "1 while the service answers."),
    ("sohoa_duty_held", Kind::Gauge, "1 while this replica holds the lease of a singleton duty, by duty."),
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(Registry::default()));

fn owned(labels: &[(&'static str, &str)]) -> Labels {
    labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // a panic elsewhere while holding the lock leaves counts that are still counts
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds `by` to the counter `name` with `labels`.
pub fn count(name: &'static str, labels: &[(&'static str, &str)], by: u64) {
    *registry().counters.entry((name, owned(labels))).or_default() += by;
}

/// Records one observation of `took` in the histogram `name` with `labels`.
pub fn observe(name: &'static str, labels: &[(&'static str, &str)], took: Duration) {
    let seconds = took.as_secs_f64();
    let mut registry = registry();
    let h = registry.histograms.entry((name, owned(labels))).or_default();
    for (i, bound) in BUCKETS.iter().enumerate() {
        if seconds <= *bound {
            h.counts[i] += 1;
        }
    }
    h.count += 1;
    h.sum += seconds;
}

/// A job of `kind` ended with `outcome` (done, queued again, dead): the time since it was
/// queued at `queued_at_ms` (Unix ms).
pub fn job_ended(kind: &str, outcome: &str, queued_at_ms: i64) {
    let took = (chrono::Utc::now().timestamp_millis() - queued_at_ms).max(0) as u64;
    observe("sohoa_job_duration_seconds", &[("kind", kind), ("outcome", outcome)], Duration::from_millis(took));
}

static DUTIES: LazyLock<Mutex<BTreeMap<&'static str, bool>>> = LazyLock::new(|| Mutex::new(BTreeMap::new()));

/// Whether this process holds the lease of the singleton duty `name` now.
pub fn set_duty_held(name: &'static str, held: bool) {
    DUTIES.lock().unwrap_or_else(|e| e.into_inner()).insert(name, held);
}

/// The singleton duties this process asks for, and whether it holds each.
pub fn duties_held() -> Vec<(&'static str, bool)> {
    DUTIES.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(n, h)| (*n, *h)).collect()
}

/// A value read when the metrics are scraped.
pub struct Gauge {
    pub name: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

/// The text exposition of every family: what the process counted and `gauges`.
pub fn render(gauges: &[Gauge]) -> String {
    let registry = registry();
    let mut out = String::new();
    for (name, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {}", kind.as_str());
        match kind {
            Kind::Counter => {
                for ((_, labels), value) in registry.counters.range((name, Vec::new())..).take_while(|((n, _), _)| *n == name) {
                    let _ = writeln!(out, "{name}{} {value}", label_text(labels, None));
                }
            }
            Kind::Histogram => {
                for ((_, labels), h) in registry.histograms.range((name, Vec::new())..).take_while(|((n, _), _)| *n == name) {
                    for (bound, count) in BUCKETS.iter().zip(h.counts) {
                        let _ = writeln!(out, "{name}_bucket{} {count}", label_text(labels, Some(&bound.to_string())));
                    }
                    let _ = writeln!(out, "{name}_bucket{} {}", label_text(labels, Some("+Inf")), h.count);
                    let _ = writeln!(out, "{name}_sum{} {}", label_text(labels, None), h.sum);
                    let _ = writeln!(out, "{name}_count{} {}", label_text(labels, None), h.count);
                }
            }
            Kind::Gauge => {
                for gauge in gauges.iter().filter(|g| g.name == name) {
                    let _ = writeln!(out, "{name}{} {}", label_text(&gauge.labels, None), gauge.value);
                }
            }
        }
    }
    out
}

/// `{a="x",b="y"}` with `le` last for a bucket; empty without labels.
fn label_text(labels: &[(&'static str, String)], le: Option<&str>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// A label value as the format writes it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_histograms_and_gauges_are_written_in_the_text_format() {
        count("sohoa_archive_errors_total", &[("error", "a \"quoted\" value")], 2);
        observe("sohoa_seal_duration_seconds", &[("outcome", "sealed")], Duration::from_millis(30));
        observe("sohoa_seal_duration_seconds", &[("outcome", "sealed")], Duration::from_secs(7));
        let text = render(&[Gauge { name: "sohoa_log_leaves", labels: vec![], value: 12.0 }]);
        assert!(text.contains("sohoa_archive_errors_total{error=\"a \\\"quoted\\\" value\"} 2"), "{text}");
        // 30 ms falls in every bucket from 0.05 s up, 7 s from 10 s up
        assert!(text.contains("sohoa_seal_duration_seconds_bucket{outcome=\"sealed\",le=\"0.025\"} 0"), "{text}");
        assert!(text.contains("sohoa_seal_duration_seconds_bucket{outcome=\"sealed\",le=\"0.05\"} 1"), "{text}");
        assert!(text.contains("sohoa_seal_duration_seconds_bucket{outcome=\"sealed\",le=\"10\"} 2"), "{text}");
        assert!(text.contains("sohoa_seal_duration_seconds_bucket{outcome=\"sealed\",le=\"+Inf\"} 2"), "{text}");
        assert!(text.contains("sohoa_seal_duration_seconds_count{outcome=\"sealed\"} 2"), "{text}");
        assert!(text.contains("# TYPE sohoa_log_leaves gauge\nsohoa_log_leaves 12\n"), "{text}");
        // every family is described once, in order
        assert_eq!(text.matches("# TYPE ").count(), FAMILIES.len());
    }
}

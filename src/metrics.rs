//! Counters for `/metrics`, in the Prometheus text format. Plain atomics:
//! the hot paths (fan-out, socket writes) only ever add to them.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::atomic::{AtomicI64, AtomicU64, Ordering},
    time::Duration,
};

use parking_lot::Mutex;

/// Upper bounds, in seconds, of the HTTP latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Everything `/metrics` reports. One per process, shared by `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// WebSockets open now (authenticated).
    pub sockets_open: AtomicI64,
    /// SSE streams open now.
    pub sse_open: AtomicI64,
    /// Topic subscriptions held now, over all sockets and SSE streams.
    pub subscriptions: AtomicI64,
    /// Events committed by this process.
    pub events_recorded: AtomicU64,
    /// Event frames handed to subscribers' queues (live and replayed).
    pub events_delivered: AtomicU64,
    /// Frames of any type written to sockets and SSE streams.
    pub frames_sent: AtomicU64,
    /// Connections closed because their queue overflowed (4429).
    pub queue_overflows: AtomicU64,
    /// Sockets closed for silence (4408).
    pub heartbeat_closes: AtomicU64,
    /// Subscriptions that replayed events after `since`.
    pub replays: AtomicU64,
    /// Subscriptions answered with `resync`.
    pub resyncs: AtomicU64,
    /// Client frames refused by the rate limit.
    pub rate_limited: AtomicU64,
    http: Mutex<BTreeMap<(&'static str, String), Histogram>>,
}

/// The method label: the standard methods by name, anything else `OTHER`,
/// so a client inventing methods cannot grow the map.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// The route label. Page actions (server functions) share one label, and a
/// claim is counted with its item: the counters are for the operator, but
/// they still need not say that gifts are being claimed.
fn route_label(route: &str) -> &str {
    if route.starts_with("/api/fn/") {
        "/api/fn/{name}"
    } else if route == "/api/v1/items/{id}/claim" {
        "/api/v1/items/{id}"
    } else {
        route
    }
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records one HTTP request's latency under its method and route (the
    /// matched route pattern, never the raw path, so the labels are bounded).
    pub fn observe_http(&self, method: &str, route: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut http = self.http.lock();
        let histogram = http
            .entry((method_label(method), route_label(route).to_owned()))
            .or_default();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let gauges: [(&str, &str, &AtomicI64); 3] = [
            (
                "giftlist_ws_connections",
                "WebSockets open now.",
                &self.sockets_open,
            ),
            (
                "giftlist_sse_connections",
                "SSE streams open now.",
                &self.sse_open,
            ),
            (
                "giftlist_subscriptions",
                "Topic subscriptions held now.",
                &self.subscriptions,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let counters: [(&str, &str, &AtomicU64); 8] = [
            (
                "giftlist_events_recorded_total",
                "Events committed by this process.",
                &self.events_recorded,
            ),
            (
                "giftlist_events_delivered_total",
                "Event frames queued for subscribers.",
                &self.events_delivered,
            ),
            (
                "giftlist_frames_sent_total",
                "Frames written to sockets and SSE streams.",
                &self.frames_sent,
            ),
            (
                "giftlist_queue_overflows_total",
                "Connections closed with 4429 for a full queue.",
                &self.queue_overflows,
            ),
            (
                "giftlist_heartbeat_closes_total",
                "Sockets closed with 4408 for silence.",
                &self.heartbeat_closes,
            ),
            (
                "giftlist_replays_total",
                "Subscriptions that replayed missed events.",
                &self.replays,
            ),
            (
                "giftlist_resyncs_total",
                "Subscriptions answered with resync.",
                &self.resyncs,
            ),
            (
                "giftlist_rate_limited_total",
                "Client frames refused by the rate limit.",
                &self.rate_limited,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let name = "giftlist_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP request latency by route.\n# TYPE {name} histogram"
        );
        for ((method, route), histogram) in self.http.lock().iter() {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            for (count, bound) in histogram.buckets.iter().zip(LATENCY_BUCKETS) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", histogram.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", histogram.count);
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let metrics = Metrics::default();
        Metrics::inc(&metrics.resyncs);
        metrics.observe_http("GET", "/api/v1/lists/{id}", Duration::from_millis(3));
        metrics.observe_http("GET", "/api/v1/lists/{id}", Duration::from_millis(30));
        let text = metrics.render();
        assert!(text.contains("giftlist_resyncs_total 1\n"), "{text}");
        let labels = "method=\"GET\",route=\"/api/v1/lists/{id}\"";
        assert!(
            text.contains(&format!("_bucket{{{labels},le=\"0.005\"}} 1\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("_bucket{{{labels},le=\"0.05\"}} 2\n")),
            "{text}"
        );
        assert!(text.contains(&format!("_count{{{labels}}} 2\n")), "{text}");
    }

    #[test]
    fn labels_are_bounded_and_say_nothing_of_claims() {
        let metrics = Metrics::default();
        for method in ["R4ND0M_1", "R4ND0M_2", "BREW"] {
            metrics.observe_http(method, "fallback", Duration::from_millis(1));
        }
        metrics.observe_http("POST", "/api/fn/claim", Duration::from_millis(1));
        metrics.observe_http("POST", "/api/fn/add_item", Duration::from_millis(1));
        metrics.observe_http("POST", "/api/v1/items/{id}/claim", Duration::from_millis(1));
        let text = metrics.render();
        assert!(
            text.contains("method=\"OTHER\",route=\"fallback\",le=\"+Inf\"} 3"),
            "{text}"
        );
        assert!(!text.contains("R4ND0M"), "{text}");
        assert!(!text.contains("claim"), "{text}");
        assert_eq!(metrics.http.lock().len(), 3);
    }
}

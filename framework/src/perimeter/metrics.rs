//! The metrics (see [the observability guide](crate::docs::observability)):
//! the process's Prometheus recorder, what [`Observe`](super::observe::Observe)
//! records per request, the gauges read at each scrape, and `GET /metrics`.
//!
//! The recorder is `metrics`' global one, installed once per process (the
//! first app built installs it; the apps a test process builds share it), so
//! what an application records with `metrics::counter!` and the like is on
//! `/metrics` too.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fw_core::access::Access;
use metrics::{Gauge, Label, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde_json::{Value as Json, json};

use crate::caller::Caller;
use crate::changes::LiveTails;
use crate::db::Db;
use crate::rest::{Api, ApiError};

/// The permission `GET /metrics` on the main listener requires.
pub(crate) const VIEW_METRICS: &str = "view_metrics";

/// Where the metrics are served.
const METRICS_PATH: &str = "/metrics";

/// Requests answered, by method, route and status.
const REQUESTS: &str = "http_requests_total";
/// Seconds from a request's arrival to its response's head.
const DURATION: &str = "http_request_duration_seconds";
/// Requests being answered now.
const IN_FLIGHT: &str = "http_requests_in_flight";
const POOL_CONNECTIONS: &str = "db_pool_connections";
const POOL_MAX_CONNECTIONS: &str = "db_pool_max_connections";
const CHANGE_LOG_HEAD: &str = "change_log_head";
const CHANGE_LOG_PENDING: &str = "change_log_pending";
const LIVE_TAILS: &str = "change_log_live_tails";
const SLOWEST_TAIL_LAG: &str = "change_log_slowest_tail_lag";

/// The duration histogram's buckets, in seconds: an API's answers, from a
/// millisecond (a cached read) to ten seconds (past any sane request).
const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder's histograms are drained into their buckets:
/// recorded samples wait in memory until then, so this bounds the memory
/// they take between scrapes (and when nothing scrapes).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The `Content-Type` of Prometheus' text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The process's Prometheus handle, installing the recorder the first time.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(install)
}

fn install() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), &DURATION_BUCKETS)
        .expect("the buckets are not empty")
        .build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!(
            "another `metrics` recorder was installed before fw's: the metrics go to it, and \
             `/metrics` shows none"
        );
    }
    describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("fw-metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(
            %error,
            "cannot start the metrics' upkeep thread: request durations are kept in memory \
             until `/metrics` is scraped"
        );
    }
    handle
}

/// The `# HELP` lines.
fn describe() {
    metrics::describe_counter!(REQUESTS, "Requests answered, by method, route and status.");
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time from a request's arrival to its response's head, by method, route and status."
    );
    metrics::describe_gauge!(IN_FLIGHT, "Requests being answered now.");
    metrics::describe_gauge!(
        POOL_CONNECTIONS,
        "Open database connections, by pool and state (idle or in use)."
    );
    metrics::describe_gauge!(
        POOL_MAX_CONNECTIONS,
        "The most connections each database pool opens."
    );
    metrics::describe_gauge!(
        CHANGE_LOG_HEAD,
        "The change log's last sequence number handed out."
    );
    metrics::describe_gauge!(
        CHANGE_LOG_PENDING,
        "Committed change records waiting for their sequence numbers (PostgreSQL)."
    );
    metrics::describe_gauge!(
        LIVE_TAILS,
        "Open live tails of the change log (/changes/stream)."
    );
    metrics::describe_gauge!(
        SLOWEST_TAIL_LAG,
        "Changes the slowest open live tail has yet to send (0 with none open)."
    );
}

/// The in-flight gauge, registered once.
fn in_flight() -> &'static Gauge {
    static IN_FLIGHT_GAUGE: OnceLock<Gauge> = OnceLock::new();
    IN_FLIGHT_GAUGE.get_or_init(|| {
        handle();
        metrics::gauge!(IN_FLIGHT)
    })
}

/// A request counted in flight until this drops: when its response is
/// ready, or when it is abandoned (the client went away, the request timed
/// out).
#[derive(Debug)]
pub(crate) struct InFlight(());

impl InFlight {
    pub(crate) fn start() -> InFlight {
        in_flight().increment(1.0);
        InFlight(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        in_flight().decrement(1.0);
    }
}

/// Counts a request answered with `status` after `latency`, and its
/// duration, under `route` (a template or a fixed value, never a concrete
/// path).
pub(crate) fn record_request(
    method: &Method,
    route: SharedString,
    status: StatusCode,
    latency: Duration,
) {
    let labels = vec![
        Label::from_static_parts("method", method_label(method)),
        Label::new("route", route),
        Label::from_static_parts("status", status_label(status)),
    ];
    metrics::counter!(REQUESTS, labels.clone()).increment(1);
    metrics::histogram!(DURATION, labels).record(latency.as_secs_f64());
}

/// `method`'s label: its name for the standard methods, `other` for the
/// rest, so that made-up methods cannot grow the metrics without bound.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The three digits of every status code, 100 to 999, one after another.
const STATUS_DIGITS: [u8; 2700] = {
    let mut digits = [0; 2700];
    let mut code = 100;
    while code < 1000 {
        let at = (code - 100) * 3;
        digits[at] = b'0' + (code / 100) as u8;
        digits[at + 1] = b'0' + (code / 10 % 10) as u8;
        digits[at + 2] = b'0' + (code % 10) as u8;
        code += 1;
    }
    digits
};

/// [`STATUS_DIGITS`] as text, checked when compiling.
static STATUS_TEXT: &str = match std::str::from_utf8(&STATUS_DIGITS) {
    Ok(text) => text,
    Err(_) => panic!("status codes are digits"),
};

/// `status`'s label, its three digits, without making a string per request.
fn status_label(status: StatusCode) -> &'static str {
    let at = usize::from(status.as_u16() - 100) * 3;
    &STATUS_TEXT[at..at + 3]
}

/// What a scrape reads besides the recorded metrics: the database pools,
/// and, for an app whose models record changes, the change log's head, its
/// records waiting for positions and its live tails. A scrape only reads:
/// giving waiting records their positions is the sequencers' work.
#[derive(Debug, Clone)]
pub(crate) struct Scrape {
    db: Db,
    change_log: bool,
    tails: LiveTails,
}

impl Scrape {
    /// The scrape of `db`; `change_log` when the app's models record
    /// changes, whose live tails are `tails`.
    pub(crate) fn new(db: Db, change_log: bool, tails: LiveTails) -> Scrape {
        Scrape {
            db,
            change_log,
            tails,
        }
    }

    /// The live tails the change log's stream registers with.
    pub(crate) fn tails(&self) -> &LiveTails {
        &self.tails
    }

    /// Every metric in Prometheus' text format, the gauges read now.
    async fn render(&self) -> String {
        let handle = handle();
        for pool in self.db.pool_states() {
            let in_use = pool.open.saturating_sub(pool.idle);
            metrics::gauge!(POOL_CONNECTIONS, "pool" => pool.name, "state" => "idle")
                .set(f64::from(pool.idle));
            metrics::gauge!(POOL_CONNECTIONS, "pool" => pool.name, "state" => "in_use")
                .set(f64::from(in_use));
            metrics::gauge!(POOL_MAX_CONNECTIONS, "pool" => pool.name).set(f64::from(pool.max));
        }
        if self.change_log {
            match crate::changes::standing(&self.db).await {
                Ok(standing) => {
                    let (open, slowest) = self.tails.slowest();
                    let lag = slowest.map_or(0, |slowest| (standing.head - slowest).max(0));
                    metrics::gauge!(CHANGE_LOG_HEAD).set(standing.head as f64);
                    if let Some(pending) = standing.pending {
                        metrics::gauge!(CHANGE_LOG_PENDING).set(pending as f64);
                    }
                    metrics::gauge!(LIVE_TAILS).set(open as f64);
                    metrics::gauge!(SLOWEST_TAIL_LAG).set(lag as f64);
                }
                // The request metrics are still worth a scrape.
                Err(error) => {
                    tracing::warn!(%error, "cannot read the change log's head for the metrics");
                }
            }
        }
        handle.render()
    }

    async fn response(&self) -> Response {
        let mut response = self.render().await.into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
        response
    }
}

/// `GET /metrics` for the main listener: callers holding [`VIEW_METRICS`]
/// only (401 without credentials, 403 without the permission).
pub(crate) fn protected_routes(scrape: Scrape) -> Router {
    Router::new().route(
        METRICS_PATH,
        get(move |caller: Caller| {
            let scrape = scrape.clone();
            async move {
                caller.require(Access::Permission(VIEW_METRICS))?;
                Ok::<_, ApiError>(scrape.response().await)
            }
        }),
    )
}

/// `GET /metrics` for `FW_METRICS_LISTEN`'s listener: anyone who reaches the
/// address.
pub(crate) fn open_routes(scrape: Scrape) -> Router {
    Router::new().route(
        METRICS_PATH,
        get(move || {
            let scrape = scrape.clone();
            async move { scrape.response().await }
        }),
    )
}

/// Documents `GET /metrics` in `api`'s OpenAPI document.
pub(crate) fn document(api: Api) -> Api {
    api.document_path(
        METRICS_PATH,
        Access::Permission(VIEW_METRICS),
        metrics_operation,
    )
}

fn metrics_operation() -> Json {
    json!({"get": {
        "operationId": "metrics",
        "tags": ["metrics"],
        "summary": "The server's metrics, in Prometheus' text format.",
        "responses": {
            "200": {
                "description": "Every metric of this process: request counts and durations by route template and status, requests in flight, database pools, the change log's head and live tails.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
        },
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The separate listener's `/metrics` answers anyone: what reaches its
    /// address is trusted.
    #[tokio::test]
    async fn the_separate_listener_s_metrics_are_open() {
        use tower::ServiceExt as _;
        let test_db = crate::testing::TestDb::sqlite().await;
        let scrape = Scrape::new(test_db.db().clone(), false, LiveTails::default());
        let request = axum::http::Request::get(METRICS_PATH)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = open_routes(scrape).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.contains("db_pool_max_connections{pool=\"write\"} 1"),
            "{text}"
        );
    }

    #[test]
    fn status_labels_are_the_code_s_digits() {
        for code in [100, 200, 204, 404, 429, 503, 999] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(status_label(status), code.to_string());
        }
    }
}

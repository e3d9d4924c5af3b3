//! The baseline's access log and request metrics, as an engineer adds them
//! to an axum app: a `from_fn` middleware on every route (where axum's
//! `MatchedPath` is known), a `tracing` line and `metrics` counters through
//! the Prometheus exporter, the same crates and the same work as fw's
//! outermost layer: a request id (kept or made, echoed), the in-flight
//! gauge, the counter and the duration histogram by method, route and
//! status, one line per request. The logging and the recorder are set up as
//! fw sets up its own (`FW_LOG`, `FW_LOG_FORMAT`, the same buckets, drained
//! every 5 seconds).

use std::time::{Duration, Instant};

use axum::body::HttpBody as _;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use uuid::Uuid;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const DURATION_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs the log subscriber and the metrics recorder, once per process.
pub(super) fn install() -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var("FW_LOG").unwrap_or_else(|_| "info".to_owned());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(filter)?)
        .with_writer(std::io::stderr);
    let json = std::env::var("FW_LOG_FORMAT").is_ok_and(|format| format == "json");
    let installed = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the log subscriber: {error}"))?;
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".to_owned()),
            &DURATION_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)?;
    std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                handle.run_upkeep();
            }
        })?;
    Ok(())
}

/// Times the request, gives it an id, logs its line and counts it.
pub(super) async fn observe(matched: MatchedPath, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let in_flight = metrics::gauge!("http_requests_in_flight");
    in_flight.increment(1.0);
    let request_id = match request.headers().get(&REQUEST_ID) {
        Some(sent) if !sent.is_empty() && sent.len() <= 200 && sent.to_str().is_ok() => {
            sent.clone()
        }
        _ => {
            let made = HeaderValue::from_str(&Uuid::now_v7().to_string())
                .unwrap_or(HeaderValue::from_static("-"));
            request
                .headers_mut()
                .insert(REQUEST_ID.clone(), made.clone());
            made
        }
    };
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let latency = started.elapsed();
    let status = response.status();
    tracing::info!(
        target: "access",
        method = %method,
        route = matched.as_str(),
        status = status.as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        bytes = response.body().size_hint().exact(),
        request_id = request_id.to_str().unwrap_or_default(),
        "request"
    );
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", matched.as_str().to_owned()),
        ("status", status.as_str().to_owned()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(latency.as_secs_f64());
    in_flight.decrement(1.0);
    response
        .headers_mut()
        .insert(REQUEST_ID.clone(), request_id);
    response
}

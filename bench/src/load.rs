//! The load generator: a fixed number of keep-alive connections, each sending
//! one request at a time (closed loop), bounded both in time and in count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::client::{Connection, Request};
use crate::data::DataSize;
use crate::scenario::Scenario;

/// Limits of one load run.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Stop starting requests after this long.
    pub duration: Duration,
    /// Never send more than this many requests.
    pub max_requests: u64,
    /// Concurrent connections.
    pub connections: usize,
}

/// What one load run measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Latency of each request, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// The first request index the run did not use: the next run starts there, so
    /// every create carries a new announcement id.
    pub next_index: u64,
}

impl Sample {
    /// Adds another run's measurements.
    pub fn merge(&mut self, other: Sample) {
        self.latencies_us.extend(other.latencies_us);
        self.elapsed += other.elapsed;
        self.next_index = self.next_index.max(other.next_index);
    }

    /// Requests per second.
    pub fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `quantile` (0..=1) latency in milliseconds.
    pub fn latency_ms(&self, quantile: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() - 1) as f64 * quantile).round() as usize;
        f64::from(sorted[rank]) / 1000.0
    }
}

/// Sends requests `first_index..` of `scenario` to `address` within `bounds`,
/// each with `authorization` as its `Authorization` header. Every response must
/// have the scenario's success status.
///
/// # Errors
///
/// When a connection fails or a response has another status.
pub async fn drive(
    address: SocketAddr,
    authorization: &str,
    scenario: Scenario,
    size: DataSize,
    first_index: u64,
    bounds: Bounds,
) -> anyhow::Result<Sample> {
    drive_requests(
        address,
        authorization,
        move |index| scenario.request(size, index),
        scenario.expected_status(),
        first_index,
        bounds,
    )
    .await
}

/// Sends `request(first_index)`, `request(first_index + 1)`, ... to `address`
/// within `bounds`, each with `authorization` as its `Authorization` header.
/// Every response must have `expected_status`.
///
/// # Errors
///
/// When a connection fails or a response has another status.
pub async fn drive_requests(
    address: SocketAddr,
    authorization: &str,
    request: impl Fn(u64) -> Request + Send + Sync + 'static,
    expected_status: u16,
    first_index: u64,
    bounds: Bounds,
) -> anyhow::Result<Sample> {
    let request = Arc::new(request);
    let next = Arc::new(AtomicU64::new(first_index));
    let last = first_index + bounds.max_requests;
    let started = Instant::now();
    let deadline = started + bounds.duration;
    let authorization: Arc<str> = authorization.into();
    let mut tasks = Vec::new();
    for _ in 0..bounds.connections.max(1) {
        let next = next.clone();
        let authorization = authorization.clone();
        let make_request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(address, Some(&authorization)).await?;
            let mut latencies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= last || Instant::now() >= deadline {
                    return anyhow::Ok(latencies);
                }
                let request = make_request(index);
                let sent = Instant::now();
                let response = connection.send(&request).await?;
                let latency = sent.elapsed();
                if response.status != expected_status {
                    bail!(
                        "{} {} answered {}: {}",
                        request.method,
                        request.path,
                        response.status,
                        String::from_utf8_lossy(&response.body)
                    );
                }
                latencies.push(u32::try_from(latency.as_micros()).unwrap_or(u32::MAX));
            }
        }));
    }
    let mut sample = Sample::default();
    for task in tasks {
        sample.latencies_us.extend(task.await??);
    }
    sample.elapsed = started.elapsed();
    sample.next_index = next.load(Ordering::Relaxed);
    Ok(sample)
}

//! fw's performance benchmarks: the dividends example against a hand-written
//! axum + sqlx server over the same schema and data.
//!
//! `cargo run --release -p fw-bench -- run` seeds one database per server,
//! starts each server in a child process of its own and drives them alternately
//! through the scenarios, printing throughput, latency, peak memory and the
//! fw / baseline ratios. `run --smoke` is the CI variant: tiny data, a few
//! requests, and a check that both servers answer alike. `changelog-cost`
//! measures what the change log adds to a write. See BENCHMARKS.md.

pub mod baseline;
pub mod changelog_cost;
pub mod client;
pub mod data;
pub mod load;
pub mod run;
pub mod scenario;
pub mod server;

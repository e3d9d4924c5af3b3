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

/// How a benchmark target was started. `cargo bench` passes `--bench` (and the
/// arguments after `--`): measure. `cargo test --all-targets` runs each
/// benchmark target once without it: check that it works, quickly and without
/// timing anything, as the CI smoke run.
#[derive(Debug)]
pub enum Invocation<Options> {
    /// Under `cargo bench`, with the options parsed from the command line.
    Measure(Options),
    /// Under `cargo test`; the command line (the test harness's) is ignored.
    Check,
}

impl<Options: clap::Parser> Invocation<Options> {
    /// Reads the process's command line. Under `cargo bench`, bad options print
    /// clap's usage and exit.
    pub fn from_args() -> Invocation<Options> {
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let Some(flag) = args.iter().position(|arg| arg == "--bench") else {
            return Invocation::Check;
        };
        args.remove(flag);
        Invocation::Measure(Options::parse_from(args))
    }
}

//! fw's performance benchmarks: the dividends example against a hand-written
//! axum + sqlx server over the same schema and data.
//!
//! The benchmark targets run them: `cargo bench -p fw-bench --bench servers`
//! seeds one database per server, starts each server from its own executable
//! (`server-fw`, `server-baseline`) and drives them alternately through the
//! scenarios, printing throughput, latency, peak memory and the fw / baseline
//! ratios; `--bench changelog-cost` measures what the change log adds to a
//! write; `--bench sensitive-cost` what sensitive fields add to a create and
//! a retrieve; `--bench login-timing` compares failed logins for existing and
//! unknown users; `--bench deep-pages` compares a list's first page with pages
//! deep in a million rows; `--bench version-cost` what serving an older API
//! version costs. Under `cargo test` each target is the CI smoke run instead (see
//! [`bench_main`]). See BENCHMARKS.md.

pub mod baseline;
pub mod changelog_cost;
pub mod client;
pub mod data;
pub mod deep_pages;
pub mod load;
pub mod login_timing;
pub mod run;
pub mod scenario;
pub mod sensitive_cost;
pub mod server;
pub mod version_cost;

/// A benchmark target's `main`, on `runtime`. `cargo bench` passes `--bench`
/// (and the arguments after `--`): `measure` runs with the options parsed from
/// them, and bad options print clap's usage and exit. `cargo test --all-targets`
/// runs each benchmark target once without it, with the test harness's
/// arguments, which are ignored: `check` runs, quickly and without timing
/// anything, as the CI smoke run. An error is printed and fails the process.
pub fn bench_main<Options, Measure, Check>(
    runtime: tokio::runtime::Runtime,
    measure: impl FnOnce(Options) -> Measure,
    check: impl FnOnce() -> Check,
) -> std::process::ExitCode
where
    Options: clap::Parser,
    Measure: Future<Output = anyhow::Result<()>>,
    Check: Future<Output = anyhow::Result<()>>,
{
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = match args.iter().position(|arg| arg == "--bench") {
        Some(flag) => {
            args.remove(flag);
            runtime.block_on(measure(Options::parse_from(args)))
        }
        None => runtime.block_on(check()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

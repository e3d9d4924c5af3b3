//! The dividends example against the hand-written axum + sqlx baseline (see
//! BENCHMARKS.md).
//!
//! `cargo bench -p fw-bench --bench servers [-- --db sqlite|postgres] [--duration 6]
//! [--connections 16] [--rounds 3] [--scenarios retrieve,list,upcoming,create]`
//! seeds one database per server, starts each server from its own executable
//! and drives them alternately through the scenarios, printing throughput,
//! latency, peak memory, CPU per request and the fw / baseline ratios. With
//! the create among the scenarios a third server runs for it, the log-free
//! baseline (the baseline whose creates write no change record), and the
//! create has fw / log-free ratios too.
//!
//! `--connections` takes a list: `-- --db postgres --scenarios create
//! --connections 1,8,32,64` measures the creates at each count, on one set of
//! databases and servers, and ends with a table of each server's creates per
//! second by connection count and fw's ratios to both baselines.
//!
//! Under `cargo test` it is the smoke run on both databases instead: tiny data, a
//! few requests per scenario, the same status, JSON and change records required
//! of fw and the baseline, the same creates' answers and no change record of
//! the log-free baseline; nothing is timed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::run::{RunOptions, create_sweep, run, smoke};
use fw_bench::scenario::Scenario;
use fw_bench::server::Executables;

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "servers")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Measured seconds per scenario and server.
    #[arg(long, default_value_t = 6)]
    duration: u64,
    /// Concurrent connections of the load generator; several, comma-separated,
    /// measure every scenario at each.
    #[arg(long, value_delimiter = ',', default_values_t = [16])]
    connections: Vec<usize>,
    /// Alternating rounds per scenario.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// The scenarios to measure, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = scenario,
        default_values = Scenario::ALL.map(Scenario::name),
    )]
    scenarios: Vec<Scenario>,
}

/// A scenario by its name.
fn scenario(name: &str) -> Result<Scenario, String> {
    Scenario::ALL
        .into_iter()
        .find(|scenario| scenario.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.map(Scenario::name).into();
            format!("expected one of {}", names.join(", "))
        })
}

/// This package's server binaries, which cargo builds for its benchmarks.
fn executables() -> Executables<'static> {
    Executables {
        fw: Path::new(env!("CARGO_BIN_EXE_server-fw")),
        baseline: Path::new(env!("CARGO_BIN_EXE_server-baseline")),
    }
}

fn main() -> ExitCode {
    // The load generator gets one thread: the servers and the database need the
    // rest of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    bench_main(
        runtime,
        |options: Options| async move {
            for engine in options.databases.engines() {
                let reports = run(
                    executables(),
                    RunOptions {
                        engine,
                        duration: Duration::from_secs(options.duration),
                        connections: options.connections.clone(),
                        rounds: options.rounds,
                        scenarios: options.scenarios.clone(),
                    },
                )
                .await?;
                for report in &reports {
                    println!("{}", report.table());
                }
                if let Some(sweep) = create_sweep(&reports) {
                    println!("{sweep}");
                }
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                smoke(executables(), engine).await?;
                println!(
                    "smoke {}: fw and both baselines answered alike",
                    engine.name()
                );
            }
            Ok(())
        },
    )
}

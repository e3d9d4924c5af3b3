//! The dividends example against the hand-written axum + sqlx baseline (see
//! BENCHMARKS.md).
//!
//! `cargo bench -p fw-bench --bench servers [-- --db sqlite|postgres] [--duration 6]
//! [--connections 16] [--rounds 3]` seeds one database per server, starts each
//! server from its own executable and drives them alternately through the
//! scenarios, printing throughput, latency, peak memory, CPU per request and the
//! fw / baseline ratios.
//!
//! Under `cargo test` it is the smoke run on both databases instead: tiny data, a
//! few requests per scenario, the same status, JSON and change records required
//! of both servers; nothing is timed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::run::{RunOptions, run, smoke};
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
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Alternating rounds per scenario.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
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
                let report = run(
                    executables(),
                    RunOptions {
                        engine,
                        duration: Duration::from_secs(options.duration),
                        connections: options.connections,
                        rounds: options.rounds,
                    },
                )
                .await?;
                println!("{}", report.table());
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                smoke(executables(), engine).await?;
                println!("smoke {}: both servers answered alike", engine.name());
            }
            Ok(())
        },
    )
}

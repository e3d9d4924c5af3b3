//! Deep pages of the dividends example's list against its first page, fw and
//! the hand-written baseline side by side (see BENCHMARKS.md, "Deep pages").
//!
//! `cargo bench -p fw-bench --bench deep-pages [-- --db sqlite|postgres]
//! [--duration 6] [--connections 16] [--rounds 3]` seeds a million dividends
//! per server (in bulk, by one SQL statement), checks that both servers answer
//! each page alike and as `OFFSET` finds it, and drives them alternately
//! through the first page, page 200 and the middle page, printing throughput,
//! latency, CPU per request, each page's throughput over the first page's and
//! the fw / baseline ratios.
//!
//! Under `cargo test` it is the smoke run on both databases instead: a few
//! hundred dividends and the same checks; nothing is timed.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::deep_pages::{DeepPageOptions, measure, smoke};
use fw_bench::server::Executables;

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "deep-pages")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Measured seconds per page and server.
    #[arg(long, default_value_t = 6)]
    duration: u64,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Alternating rounds per page.
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
                let report = measure(
                    executables(),
                    DeepPageOptions {
                        engine,
                        duration: Duration::from_secs(options.duration),
                        connections: options.connections,
                        rounds: options.rounds,
                    },
                )
                .await?;
                println!("{report}");
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                smoke(executables(), engine).await?;
                println!(
                    "smoke {}: both servers answered every page alike and as OFFSET finds it",
                    engine.name()
                );
            }
            Ok(())
        },
    )
}

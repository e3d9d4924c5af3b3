//! What a sensitive field costs (see BENCHMARKS.md):
//! `cargo bench -p fw-bench --bench sensitive-cost [-- --db sqlite|postgres]
//! [--rows 2000] [--rounds 3]` creates the same rows through fw in a model
//! with sensitive fields and in one without, then retrieves each by key,
//! alternately, and prints operations per second and the ratios.
//!
//! Under `cargo test` it writes and reads a few rows on both databases and
//! checks that each read gives back what was written; nothing is timed.

use std::process::ExitCode;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::sensitive_cost::measure;

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "sensitive-cost")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Rows per model and round (each created, then retrieved).
    #[arg(long, default_value_t = 2000)]
    rows: u32,
    /// Alternating rounds.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    bench_main(
        runtime,
        |options: Options| async move {
            for engine in options.databases.engines() {
                println!("{}", measure(engine, options.rows, options.rounds).await?);
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                let report = measure(engine, 5, 2).await?;
                anyhow::ensure!(
                    report.rows == 10,
                    "{} rows on {}, 10 expected",
                    report.rows,
                    engine.name()
                );
                println!("{report}");
            }
            Ok(())
        },
    )
}

//! What the change log costs a write (see BENCHMARKS.md):
//! `cargo bench -p fw-bench --bench changelog-cost [-- --db sqlite|postgres]
//! [--rows 2000] [--rounds 3]` writes the same rows through fw to a model with
//! the change log and to one without, alternately, and prints writes per second
//! and the ratio.
//!
//! Under `cargo test` it writes a few rows on both databases and checks that
//! every write was made; nothing is timed.

use std::process::ExitCode;

use fw_bench::bench_main;
use fw_bench::changelog_cost::measure;
use fw_bench::data::{Engine, EngineChoice};

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "changelog-cost")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Rows per model and round (each an insert and an update).
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
                // 5 rows, each inserted and updated, in 2 rounds.
                anyhow::ensure!(
                    report.writes == 20,
                    "{} writes made on {}, 20 expected",
                    report.writes,
                    engine.name()
                );
                println!("{report}");
            }
            Ok(())
        },
    )
}

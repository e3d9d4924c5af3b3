//! What the change log costs a write (see BENCHMARKS.md):
//! `cargo bench -p fw-bench --bench changelog-cost [-- --db sqlite|postgres]
//! [--writers 1,8,32,64] [--rows 4000] [--rounds 3]` creates the same rows
//! through fw in a model with the change log and in one without, alternately,
//! by each number of concurrent writers, and prints creates per second and
//! the ratio.
//!
//! Under `cargo test` it creates a few rows on both databases by one and by
//! eight writers and checks that every create was made and logged; nothing is
//! timed.

use std::process::ExitCode;

use fw_bench::bench_main;
use fw_bench::changelog_cost::{WRITERS, measure};
use fw_bench::data::{Engine, EngineChoice};

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "changelog-cost")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// The numbers of concurrent writers to measure, each a connection of its
    /// own on PostgreSQL.
    #[arg(long, value_delimiter = ',', default_values_t = WRITERS)]
    writers: Vec<usize>,
    /// Creates per model and round, shared among the writers.
    #[arg(long, default_value_t = 4000)]
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
                let reports =
                    measure(engine, &options.writers, options.rows, options.rounds).await?;
                for report in reports {
                    println!("{report}");
                }
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                // 8 rows by 1 writer, then by 8 writers, in 2 rounds.
                for report in measure(engine, &[1, 8], 8, 2).await? {
                    anyhow::ensure!(
                        report.creates == 16,
                        "{} creates made on {} by {} writers, 16 expected",
                        report.creates,
                        engine.name(),
                        report.writers
                    );
                    println!("{report}");
                }
            }
            Ok(())
        },
    )
}

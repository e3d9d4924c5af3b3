//! What serving an older API version costs (see BENCHMARKS.md):
//! `cargo bench -p fw-bench --bench version-cost [-- --db sqlite|postgres]
//! [--requests 2000] [--rounds 3]` sends the same retrieves and list pages
//! through an app's router in-process, in the newest version, one change
//! back and five changes back, alternately, and prints requests per second
//! and the ratios to the newest.
//!
//! Under `cargo test` it sends a few of each on both databases and checks
//! each answer's shape in its version; nothing is timed.

use std::process::ExitCode;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::version_cost::measure;

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "version-cost")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Requests per operation, version and round.
    #[arg(long, default_value_t = 2000)]
    requests: u32,
    /// Rounds, each version first in turn.
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
                print!(
                    "{}",
                    measure(engine, options.requests, options.rounds).await?
                );
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                print!("{}", measure(engine, 5, 1).await?);
            }
            Ok(())
        },
    )
}

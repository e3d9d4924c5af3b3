//! `fw-bench run [--db sqlite|postgres] [--duration S] [--connections N] [--smoke]`,
//! and `fw-bench serve fw|baseline`, which `run` starts as child processes.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use fw_bench::data::Engine;
use fw_bench::run::{RunOptions, run, smoke};
use fw_bench::server::{Implementation, serve};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// fw's benchmarks: the dividends example against a hand-written axum + sqlx
/// baseline.
#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seeds the data, starts both servers and drives them alternately.
    Run {
        /// The databases to run on; repeat for both (default: both).
        #[arg(long = "db", value_enum)]
        engines: Vec<Engine>,
        /// Measured seconds per scenario and server.
        #[arg(long, default_value_t = 6)]
        duration: u64,
        /// Concurrent connections of the load generator.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Alternating rounds per scenario.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
        /// Tiny data and a few requests: checks that both servers work and answer
        /// alike; measures nothing.
        #[arg(long)]
        smoke: bool,
    },
    /// Measures the same writes through fw with the change log off and on.
    ChangelogCost {
        /// The databases to run on; repeat for both (default: both).
        #[arg(long = "db", value_enum)]
        engines: Vec<Engine>,
        /// Rows per model and round (each an insert and an update).
        #[arg(long, default_value_t = 2000)]
        rows: u32,
        /// Alternating rounds.
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    /// Serves one implementation (`DATABASE_URL`, `FW_LISTEN`) until killed.
    Serve {
        /// Which server.
        #[arg(value_enum)]
        implementation: Implementation,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { implementation } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            match runtime.block_on(serve(implementation)) {
                Ok(code) => code,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::ChangelogCost {
            engines,
            rows,
            rounds,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let engines = if engines.is_empty() {
                vec![Engine::Sqlite, Engine::Postgres]
            } else {
                engines
            };
            let result = runtime.block_on(async {
                for engine in engines {
                    let report = fw_bench::changelog_cost::measure(engine, rows, rounds).await?;
                    println!("{report}");
                }
                anyhow::Ok(())
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            engines,
            duration,
            connections,
            rounds,
            smoke: smoke_only,
        } => {
            // The load generator gets one thread: the servers and the database
            // need the rest of the machine.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            let engines = if engines.is_empty() {
                vec![Engine::Sqlite, Engine::Postgres]
            } else {
                engines
            };
            let result = runtime.block_on(async {
                let exe = std::env::current_exe()?;
                for engine in engines {
                    if smoke_only {
                        smoke(&exe, engine).await?;
                        println!("smoke {}: both servers answered alike", engine.name());
                    } else {
                        let report = run(
                            &exe,
                            RunOptions {
                                engine,
                                duration: Duration::from_secs(duration),
                                connections,
                                rounds,
                            },
                        )
                        .await?;
                        println!("{}", report.table());
                    }
                }
                anyhow::Ok(())
            });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

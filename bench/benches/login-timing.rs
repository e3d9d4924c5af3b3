//! Whether a failed login's duration tells which usernames exist (see
//! BENCHMARKS.md): `cargo bench -p fw-bench --bench login-timing [-- --db
//! sqlite|postgres] [--pairs 100]` sends `POST /auth/login` to an app's router
//! in-process, with a wrong password for an existing user and with an unknown
//! username in turn, and prints both kinds' medians and their ratio beside the
//! noise of one kind against itself.
//!
//! Under `cargo test` it runs a few pairs on both databases and checks that
//! every failed login is the same 401; nothing is judged by time.

use std::process::ExitCode;

use fw_bench::bench_main;
use fw_bench::data::{Engine, EngineChoice};
use fw_bench::login_timing::measure;

/// Options of a measured run.
#[derive(Debug, clap::Parser)]
#[command(name = "login-timing")]
struct Options {
    #[command(flatten)]
    databases: EngineChoice,
    /// Failed logins of each kind.
    #[arg(long, default_value_t = 100)]
    pairs: u32,
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
                println!("{}\n", measure(engine, options.pairs).await?);
            }
            Ok(())
        },
        || async {
            for engine in Engine::ALL {
                println!("{}\n", measure(engine, 3).await?);
            }
            Ok(())
        },
    )
}

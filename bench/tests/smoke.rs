//! The benchmark's smoke run, on both databases: both servers start, serve every
//! scenario, answer the same requests with the same status and JSON, and record
//! the same creates in the change log. Nothing here is timed.

use std::path::Path;

use fw_bench::data::Engine;

fn server_exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fw-bench"))
}

#[tokio::test(flavor = "multi_thread")]
async fn fw_and_baseline_answer_alike_on_sqlite() {
    if let Err(error) = fw_bench::run::smoke(server_exe(), Engine::Sqlite).await {
        panic!("{error:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fw_and_baseline_answer_alike_on_postgres() {
    if let Err(error) = fw_bench::run::smoke(server_exe(), Engine::Postgres).await {
        panic!("{error:#}");
    }
}

/// The change-log cost measurement runs (its figures are for BENCHMARKS.md,
/// never asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changelog_cost_runs_on_both_databases() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let report = fw_bench::changelog_cost::measure(engine, 5, 2)
            .await
            .expect("measure");
        assert_eq!(report.writes, 20);
    }
}

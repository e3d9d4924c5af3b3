//! The daily-file import on PostgreSQL: every case in `import/cases.rs`.

#[path = "import/cases.rs"]
mod cases;

/// A fresh PostgreSQL database, migrated with the example's own migrations.
async fn database() -> fw::testing::TestDb {
    let test_db = fw::testing::TestDb::postgres().await;
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    fw::migrate::migrate(
        test_db.db(),
        &migrations,
        &fw::migrate::DataMigrations::new(),
        fw::migrate::MigrateOptions::default(),
    )
    .await
    .expect("apply the example's migrations");
    test_db
}

macro_rules! cases {
    ($($case:ident $(, $arg:expr)?);* $(;)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let test_db = database().await;
            cases::$case(&test_db $(, $arg)?).await;
        }
    )*};
}

cases!(
    a_normal_day_stores_every_announcement;
    importing_a_file_twice_changes_nothing;
    corrections_update_and_cancellations_are_marked;
    broken_files_are_rejected_whole_with_every_bad_line;
    a_conflict_found_while_writing_rolls_back_the_whole_file;
    reported_problems_are_capped;
    a_large_file_is_written_one_batch_at_a_time, 20_000;
    the_command_exits_non_zero_on_a_rejected_file;
    the_command_prints_a_summary_or_every_bad_line;
);

//! The typed query API on SQLite: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

cases::backend_suite!(fw::testing::TestDb::sqlite);

/// After `close`, the database file alone holds every committed row: the
/// write-ahead log is merged into it, so a copy of the `.db` file taken after a
/// clean shutdown is a complete backup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_merges_the_write_ahead_log_into_the_database_file() {
    use fw::Model as _;

    let test_db = fw::testing::TestDb::sqlite().await;
    let db = test_db.db();
    fw::testing::create_tables(db, &models::all())
        .await
        .expect("create the test tables");
    let inserted = models::Security::insert(
        db,
        models::NewSecurity {
            symbol: "ACME".to_owned(),
            cusip: "000000001".to_owned(),
            name: "Acme Corp".to_owned(),
        },
    )
    .await
    .expect("insert");
    // A read, so that the pool of read-only connections is in use too.
    models::Security::get(db, inserted.id).await.expect("get");
    db.close().await;

    let database_file = test_db.url().trim_start_matches("sqlite://").to_owned();
    let backup_dir = tempfile::tempdir().expect("temporary directory");
    let backup = backup_dir.path().join("backup.db");
    std::fs::copy(&database_file, &backup).expect("copy the database file alone");
    let copy = fw::Db::connect(&format!("sqlite://{}", backup.display()))
        .await
        .expect("open the copy");
    let restored = models::Security::get(&copy, inserted.id)
        .await
        .expect("the committed row is in the copied file");
    assert_eq!(restored.symbol, "ACME");
    copy.close().await;
}

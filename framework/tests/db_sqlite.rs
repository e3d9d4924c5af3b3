//! The typed query API on SQLite: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

/// The database every case in `db/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

/// SQLite is compiled without double-quoted string literals (the workspace's
/// `.cargo/config.toml`): a quoted name that is no column, as a model whose
/// migration has not run reads and writes, is an error rather than the string
/// itself, in queries and in schema statements alike.
#[tokio::test]
async fn a_quoted_name_that_is_no_column_is_an_error_not_a_string() {
    let test_db = fw::testing::TestDb::sqlite().await;
    let db = test_db.db();
    db.execute_raw("CREATE TABLE patient (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .await
        .unwrap();
    db.execute_raw("INSERT INTO patient (name) VALUES ('Ada')")
        .await
        .unwrap();

    let read = fw::sql("SELECT \"allergies\" FROM patient")
        .fetch_all(db, |row| row.get::<String>(0))
        .await;
    let error = read.expect_err("a missing column read as a string");
    assert!(
        error.to_string().contains("no such column: \"allergies\""),
        "{error}"
    );
    for statement in [
        "UPDATE patient SET name = 'Bob' WHERE \"allergies\" = 'allergies'",
        "INSERT INTO patient (name) VALUES (\"allergies\")",
        "CREATE INDEX patient_allergies ON patient (\"allergies\")",
    ] {
        let error = db
            .execute_raw(statement)
            .await
            .expect_err(&format!("accepted: {statement}"));
        assert!(
            error.to_string().contains("no such column: \"allergies\""),
            "{statement}: {error}"
        );
    }
}

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

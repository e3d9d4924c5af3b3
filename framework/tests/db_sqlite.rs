//! The typed query API on SQLite: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

cases::backend_suite!(fw::testing::TestDb::sqlite);

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

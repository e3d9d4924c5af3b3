//! Migration cases for PostgreSQL alone: a concurrent index build runs outside a
//! transaction, so a `migrate` killed during one leaves its index behind,
//! unrecorded, for the next run to find.

use fw::migrate::{DataMigrations, MigrateError, MigrateOptions, migrate};
use fw::testing::TestDb;

use crate::cases::{INDEX_NAMES, apply, execute, fails, make, write};
use crate::models::MODELS_V1;

/// What the database has under the index name `name`: whether it is valid, its
/// oid (which a rebuild changes) and its definition.
async fn postgres_index(pool: &sqlx::PgPool, name: &str) -> Option<(bool, i64, String)> {
    sqlx::query_as(
        "SELECT i.indisvalid, c.oid::bigint, pg_get_indexdef(c.oid) \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
    .unwrap()
}

/// `MODELS_V1` applied, and `INDEX_NAMES` pending.
async fn index_names_pending(test_db: &TestDb) -> (tempfile::TempDir, sqlx::PgPool) {
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), MODELS_V1);
    apply(test_db.db(), dir.path()).await;
    write(dir.path(), "0002_index_names.toml", INDEX_NAMES);
    let pool = sqlx::PgPool::connect(&test_db.url()).await.unwrap();
    (dir, pool)
}

/// The build finished but the run was killed before recording it: the next run
/// keeps the index, which may already serve queries, and records the migration.
pub(crate) async fn a_finished_index_an_interrupted_run_left_is_kept(test_db: TestDb) {
    let db = test_db.db();
    let (dir, pool) = index_names_pending(&test_db).await;
    execute(
        db,
        "CREATE INDEX CONCURRENTLY security_name_idx ON security (name)",
    )
    .await;
    let (_, built, _) = postgres_index(&pool, "security_name_idx").await.unwrap();

    assert_eq!(
        apply(db, dir.path()).await.to_string(),
        "Applied 0002_index_names\n"
    );
    let (valid, kept, _) = postgres_index(&pool, "security_name_idx")
        .await
        .expect("the index is still there");
    assert!(valid);
    assert_eq!(kept, built, "kept, not dropped and rebuilt");
    assert_eq!(
        apply(db, dir.path()).await.to_string(),
        "No migrations to apply.\n"
    );
    pool.close().await;
}

/// The run was killed during the build: the index it left is invalid, and the
/// next run drops and builds it again, in one go.
pub(crate) async fn an_unfinished_index_an_interrupted_run_left_is_rebuilt(test_db: TestDb) {
    use sqlx::Connection as _;

    let db = test_db.db();
    let (dir, pool) = index_names_pending(&test_db).await;
    // A writer's open transaction holds the build after it has created the
    // index, invalid, and waits for writers; cancelling it there is what
    // killing `migrate` there does.
    let mut writer = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE security IN ROW EXCLUSIVE MODE")
        .execute(&mut *writer)
        .await
        .unwrap();
    let mut builder = sqlx::PgConnection::connect(&test_db.url()).await.unwrap();
    let builder_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut builder)
        .await
        .unwrap();
    let build = tokio::spawn(async move {
        sqlx::query("CREATE INDEX CONCURRENTLY security_name_idx ON security (name)")
            .execute(&mut builder)
            .await
    });
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while postgres_index(&pool, "security_name_idx").await.is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the build creates its index before it waits");
    sqlx::query("SELECT pg_cancel_backend($1)")
        .bind(builder_pid)
        .execute(&pool)
        .await
        .unwrap();
    assert!(build.await.unwrap().is_err(), "the build was cancelled");
    writer.rollback().await.unwrap();
    let (valid, _, _) = postgres_index(&pool, "security_name_idx").await.unwrap();
    assert!(!valid, "the interrupted build left an invalid index");

    assert_eq!(
        apply(db, dir.path()).await.to_string(),
        "Applied 0002_index_names\n"
    );
    let (valid, _, definition) = postgres_index(&pool, "security_name_idx").await.unwrap();
    assert!(valid, "rebuilt");
    assert!(
        definition.ends_with("security USING btree (name)"),
        "{definition}"
    );
    pool.close().await;
}

/// An index of the migration's index name but another definition is not a
/// leftover of it: the migration is refused, naming both definitions, and the
/// index is left alone, valid or not.
pub(crate) async fn an_index_of_the_same_name_and_another_definition_is_left_alone(
    test_db: TestDb,
) {
    let db = test_db.db();
    let (dir, pool) = index_names_pending(&test_db).await;
    let refused = |error: MigrateError| {
        assert!(
            matches!(error, MigrateError::IndexConflict { ref index, .. } if index == "security_name_idx"),
            "{error}"
        );
        error.to_string()
    };

    execute(db, "CREATE INDEX security_name_idx ON security (symbol)").await;
    let message = refused(
        migrate(
            db,
            dir.path(),
            &DataMigrations::new(),
            MigrateOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    assert!(message.contains("USING btree (symbol)"), "{message}");
    assert!(message.contains("USING btree (name)"), "{message}");
    let (valid, _, definition) = postgres_index(&pool, "security_name_idx")
        .await
        .expect("left alone");
    assert!(valid && definition.ends_with("(symbol)"), "{definition}");

    // A unique build that failed on duplicates leaves an invalid index, of
    // another definition all the same.
    execute(db, "DROP INDEX security_name_idx").await;
    execute(
        db,
        "INSERT INTO security (symbol, name, created_at) VALUES ('A', 'Same', now()), ('B', 'Same', now())",
    )
    .await;
    assert!(
        fails(
            db,
            "CREATE UNIQUE INDEX CONCURRENTLY security_name_idx ON security (name)"
        )
        .await
    );
    refused(
        migrate(
            db,
            dir.path(),
            &DataMigrations::new(),
            MigrateOptions::default(),
        )
        .await
        .unwrap_err(),
    );
    let (valid, _, definition) = postgres_index(&pool, "security_name_idx")
        .await
        .expect("left alone");
    assert!(
        !valid && definition.starts_with("CREATE UNIQUE INDEX"),
        "{definition}"
    );

    execute(db, "DROP INDEX security_name_idx").await;
    assert_eq!(
        apply(db, dir.path()).await.to_string(),
        "Applied 0002_index_names\n"
    );
    pool.close().await;
}

/// The storage parameters of `fw_changes_pending`, sorted.
async fn pending_table_options(pool: &sqlx::PgPool) -> Vec<String> {
    let options: Option<Vec<String>> = sqlx::query_scalar(
        "SELECT reloptions FROM pg_class WHERE oid = 'fw_changes_pending'::regclass",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let mut options = options.unwrap_or_default();
    options.sort();
    options
}

/// `migrate` gives the change log's pending table its autovacuum settings
/// when it creates it, and again to a database whose table lacks them (one
/// made before they existed) with no migration to apply, keeping a value the
/// table already has.
pub(crate) async fn the_pending_changes_table_is_vacuumed_eagerly(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    make(dir.path(), &fw::changes::tables());
    apply(db, dir.path()).await;
    let pool = sqlx::PgPool::connect(&test_db.url()).await.unwrap();
    let eager = [
        "autovacuum_vacuum_cost_delay=0",
        "autovacuum_vacuum_scale_factor=0",
        "autovacuum_vacuum_threshold=1000",
    ];
    assert_eq!(pending_table_options(&pool).await, eager);

    execute(
        db,
        "ALTER TABLE fw_changes_pending RESET (autovacuum_vacuum_cost_delay, \
         autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold)",
    )
    .await;
    execute(
        db,
        "ALTER TABLE fw_changes_pending SET (autovacuum_vacuum_threshold = 5000)",
    )
    .await;
    assert_eq!(
        apply(db, dir.path()).await.to_string(),
        "No migrations to apply.\n"
    );
    assert_eq!(
        pending_table_options(&pool).await,
        [
            "autovacuum_vacuum_cost_delay=0",
            "autovacuum_vacuum_scale_factor=0",
            "autovacuum_vacuum_threshold=5000",
        ]
    );
    pool.close().await;
}

fw::testing::database_suite! {
    database: fw::Dialect::Postgres,
    cases: [
        a_finished_index_an_interrupted_run_left_is_kept,
        an_unfinished_index_an_interrupted_run_left_is_rebuilt,
        an_index_of_the_same_name_and_another_definition_is_left_alone,
        the_pending_changes_table_is_vacuumed_eagerly,
    ],
}

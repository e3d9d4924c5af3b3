//! Migration cases that run on a real database, on SQLite in
//! `migrations_sqlite.rs` and on PostgreSQL in `migrations_postgres.rs`.

use std::collections::BTreeSet;
use std::path::Path;

use fw::migrate::{
    BoxFuture, DataMigrations, MakeOptions, MakeOutcome, MigrateError, MigrateOptions,
    MigrateOutcome, makemigrations, migrate, pending,
};
use fw::schema::{Constraints, ModelSchema, SqlType};
use fw::testing::TestDb;
use fw::{Db, Dialect};

use crate::models::*;

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        chain_of_migrations_matches_models,
        sqlite_rebuild_keeps_rows_and_foreign_keys,
        edited_or_missing_applied_file_is_refused,
        plan_prints_sql_without_running_it,
        unacknowledged_findings_are_refused,
        data_migrations_run_in_the_migration_transaction,
        failed_migration_is_rolled_back,
        not_null_with_default_fills_existing_nulls,
        concurrent_index_file_is_applied,
        drops_and_tightenings_apply,
        pending_lists_what_the_database_lacks,
        existing_rows_are_sealed_and_opened,
        renamed_sealed_values_are_resealed,
    ],
}

// ---------------------------------------------------------------------------
// Helpers

pub(crate) fn make(dir: &Path, models: &[&ModelSchema]) -> MakeOutcome {
    makemigrations(dir, models, MakeOptions::default()).expect("makemigrations")
}

pub(crate) async fn apply(db: &Db, dir: &Path) -> MigrateOutcome {
    apply_with(db, dir, &DataMigrations::new()).await
}

async fn apply_with(db: &Db, dir: &Path, data: &DataMigrations) -> MigrateOutcome {
    match migrate(db, dir, data, MigrateOptions::default()).await {
        Ok(outcome) => outcome,
        Err(error) => panic!("migrate failed: {error}"),
    }
}

/// Does what a reviewer does: uncomments the acknowledgement lines of `keys`.
fn acknowledge(dir: &Path, keys: &[&str]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        for key in keys {
            text = text.replace(&format!("    # \"{key}\","), &format!("    \"{key}\","));
        }
        std::fs::write(&path, text).unwrap();
    }
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

pub(crate) async fn execute(db: &Db, sql: &str) -> u64 {
    db.execute_raw(sql)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// A second, plain sqlx connection for reading the catalog and rows back.
enum Probe {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Probe {
    async fn connect(test_db: &TestDb) -> Probe {
        match test_db.db().dialect() {
            Dialect::Sqlite => {
                Probe::Sqlite(sqlx::SqlitePool::connect(&test_db.url()).await.unwrap())
            }
            Dialect::Postgres => {
                Probe::Postgres(sqlx::PgPool::connect(&test_db.url()).await.unwrap())
            }
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            Probe::Sqlite(_) => Dialect::Sqlite,
            Probe::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The first column of every row, as text.
    async fn strings(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        let result = match self {
            Probe::Sqlite(pool) => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await,
            Probe::Postgres(pool) => sqlx::query_scalar::<_, String>(sql).fetch_all(pool).await,
        };
        result.unwrap_or_else(|error| panic!("probe query failed: {error}"))
    }

    async fn tables(&self) -> BTreeSet<String> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> 'fw_migrations'"
            }
            Dialect::Postgres => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name <> 'fw_migrations'"
            }
        };
        self.strings(sql).await.into_iter().collect()
    }

    /// `name|type|not null|primary key` of each column.
    async fn columns(&self, table: &str) -> BTreeSet<String> {
        let sql = match self.dialect() {
            Dialect::Sqlite => format!(
                "SELECT name || '|' || type || '|' || (CASE WHEN \"notnull\" = 1 OR pk > 0 THEN 1 ELSE 0 END) \
                 || '|' || (CASE WHEN pk > 0 THEN 1 ELSE 0 END) FROM pragma_table_info('{table}')"
            ),
            Dialect::Postgres => format!(
                "SELECT a.attname || '|' || format_type(a.atttypid, a.atttypmod) || '|' \
                 || (CASE WHEN a.attnotnull THEN 1 ELSE 0 END) || '|' \
                 || (CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid \
                     AND i.indisprimary AND a.attnum = ANY(i.indkey)) THEN 1 ELSE 0 END) \
                 FROM pg_attribute a WHERE a.attrelid = '\"{table}\"'::regclass \
                 AND a.attnum > 0 AND NOT a.attisdropped"
            ),
        };
        self.strings(&sql).await.into_iter().collect()
    }

    async fn indexes(&self, table: &str) -> BTreeSet<String> {
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                format!("SELECT name FROM pragma_index_list('{table}') WHERE origin = 'c'")
            }
            Dialect::Postgres => format!(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename = '{table}' AND indexname <> '{table}_pkey'"
            ),
        };
        self.strings(&sql).await.into_iter().collect()
    }

    /// Names of the primary-key, foreign-key, check and unique constraints.
    async fn constraints(&self, table: &str) -> BTreeSet<String> {
        match self.dialect() {
            Dialect::Sqlite => {
                let sql = format!(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
                );
                let definition = self.strings(&sql).await.concat();
                definition
                    .split("CONSTRAINT \"")
                    .skip(1)
                    .filter_map(|rest| rest.split('"').next())
                    .map(str::to_owned)
                    .collect()
            }
            Dialect::Postgres => {
                let sql = format!(
                    "SELECT conname::text FROM pg_constraint WHERE conrelid = '\"{table}\"'::regclass \
                     AND contype IN ('p', 'f', 'c', 'u')"
                );
                self.strings(&sql).await.into_iter().collect()
            }
        }
    }

    async fn close(self) {
        match self {
            Probe::Sqlite(pool) => pool.close().await,
            Probe::Postgres(pool) => pool.close().await,
        }
    }
}

fn expected_type(field: &fw::schema::FieldSchema, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => match field.sql_type {
            SqlType::SmallInt | SqlType::Int | SqlType::BigInt | SqlType::Bool => "INTEGER",
            SqlType::Uuid => "BLOB",
            _ => "TEXT",
        }
        .to_owned(),
        Dialect::Postgres => match (field.sql_type, field.constraints.max_digits()) {
            (SqlType::SmallInt, ..) => "smallint".to_owned(),
            (SqlType::Int, ..) => "integer".to_owned(),
            (SqlType::BigInt, ..) => "bigint".to_owned(),
            (SqlType::Bool, ..) => "boolean".to_owned(),
            (SqlType::Decimal, Some(digits)) => {
                format!(
                    "numeric({digits},{})",
                    field.constraints.decimal_places().unwrap_or(0)
                )
            }
            (SqlType::Decimal, ..) => "numeric".to_owned(),
            (SqlType::Date, ..) => "date".to_owned(),
            (SqlType::Timestamp, ..) => "timestamp with time zone".to_owned(),
            (SqlType::Uuid, ..) => "uuid".to_owned(),
            (SqlType::Json, ..) => "jsonb".to_owned(),
            _ => "text".to_owned(),
        },
    }
}

/// Compares the live schema (tables, column types and nullability, indexes and
/// constraint names) with what the models declare.
async fn assert_live_schema_matches(test_db: &TestDb, models: &[&ModelSchema]) {
    let probe = Probe::connect(test_db).await;
    let dialect = probe.dialect();
    let tables: BTreeSet<String> = models.iter().map(|m| m.table.to_owned()).collect();
    assert_eq!(probe.tables().await, tables, "tables");
    for model in models {
        let table = model.table;
        let mut columns: BTreeSet<String> = model
            .fields
            .iter()
            .map(|field| {
                let not_null = u8::from(!field.nullable || field.primary_key);
                let primary_key = u8::from(field.primary_key);
                format!(
                    "{}|{}|{not_null}|{primary_key}",
                    field.column,
                    expected_type(field, dialect)
                )
            })
            .collect();
        // A searchable sealed field's digest: nullable text (an erased value's is NULL).
        columns.extend(model.fields.iter().filter_map(|field| {
            let text = if dialect == Dialect::Postgres {
                "text"
            } else {
                "TEXT"
            };
            Some(format!("{}|{text}|0|0", field.digest_column()?))
        }));
        assert_eq!(probe.columns(table).await, columns, "columns of {table}");

        let mut indexes = BTreeSet::new();
        let mut constraints = BTreeSet::new();
        if dialect == Dialect::Postgres {
            constraints.insert(format!("{table}_pkey"));
        }
        for field in model.fields {
            // A searchable sealed field is unique and indexed through its digest.
            let digest = field.digest_column();
            let indexed = digest.as_deref().unwrap_or(field.column);
            if field.unique && !field.primary_key {
                let name = fw::schema::unique_constraint_name(table, &[indexed]);
                if dialect == Dialect::Postgres {
                    constraints.insert(name.clone());
                }
                indexes.insert(name);
            }
            if field.index {
                indexes.insert(fw::schema::index_name(table, &[indexed]));
            }
            if field.foreign_key.is_some() {
                constraints.insert(fw::schema::foreign_key_constraint_name(table, field.column));
            }
            // A sealed field's constraints validate the clear value in the API;
            // its column holds sealed text and has no check.
            let checked = !field.sensitivity.is_sealed()
                && field.constraints.iter().any(|constraint| {
                    constraint.is_check()
                        && (dialect == Dialect::Postgres
                            || !matches!(constraint, fw::schema::Constraint::Pattern(_)))
                });
            if checked {
                constraints.insert(fw::schema::check_constraint_name(table, field.column));
            }
        }
        for index in model.indexes {
            if index.unique && dialect == Dialect::Postgres {
                constraints.insert(index.name.to_owned());
            }
            indexes.insert(index.name.to_owned());
        }
        assert_eq!(probe.indexes(table).await, indexes, "indexes of {table}");
        assert_eq!(
            probe.constraints(table).await,
            constraints,
            "constraints of {table}"
        );
    }
    probe.close().await;
}

const ACCOUNT_ID: &str = "0190a6b1-2b1c-7d3e-8f40-123456789abc";

/// A UUID literal in the way the runtime stores it.
fn uuid_literal(dialect: Dialect, uuid: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("X'{}'", uuid.replace('-', "")),
        Dialect::Postgres => format!("'{uuid}'"),
    }
}

async fn insert_v1_rows(db: &Db) {
    let account = uuid_literal(db.dialect(), ACCOUNT_ID);
    execute(
        db,
        "INSERT INTO security (symbol, name, created_at) VALUES ('ACME', 'Acme Corp', '2026-01-02 03:04:05+00:00')",
    )
    .await;
    execute(
        db,
        "INSERT INTO dividend (security_id, amount, pay_date, version) VALUES (1, '0.25', '2026-03-01', 1)",
    )
    .await;
    execute(
        db,
        &format!("INSERT INTO account (id, holder) VALUES ({account}, 'Ada')"),
    )
    .await;
    execute(
        db,
        &format!(
            "INSERT INTO position (account_id, security_id, quantity) VALUES ({account}, 1, 10)"
        ),
    )
    .await;
}

/// Rows matching `condition` in `table`, counted through an UPDATE that changes nothing.
async fn count_where(db: &Db, table: &str, condition: &str) -> u64 {
    let column = if table == "brokerage_account" || table == "account" {
        "active"
    } else {
        "id"
    };
    execute(
        db,
        &format!("UPDATE \"{table}\" SET \"{column}\" = \"{column}\" WHERE {condition}"),
    )
    .await
}

pub(crate) async fn fails(db: &Db, sql: &str) -> bool {
    db.execute_raw(sql).await.is_err()
}

// ---------------------------------------------------------------------------
// Cases

/// 0001 → 0002 (+ 0003 concurrent index) → 0004, applied to a live database with
/// rows in it; after each step the live schema is what the models say, the rows
/// survive and foreign keys are still enforced.
pub(crate) async fn chain_of_migrations_matches_models(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    make(dir, MODELS_V1);
    let outcome = apply(db, dir).await;
    assert_eq!(outcome.to_string(), "Applied 0001_initial\n");
    assert_live_schema_matches(&test_db, MODELS_V1).await;
    insert_v1_rows(db).await;

    make(dir, MODELS_V2);
    acknowledge(dir, ACKNOWLEDGE_V2);
    let outcome = apply(db, dir).await;
    assert_eq!(
        outcome.to_string(),
        "Applied 0002_rename_security_name_to_title_and_more\nApplied 0003_add_security_isin_idx\n"
    );
    assert_live_schema_matches(&test_db, MODELS_V2).await;
    assert_eq!(
        count_where(db, "security", "title = 'Acme Corp' AND symbol = 'ACME'").await,
        1
    );
    assert_eq!(count_where(db, "dividend", "security_id = 1").await, 1);
    assert!(fails(db, "INSERT INTO dividend (security_id, amount, pay_date, version) VALUES (999, '1', '2026-03-01', 1)").await);
    assert!(fails(db, "INSERT INTO dividend (security_id, amount, pay_date, version) VALUES (1, '-1', '2026-03-01', 1)").await);
    assert!(
        fails(db, "DELETE FROM security WHERE id = 1").await,
        "position restricts the delete"
    );

    make(dir, MODELS_V3);
    acknowledge(dir, ACKNOWLEDGE_V3);
    let outcome = apply(db, dir).await;
    assert_eq!(
        outcome.to_string(),
        "Applied 0004_rename_account_to_brokerage_account_and_more\n"
    );
    assert_live_schema_matches(&test_db, MODELS_V3).await;
    assert_eq!(
        count_where(db, "brokerage_account", "active = TRUE").await,
        1
    );
    assert_eq!(count_where(db, "position", "quantity = 10").await, 1);
    let other_account = uuid_literal(db.dialect(), "0190a6b1-2b1c-7d3e-8f40-000000000000");
    assert!(
        fails(db, &format!("INSERT INTO position (account_id, security_id, quantity) VALUES ({other_account}, 1, 1)")).await,
        "the reference follows the renamed table"
    );

    assert!(matches!(make(dir, MODELS_V3), MakeOutcome::NoChanges));
    assert!(matches!(apply(db, dir).await, MigrateOutcome::UpToDate));
}

/// Altering a referenced table on SQLite rebuilds it; rows and references survive
/// and are enforced afterwards (on PostgreSQL the same migration is plain ALTERs).
pub(crate) async fn sqlite_rebuild_keeps_rows_and_foreign_keys(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;
    insert_v1_rows(db).await;
    execute(db, "INSERT INTO dividend (security_id, amount, pay_date, version) VALUES (1, '1.5', '2026-04-01', 1)").await;

    // `security.symbol` gets longer: a rebuild of `security`, which `dividend` and
    // `position` reference.
    const SECURITY_FIELDS: &[fw::schema::FieldSchema] = &[
        auto_id(),
        fw::schema::FieldSchema {
            unique: true,
            constraints: &[
                fw::schema::Constraint::MaxLength(20),
                fw::schema::Constraint::MinLength(1),
                fw::schema::Constraint::Pattern("[A-Z.]+"),
            ],
            ..field("symbol", SqlType::Text)
        },
        field("name", SqlType::Text),
        fw::schema::FieldSchema {
            constraints: &[fw::schema::Constraint::Choices(&["stock", "etf"])],
            default: Some(fw::schema::DefaultValue::Text("stock")),
            ..field("kind", SqlType::Text)
        },
        fw::schema::FieldSchema {
            generated: fw::schema::Generated::CreatedAt,
            ..field("created_at", SqlType::Timestamp)
        },
    ];
    const SECURITY: ModelSchema = model("Security", "security", SECURITY_FIELDS);
    let models: &[&ModelSchema] = &[&SECURITY, &DIVIDEND_V1, &ACCOUNT_V1, &POSITION_V1];
    make(dir, models);
    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap()
    .to_string();
    if db.dialect() == Dialect::Sqlite {
        assert!(
            plan.contains("CREATE TABLE \"security__fw_rebuild\""),
            "{plan}"
        );
    }
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, models).await;

    assert_eq!(
        count_where(db, "security", "symbol = 'ACME' AND kind = 'stock'").await,
        1
    );
    assert_eq!(count_where(db, "dividend", "security_id = 1").await, 2);
    let account = uuid_literal(db.dialect(), ACCOUNT_ID);
    assert!(
        fails(
            db,
            &format!(
                "INSERT INTO position (account_id, security_id, quantity) VALUES ({account}, 42, 1)"
            )
        )
        .await
    );
    assert!(
        fails(
            db,
            "INSERT INTO security (symbol, name, created_at) VALUES ('ACME', 'Again', '2026-01-01')"
        )
        .await,
        "unique symbol"
    );
    assert!(fails(db, "INSERT INTO security (symbol, name, created_at) VALUES ('ACMEACMEACMEACMEACMEA', 'Long', '2026-01-01')").await, "max length 20");
    execute(db, "INSERT INTO security (symbol, name, created_at) VALUES ('ACMEACMEACMEACME', 'Long', '2026-01-01')").await;
    // The rebuilt table still cascades.
    execute(db, "DELETE FROM position").await;
    execute(db, "DELETE FROM security WHERE symbol = 'ACME'").await;
    assert_eq!(
        count_where(db, "dividend", "1 = 1").await,
        0,
        "on_delete = cascade"
    );
}

pub(crate) async fn edited_or_missing_applied_file_is_refused(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;

    let path = dir.join("0001_initial.toml");
    let original = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{original}\n# an innocent edit\n")).unwrap();
    let error = migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MigrateError::ChecksumMismatch { ref name, .. } if name == "0001_initial"),
        "{error}"
    );
    assert!(
        error.to_string().contains("restore the applied version"),
        "{error}"
    );

    std::fs::write(&path, &original).unwrap();
    assert!(matches!(apply(db, dir).await, MigrateOutcome::UpToDate));

    std::fs::rename(&path, dir.join("initial.toml.bak")).unwrap();
    let error = migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MigrateError::AppliedMigrationMissing { ref name, .. } if name == "0001_initial"),
        "{error}"
    );
}

pub(crate) async fn plan_prints_sql_without_running_it(test_db: TestDb) {
    let db = test_db.db();
    let dialect = db.dialect();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;
    make(dir, MODELS_V2);
    acknowledge(dir, ACKNOWLEDGE_V2);

    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap();
    insta::assert_snapshot!(
        format!("plan_v1_to_v2_{}", dialect.name()),
        plan.to_string()
    );
    // Nothing ran: the column is not renamed yet and nothing more is recorded.
    assert_live_schema_matches(&test_db, MODELS_V1).await;
    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap();
    assert!(matches!(plan, MigrateOutcome::Plan(ref plans) if plans.len() == 2));

    apply(db, dir).await;
    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap();
    assert_eq!(plan.to_string(), "No migrations to apply.\n");
}

pub(crate) async fn unacknowledged_findings_are_refused(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;
    make(dir, MODELS_V2);

    let error = migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
        .await
        .unwrap_err();
    let MigrateError::Unacknowledged { ref findings, .. } = error else {
        panic!("expected refusal, got {error}");
    };
    let keys: Vec<&str> = findings
        .iter()
        .map(|finding| finding.key.as_str())
        .collect();
    assert_eq!(keys, ACKNOWLEDGE_V2);
    let message = error.to_string();
    assert!(
        message.contains("0002_rename_security_name_to_title_and_more.toml"),
        "{message}"
    );
    assert!(
        message.contains("acknowledge = [\"rename_column:security.name\""),
        "{message}"
    );
    // Nothing ran, not even the safe operations of the same file.
    assert_live_schema_matches(&test_db, MODELS_V1).await;

    // Acknowledging only some is not enough.
    acknowledge(dir, &ACKNOWLEDGE_V2[..1]);
    assert!(
        migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
            .await
            .is_err()
    );
    acknowledge(dir, ACKNOWLEDGE_V2);
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, MODELS_V2).await;
}

fn mark_active(tx: &mut fw::Tx) -> BoxFuture<'_, fw::Result<()>> {
    Box::pin(async move {
        tx.execute_raw("UPDATE security SET name = name || ' (listed)'")
            .await?;
        Ok(())
    })
}

fn always_fails(tx: &mut fw::Tx) -> BoxFuture<'_, fw::Result<()>> {
    Box::pin(async move {
        tx.execute_raw("UPDATE security SET name = 'changed'")
            .await?;
        tx.execute_raw("SELECT * FROM no_such_table").await?;
        Ok(())
    })
}

pub(crate) async fn data_migrations_run_in_the_migration_transaction(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;
    insert_v1_rows(db).await;

    write(
        dir,
        "0002_backfill.toml",
        r#"
[[operations]]
op = "run_sql"
sqlite = "UPDATE security SET name = upper(name) || ' on sqlite'"
postgres = "UPDATE security SET name = upper(name) || ' on postgres'"

[[operations]]
op = "run_sql"
sql = "UPDATE security SET kind = 'etf'"

[[operations]]
op = "run_data_migration"
function = "mark_active"
"#,
    );
    let error = migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MigrateError::UnknownDataMigration { ref function, .. } if function == "mark_active"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("DataMigrations::register(\"mark_active\""),
        "{error}"
    );

    let data = DataMigrations::new().register("mark_active", mark_active);
    let plan = migrate(db, dir, &data, MigrateOptions { plan: true })
        .await
        .unwrap()
        .to_string();
    assert!(
        plan.contains("-- run data migration `mark_active`"),
        "{plan}"
    );
    apply_with(db, dir, &data).await;
    let expected = format!(
        "name = 'ACME CORP on {} (listed)' AND kind = 'etf'",
        db.dialect().name()
    );
    assert_eq!(count_where(db, "security", &expected).await, 1);

    // A failing data migration rolls the whole migration back.
    write(
        dir,
        "0003_broken.toml",
        "[[operations]]\nop = \"run_sql\"\nsql = \"UPDATE security SET kind = 'stock'\"\n\n\
         [[operations]]\nop = \"run_data_migration\"\nfunction = \"always_fails\"\n",
    );
    let data = data.register("always_fails", always_fails);
    let error = migrate(db, dir, &data, MigrateOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(error, MigrateError::Apply { ref name, .. } if name == "0003_broken"),
        "{error}"
    );
    assert_eq!(
        count_where(db, "security", &expected).await,
        1,
        "rolled back"
    );
}

pub(crate) async fn failed_migration_is_rolled_back(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    write(
        dir,
        "0002_broken.toml",
        "[[operations]]\nop = \"run_sql\"\nsql = \"CREATE TABLE scratch (id INTEGER PRIMARY KEY)\"\n\n\
         [[operations]]\nop = \"run_sql\"\nsql = \"INSERT INTO no_such_table VALUES (1)\"\n",
    );
    let error = migrate(db, dir, &DataMigrations::new(), MigrateOptions::default())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("migration `0002_broken` failed, and nothing of it was applied"),
        "{message}"
    );
    assert!(message.contains("INSERT INTO no_such_table"), "{message}");
    // 0001 stayed applied, 0002 left nothing behind.
    assert_live_schema_matches(&test_db, MODELS_V1).await;

    write(
        dir,
        "0002_broken.toml",
        "[[operations]]\nop = \"run_sql\"\nsql = \"\"\n",
    );
    assert_eq!(apply(db, dir).await.to_string(), "Applied 0002_broken\n");
}

/// Making a column NOT NULL with a default fills the rows that were NULL.
pub(crate) async fn not_null_with_default_fills_existing_nulls(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    const NOTE_FIELDS: &[fw::schema::FieldSchema] = &[
        auto_id(),
        fw::schema::FieldSchema {
            nullable: true,
            ..field("body", SqlType::Text)
        },
    ];
    const NOTE_REQUIRED_FIELDS: &[fw::schema::FieldSchema] = &[
        auto_id(),
        fw::schema::FieldSchema {
            default: Some(fw::schema::DefaultValue::Text("(empty)")),
            ..field("body", SqlType::Text)
        },
    ];
    const NOTE: ModelSchema = model("Note", "note", NOTE_FIELDS);
    const NOTE_REQUIRED: ModelSchema = model("Note", "note", NOTE_REQUIRED_FIELDS);
    make(dir, &[&NOTE]);
    apply(db, dir).await;
    execute(db, "INSERT INTO note (body) VALUES (NULL), ('kept')").await;
    make(dir, &[&NOTE_REQUIRED]);
    acknowledge(dir, &["not_null:note.body"]);
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, &[&NOTE_REQUIRED]).await;
    assert_eq!(count_where(db, "note", "body = '(empty)'").await, 1);
    assert_eq!(count_where(db, "note", "body = 'kept'").await, 1);
}

/// A migration that builds `security_name_idx` on `security (name)`
/// concurrently, in a file of its own as `makemigrations` writes it.
pub(crate) const INDEX_NAMES: &str = "[[operations]]\nop = \"add_index\"\ntable = \"security\"\n\
                           name = \"security_name_idx\"\ncolumns = [\"name\"]\nconcurrently = true\n";

/// A file of concurrent index builds runs outside a transaction on PostgreSQL and
/// is recorded like any other.
pub(crate) async fn concurrent_index_file_is_applied(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    apply(db, dir).await;
    write(dir, "0002_index_names.toml", INDEX_NAMES);
    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap()
    .to_string();
    match db.dialect() {
        Dialect::Postgres => {
            assert!(plan.contains("outside a transaction"), "{plan}");
            assert!(
                plan.contains("CREATE INDEX CONCURRENTLY \"security_name_idx\""),
                "{plan}"
            );
        }
        Dialect::Sqlite => assert!(
            plan.contains("CREATE INDEX \"security_name_idx\""),
            "{plan}"
        ),
    }
    assert_eq!(
        apply(db, dir).await.to_string(),
        "Applied 0002_index_names\n"
    );
    let probe = Probe::connect(&test_db).await;
    assert!(
        probe
            .indexes("security")
            .await
            .contains("security_name_idx")
    );
    probe.close().await;
}

/// The drops, alters and constraint changes of `ITEMS_BEFORE` → `ITEMS_AFTER`
/// apply to a table with rows (a rebuild on SQLite, ALTERs on PostgreSQL).
pub(crate) async fn drops_and_tightenings_apply(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, ITEMS_BEFORE);
    apply(db, dir).await;
    execute(db, "INSERT INTO owner (id) VALUES (7)").await;
    execute(
        db,
        "INSERT INTO item (code, label, note, rank, owner_id, obsolete) VALUES ('c1', 'first', 'short', 'a', 7, TRUE)",
    )
    .await;
    make(dir, ITEMS_AFTER);
    acknowledge(dir, ACKNOWLEDGE_ITEMS);
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, ITEMS_AFTER).await;
    assert_eq!(
        count_where(
            db,
            "item",
            "code = 'c1' AND label = 'first' AND owner_id = 7"
        )
        .await,
        1
    );
    assert!(fails(db, "INSERT INTO item (code, label, note, rank, owner_id) VALUES ('c2', 'second', 'n', 'z', 7)").await, "choices");
    assert!(fails(db, "INSERT INTO item (code, label, note, rank, quantity, owner_id) VALUES ('c2', 'second', 'n', 'a', 0, 7)").await, "exclusive minimum");
    assert!(fails(db, "INSERT INTO item (code, label, note, rank, owner_id) VALUES ('c2', 'first', 'n', 'a', 7)").await, "unique label");
    assert!(fails(db, "INSERT INTO item (code, label, note, rank, owner_id) VALUES ('c2', 'second', 'n', 'a', 8)").await, "reference");
    execute(
        db,
        "INSERT INTO item (code, label, note, rank, owner_id) VALUES ('c1', 'second', 'n', 'b', 7)",
    )
    .await;
    execute(db, "DELETE FROM owner").await;
    assert_eq!(
        count_where(db, "item", "1 = 1").await,
        0,
        "on_delete = cascade"
    );
}

/// `pending` lists the files the database has not applied: what `serve` refuses
/// to start without. Applied migrations without a file are a later release's
/// (the previous release restarting during a deploy), not an error.
pub(crate) async fn pending_lists_what_the_database_lacks(test_db: TestDb) {
    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, MODELS_V1);
    assert_eq!(pending(db, dir).await.unwrap(), ["0001_initial"]);
    apply(db, dir).await;
    assert!(pending(db, dir).await.unwrap().is_empty());

    write(
        dir,
        "0002_later.toml",
        "[[operations]]\nop = \"run_sql\"\nsql = \"\"\n",
    );
    assert_eq!(pending(db, dir).await.unwrap(), ["0002_later"]);
    apply(db, dir).await;
    std::fs::remove_file(dir.join("0002_later.toml")).unwrap();
    assert!(pending(db, dir).await.unwrap().is_empty());
}

/// The deploy-safety keys of what `makemigrations` just wrote.
fn findings_of(outcome: &MakeOutcome) -> Vec<String> {
    match outcome {
        MakeOutcome::Written(written) => written
            .iter()
            .flat_map(|migration| migration.findings.iter().map(|f| f.key.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// `(id, tax_id, tax_id_digest or "-", name or "-")` of every client, as stored.
async fn raw_clients(probe: &Probe, digest: bool) -> Vec<Vec<String>> {
    let digest = if digest {
        "COALESCE(tax_id_digest, '-')"
    } else {
        "'-'"
    };
    let rows = probe
        .strings(&format!(
            "SELECT CAST(id AS TEXT) || '|' || tax_id || '|' || {digest} || '|' || \
             COALESCE(name, '-') FROM client ORDER BY id"
        ))
        .await;
    rows.iter()
        .map(|row| row.split('|').map(str::to_owned).collect())
        .collect()
}

pub(crate) async fn existing_rows_are_sealed_and_opened(test_db: TestDb) {
    let db = test_db.db();
    let keyring = db
        .keyring()
        .expect("test databases carry the test keys")
        .clone();
    let probe = Probe::connect(&test_db).await;
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make(dir, &[&CLIENT_CLEAR]);
    apply(db, dir).await;
    // More rows than one batch, so the rewrite goes on past its first page.
    let rows = 1_203;
    let values: Vec<String> = (1..=rows)
        .map(|id| {
            let name = if id % 2 == 0 {
                "NULL".to_owned()
            } else {
                format!("'Holder {id}'")
            };
            format!("('{id:011}', {name})")
        })
        .collect();
    execute(
        db,
        &format!(
            "INSERT INTO client (tax_id, name) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    let clear = raw_clients(&probe, false).await;

    let sealing = make(dir, &[&CLIENT_SEALED]);
    assert_eq!(
        findings_of(&sealing),
        [
            "seal:client.tax_id",
            "seal:client.name",
            "add_unique:client_tax_id_digest_key"
        ]
    );
    let keys = findings_of(&sealing);
    acknowledge(dir, &keys.iter().map(String::as_str).collect::<Vec<_>>());

    // Without the keys nothing runs, and the error says what to set.
    let keyless = Db::connect(&test_db.url()).await.unwrap();
    let error = migrate(
        &keyless,
        dir,
        &DataMigrations::new(),
        MigrateOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, MigrateError::NoKeyring { .. }), "{error}");
    assert!(error.to_string().contains("FW_SECRET_KEYS"), "{error}");
    assert_eq!(raw_clients(&probe, false).await, clear);

    apply(db, dir).await;
    assert_live_schema_matches(&test_db, &[&CLIENT_SEALED]).await;
    let sealed = raw_clients(&probe, true).await;
    assert_eq!(sealed.len(), rows);
    for (stored, clear) in sealed.iter().zip(&clear) {
        let place = |column| fw::sensitive::Place {
            table: "client",
            column,
            row: &clear[0],
        };
        assert!(stored[1].starts_with("fw1:"), "{stored:?}");
        assert_eq!(
            keyring.open(&place("tax_id"), &stored[1]).unwrap(),
            clear[1]
        );
        assert_eq!(stored[2], keyring.digest("client", "tax_id", &clear[1]));
        if clear[3] == "-" {
            assert_eq!(stored[3], "-");
        } else {
            assert!(stored[3].starts_with("fw1:"), "{stored:?}");
            assert_eq!(keyring.open(&place("name"), &stored[3]).unwrap(), clear[3]);
        }
    }
    // An equality lookup compares digests, and finds the row.
    let digest = keyring.digest("client", "tax_id", "00000000042");
    let found = probe
        .strings(&format!(
            "SELECT CAST(id AS TEXT) FROM client WHERE tax_id_digest = '{digest}'"
        ))
        .await;
    assert_eq!(found, ["42"]);

    let opening = make(dir, &[&CLIENT_CLEAR]);
    assert_eq!(
        findings_of(&opening),
        [
            "open:client.tax_id",
            "open:client.name",
            "narrow_column:client.tax_id",
            "add_unique:client_tax_id_key",
        ]
    );
    let keys = findings_of(&opening);
    acknowledge(dir, &keys.iter().map(String::as_str).collect::<Vec<_>>());
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, &[&CLIENT_CLEAR]).await;
    assert_eq!(raw_clients(&probe, false).await, clear);
    assert!(matches!(
        make(dir, &[&CLIENT_CLEAR]),
        MakeOutcome::NoChanges
    ));
}

/// Applies what `makemigrations` writes for `models` after acknowledging its
/// findings, and returns their keys.
async fn make_and_apply(db: &Db, dir: &Path, models: &[&ModelSchema]) -> Vec<String> {
    let keys = findings_of(&make(dir, models));
    acknowledge(dir, &keys.iter().map(String::as_str).collect::<Vec<_>>());
    apply(db, dir).await;
    keys
}

pub(crate) async fn renamed_sealed_values_are_resealed(test_db: TestDb) {
    use fw::Model;

    let db = test_db.db();
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    make_and_apply(db, dir, &[Client::SCHEMA]).await;
    // Past one batch, so the re-seal goes on past its first page.
    let holders: Vec<(String, Option<String>)> = (1..=503)
        .map(|n| {
            let name = (n % 2 == 1).then(|| format!("Holder {n}"));
            (format!("{n:011}"), name)
        })
        .collect();
    let mut ids = Vec::new();
    for (tax_id, name) in &holders {
        let client = Client::insert(
            db,
            NewClient {
                tax_id: tax_id.clone(),
                name: name.clone(),
            },
        )
        .await
        .unwrap();
        ids.push(client.id);
    }

    // A column rename: the values sealed as `client.tax_id` read back as `client.tin`.
    let findings = make_and_apply(db, dir, &[ClientWithTin::SCHEMA]).await;
    assert!(
        findings.contains(&"reseal:client.tin".to_owned()),
        "{findings:?}"
    );
    assert!(
        !findings
            .iter()
            .any(|key| key.starts_with("reseal:client.name")),
        "an unrenamed column of an unrenamed table keeps its values: {findings:?}"
    );
    assert_live_schema_matches(&test_db, &[ClientWithTin::SCHEMA]).await;
    for (id, (tax_id, name)) in ids.iter().zip(&holders) {
        let client = ClientWithTin::get(db, *id).await.unwrap();
        assert_eq!((&client.tin, &client.name), (tax_id, name));
    }
    let found = ClientWithTin::query()
        .filter(ClientWithTin::TIN.eq("00000000042"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|c| c.id).collect::<Vec<_>>(), [ids[41]]);

    // A table rename: every sealed column of it is re-sealed, as the plan says.
    let findings = findings_of(&make(dir, &[Customer::SCHEMA]));
    assert_eq!(
        findings,
        [
            "rename_table:client",
            "reseal:customer.tin",
            "reseal:customer.name"
        ]
    );
    acknowledge(
        dir,
        &findings.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let plan = migrate(
        db,
        dir,
        &DataMigrations::new(),
        MigrateOptions { plan: true },
    )
    .await
    .unwrap()
    .to_string();
    assert!(
        plan.contains(
            "-- re-seal every value of `customer.tin` sealed as `client.tin` and write its \
             digest to `tin_digest`, 500 rows at a time by primary key"
        ),
        "{plan}"
    );
    apply(db, dir).await;
    assert_live_schema_matches(&test_db, &[Customer::SCHEMA]).await;
    for (id, (tax_id, name)) in ids.iter().zip(&holders) {
        let customer = Customer::get(db, *id).await.unwrap();
        assert_eq!((&customer.tin, &customer.name), (tax_id, name));
    }
    let found = Customer::query()
        .filter(Customer::TIN.is_in(["00000000007", "00000000503"]))
        .all(db)
        .await
        .unwrap();
    let mut found: Vec<i64> = found.iter().map(|c| c.id).collect();
    found.sort_unstable();
    assert_eq!(found, [ids[6], ids[502]]);
    // The digest's unique constraint holds under the new names.
    let duplicate = Customer::insert(
        db,
        NewCustomer {
            tin: "00000000042".to_owned(),
            name: None,
        },
    )
    .await;
    assert!(
        matches!(duplicate, Err(fw::Error::UniqueViolation { .. })),
        "{duplicate:?}"
    );
    assert!(matches!(
        make(dir, &[Customer::SCHEMA]),
        MakeOutcome::NoChanges
    ));
}

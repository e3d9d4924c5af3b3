//! Applying migrations to a database and recording them in `fw_migrations`.

use std::collections::BTreeMap;
use std::path::Path;

use super::column::Index;
use super::file::MigrationFile;
use super::operation::Operation;
use super::sql::{self, Step};
use super::{
    DataMigrations, MigrateError, MigrateOptions, MigrateOutcome, Migrations, PlannedMigration,
    lint, replay,
};
use crate::db::{Access, Arguments, Conn, Db, Dialect, Sql, Tx, placeholder, quote_ident};

/// The table that records applied migrations.
const HISTORY_TABLE: &str = "fw_migrations";

/// A pending migration, checked and rendered for the database's dialect.
struct Prepared<'f> {
    file: &'f MigrationFile,
    steps: Vec<Step>,
}

pub(super) async fn migrate(
    db: &Db,
    migrations: &Migrations,
    data_migrations: &DataMigrations,
    options: MigrateOptions,
) -> Result<MigrateOutcome, MigrateError> {
    let dialect = db.dialect();
    let files = migrations.load()?;
    let (_, states) = replay(&files)?;
    let applied = applied_migrations(db).await?;
    verify_history(migrations.dir(), &files, &applied)?;

    // Check every pending migration before running any, so a bad file stops the
    // deploy before it changes anything.
    let mut pending = Vec::new();
    for (migration, before) in files.iter().zip(&states) {
        if applied.contains_key(&migration.name) {
            continue;
        }
        let findings: Vec<lint::Finding> = lint::lint(before, &migration.operations)
            .into_iter()
            .filter(|finding| !migration.acknowledged.contains(&finding.key))
            .collect();
        if !findings.is_empty() {
            return Err(MigrateError::Unacknowledged {
                path: migration.path.clone(),
                findings,
            });
        }
        pending.push(prepare(migration, before, dialect, data_migrations)?);
    }

    if options.plan {
        let plans = pending
            .iter()
            .map(|prepared| PlannedMigration {
                name: prepared.file.name.clone(),
                transactional: !runs_outside_transaction(prepared.file, dialect),
                statements: prepared
                    .steps
                    .iter()
                    .map(|step| match step {
                        Step::Sql(sql) => sql.clone(),
                        Step::DataMigration(name) => format!("-- run data migration `{name}`"),
                        Step::Reseal(reseal) => format!("-- {}", reseal.describe()),
                    })
                    .collect(),
            })
            .collect();
        return Ok(MigrateOutcome::Plan(plans));
    }
    if pending.is_empty() {
        return Ok(MigrateOutcome::UpToDate);
    }
    if db.keyring().is_none() {
        let needs_keys = pending.iter().find_map(|prepared| {
            prepared.steps.iter().find_map(|step| match step {
                Step::Reseal(reseal) => Some((prepared.file, &reseal.table)),
                _ => None,
            })
        });
        if let Some((file, table)) = needs_keys {
            return Err(MigrateError::NoKeyring {
                name: file.name.clone(),
                table: table.clone(),
            });
        }
    }

    create_history_table(db).await?;
    let mut names = Vec::new();
    for prepared in &pending {
        let applied_now = if runs_outside_transaction(prepared.file, dialect) {
            apply_concurrently(db, prepared.file).await?
        } else {
            apply_in_transaction(db, prepared, data_migrations).await?
        };
        if applied_now {
            names.push(prepared.file.name.clone());
        }
    }
    Ok(if names.is_empty() {
        MigrateOutcome::UpToDate
    } else {
        MigrateOutcome::Applied(names)
    })
}

/// The migrations in `migrations` that `db` has not applied, in order.
pub(super) async fn pending(db: &Db, migrations: &Migrations) -> Result<Vec<String>, MigrateError> {
    let files = migrations.load()?;
    let applied = applied_migrations(db).await?;
    Ok(files
        .into_iter()
        .filter(|migration| !applied.contains_key(&migration.name))
        .map(|migration| migration.name)
        .collect())
}

fn runs_outside_transaction(migration: &MigrationFile, dialect: Dialect) -> bool {
    dialect == Dialect::Postgres && migration.is_concurrent()
}

/// Renders a migration's steps, checking what can be checked without running them.
fn prepare<'f>(
    migration: &'f MigrationFile,
    before: &super::SchemaState,
    dialect: Dialect,
    data_migrations: &DataMigrations,
) -> Result<Prepared<'f>, MigrateError> {
    let mut state = before.clone();
    let mut steps = Vec::new();
    for (index, operation) in migration.operations.iter().enumerate() {
        if let Operation::RunDataMigration { function } = operation
            && data_migrations.get(function).is_none()
        {
            return Err(MigrateError::UnknownDataMigration {
                path: migration.path.clone(),
                function: function.clone(),
            });
        }
        let previous = state.clone();
        state
            .apply(operation)
            .map_err(|message| migration.error_at(index, message))?;
        steps.extend(
            sql::render(operation, &previous, &state, dialect)
                .map_err(|message| migration.error_at(index, message))?,
        );
    }
    Ok(Prepared {
        file: migration,
        steps,
    })
}

/// Applied migrations and their checksums; none when the history table does not
/// exist yet.
async fn applied_migrations(db: &Db) -> Result<BTreeMap<String, String>, MigrateError> {
    if !table_exists(db, HISTORY_TABLE).await? {
        return Ok(BTreeMap::new());
    }
    let rows = Conn::Db(db)
        .fetch_all(
            Sql::Rendered(format!(
                "SELECT \"name\", \"checksum\" FROM \"{HISTORY_TABLE}\" ORDER BY \"name\""
            )),
            Arguments::new(db.dialect()),
            Access::Write,
            |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// Whether the database has a table named `table` (in the current schema, on
/// PostgreSQL).
pub(crate) async fn table_exists(db: &Db, table: &str) -> crate::Result<bool> {
    let dialect = db.dialect();
    let sql = match dialect {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    let mut args = Arguments::new(dialect);
    args.add(table.to_owned())?;
    let counts = Conn::Db(db)
        .fetch_all(Sql::Static(sql), args, Access::Write, |row| {
            row.get::<i64>(0)
        })
        .await?;
    Ok(counts.first().is_some_and(|&count| count > 0))
}

fn verify_history(
    dir: &Path,
    files: &[MigrationFile],
    applied: &BTreeMap<String, String>,
) -> Result<(), MigrateError> {
    for (name, recorded) in applied {
        let Some(migration) = files.iter().find(|file| &file.name == name) else {
            return Err(MigrateError::AppliedMigrationMissing {
                name: name.clone(),
                dir: dir.to_owned(),
            });
        };
        if &migration.checksum != recorded {
            return Err(MigrateError::ChecksumMismatch {
                name: name.clone(),
                recorded: recorded.clone(),
                actual: migration.checksum.clone(),
            });
        }
    }
    let last_applied = files
        .iter()
        .rev()
        .find(|file| applied.contains_key(&file.name));
    if let Some(last_applied) = last_applied
        && let Some(skipped) = files
            .iter()
            .find(|file| file.number < last_applied.number && !applied.contains_key(&file.name))
    {
        return Err(MigrateError::OutOfOrder {
            name: skipped.name.clone(),
            applied: last_applied.name.clone(),
        });
    }
    Ok(())
}

async fn create_history_table(db: &Db) -> Result<(), MigrateError> {
    let timestamp = match db.dialect() {
        Dialect::Sqlite => "TEXT",
        Dialect::Postgres => "TIMESTAMPTZ",
    };
    db.execute_raw(&format!(
        "CREATE TABLE IF NOT EXISTS \"{HISTORY_TABLE}\" (\
         \"name\" TEXT NOT NULL PRIMARY KEY, \
         \"checksum\" TEXT NOT NULL, \
         \"applied_at\" {timestamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    ))
    .await?;
    Ok(())
}

/// Records `migration` as applied, on `conn`.
async fn record(conn: Conn<'_>, migration: &MigrationFile) -> crate::Result<u64> {
    let dialect = conn.dialect();
    let mut args = Arguments::new(dialect);
    args.add(migration.name.clone())?;
    args.add(migration.checksum.clone())?;
    conn.execute(
        Sql::Rendered(format!(
            "INSERT INTO \"{HISTORY_TABLE}\" (\"name\", \"checksum\") VALUES ({}, {})",
            placeholder(dialect, 1),
            placeholder(dialect, 2)
        )),
        args,
    )
    .await
}

async fn is_recorded(conn: Conn<'_>, migration: &MigrationFile) -> crate::Result<bool> {
    let dialect = conn.dialect();
    let mut args = Arguments::new(dialect);
    args.add(migration.name.clone())?;
    let rows = conn
        .fetch_all(
            Sql::Rendered(format!(
                "SELECT 1 FROM \"{HISTORY_TABLE}\" WHERE \"name\" = {}",
                placeholder(dialect, 1)
            )),
            args,
            Access::Write,
            |row| row.get::<i32>(0),
        )
        .await?;
    Ok(!rows.is_empty())
}

/// Applies one migration atomically. Returns `false` when another process applied
/// it first.
///
/// On SQLite, foreign keys are off for the duration (a table rebuild drops and
/// recreates referenced tables; the pragma has no effect inside a transaction, so
/// it is set before), `PRAGMA foreign_key_check` runs before the commit, and
/// enforcement is restored afterwards whether the migration succeeded or not.
async fn apply_in_transaction(
    db: &Db,
    prepared: &Prepared<'_>,
    data_migrations: &DataMigrations,
) -> Result<bool, MigrateError> {
    let sqlite = db.dialect() == Dialect::Sqlite;
    if sqlite {
        db.set_sqlite_foreign_keys(false).await?;
    }
    let result = run_transaction(db, prepared, data_migrations).await;
    if sqlite {
        let restored = db.set_sqlite_foreign_keys(true).await;
        if result.is_ok() {
            restored?;
        }
    }
    result
}

async fn run_transaction(
    db: &Db,
    prepared: &Prepared<'_>,
    data_migrations: &DataMigrations,
) -> Result<bool, MigrateError> {
    let migration = prepared.file;
    let failed = |statement: &str, source: crate::Error| MigrateError::Apply {
        name: migration.name.clone(),
        statement: statement.to_owned(),
        source,
    };
    let mut tx = db.begin().await?;
    // Another instance may have applied it since we looked (SQLite's BEGIN
    // IMMEDIATE serializes this check). On PostgreSQL, recording first makes a
    // concurrent migrator wait on the primary key, then fail instead of applying
    // the migration twice.
    if is_recorded(Conn::Tx(&mut tx), migration).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    if let Err(error) = record(Conn::Tx(&mut tx), migration).await {
        drop(tx);
        if is_recorded(Conn::Db(db), migration).await? {
            return Ok(false);
        }
        return Err(MigrateError::Database(error));
    }
    for step in &prepared.steps {
        match step {
            Step::Sql(statement) => {
                tx.execute_raw(statement)
                    .await
                    .map_err(|source| failed(statement, source))?;
            }
            Step::DataMigration(name) => {
                let function = data_migrations.get(name).ok_or_else(|| {
                    MigrateError::UnknownDataMigration {
                        path: migration.path.clone(),
                        function: name.clone(),
                    }
                })?;
                function(&mut tx)
                    .await
                    .map_err(|source| failed(&format!("data migration `{name}`"), source))?;
            }
            Step::Reseal(reseal) => {
                let keyring = db.keyring().ok_or_else(|| MigrateError::NoKeyring {
                    name: migration.name.clone(),
                    table: reseal.table.clone(),
                })?;
                super::reseal::run(&mut tx, keyring, &migration.name, reseal).await?;
            }
        }
    }
    if tx.dialect() == Dialect::Sqlite {
        check_foreign_keys(&mut tx, migration).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn check_foreign_keys(tx: &mut Tx, migration: &MigrationFile) -> Result<(), MigrateError> {
    let mut tables = Conn::Tx(tx)
        .fetch_all(
            Sql::Static("PRAGMA foreign_key_check"),
            Arguments::new(Dialect::Sqlite),
            Access::Write,
            |row| row.get::<String>(0),
        )
        .await?;
    if tables.is_empty() {
        return Ok(());
    }
    tables.dedup();
    Err(MigrateError::ForeignKeyCheck {
        name: migration.name.clone(),
        tables,
    })
}

/// Builds indexes concurrently on PostgreSQL, which cannot happen in a
/// transaction: index by index, then recorded.
///
/// A run that was interrupted (the process killed, the connection lost) can
/// leave an index behind without recording the migration. Each index is
/// therefore looked up before it is built: a valid one with the definition the
/// migration builds is the earlier run's, finished, and is kept; an invalid one
/// with that definition is the earlier run's, unfinished, and is dropped and
/// built again; an index of that name with any other definition is not this
/// migration's, and the migration is refused rather than touching it. A build
/// that fails with an error drops the invalid index it left at once; only a
/// run that is killed leaves one for the next run to find.
async fn apply_concurrently(db: &Db, migration: &MigrationFile) -> Result<bool, MigrateError> {
    if is_recorded(Conn::Db(db), migration).await? {
        return Ok(false);
    }
    // Such a file holds `add_index` operations only (`file.rs` checks).
    for operation in &migration.operations {
        let Operation::AddIndex {
            table,
            name,
            columns,
            ..
        } = operation
        else {
            continue;
        };
        let index = Index {
            name: name.clone(),
            columns: columns.clone(),
            unique: false,
        };
        let statement = sql::create_index(table, &index, true);
        let existing = existing_index(db, table, &index).await?;
        if let Some(existing) = &existing {
            if existing.definition != existing.expected {
                return Err(MigrateError::IndexConflict {
                    name: migration.name.clone(),
                    index: index.name,
                    found: existing.definition.clone(),
                    expected: existing.expected.clone(),
                });
            }
            if existing.valid {
                tracing::warn!(
                    migration = %migration.name,
                    index = %index.name,
                    "kept the index an interrupted run of this migration built"
                );
                continue;
            }
            tracing::warn!(
                migration = %migration.name,
                index = %index.name,
                "rebuilding the invalid index an interrupted run of this migration left"
            );
            drop_index_concurrently(db, &index.name)
                .await
                .map_err(|source| MigrateError::Apply {
                    name: migration.name.clone(),
                    statement: format!("DROP INDEX CONCURRENTLY {}", quote_ident(&index.name)),
                    source,
                })?;
        }
        if let Err(source) = db.execute_raw(&statement).await {
            // Whatever the build left is invalid and only slows writes down; the
            // next run would rebuild it anyway. Not when the name was taken
            // meanwhile: that index is someone else's.
            if !is_duplicate_name(&source) {
                let _ = drop_index_concurrently(db, &index.name).await;
            }
            return Err(MigrateError::Apply {
                name: migration.name.clone(),
                statement,
                source,
            });
        }
    }
    if let Err(error) = record(Conn::Db(db), migration).await {
        // Another migrator got here first (its builds and ours found each
        // other's indexes, so both sets are the same).
        if is_recorded(Conn::Db(db), migration).await? {
            return Ok(false);
        }
        return Err(MigrateError::Database(error));
    }
    Ok(true)
}

/// An index found under the name a concurrent build is about to use.
struct ExistingIndex {
    /// Whether PostgreSQL finished building it (`pg_index.indisvalid`): an
    /// invalid index is maintained on writes but never used by queries.
    valid: bool,
    /// Its definition, as `pg_get_indexdef` prints it.
    definition: String,
    /// The index the migration builds, printed the same way, by the server's own
    /// quoting: equal texts mean the same table, columns in the same order,
    /// uniqueness, method, and no predicate, expressions or options.
    expected: String,
}

/// The index named `index.name` in the current schema, if there is one.
async fn existing_index(
    db: &Db,
    table: &str,
    index: &Index,
) -> Result<Option<ExistingIndex>, MigrateError> {
    let dialect = db.dialect();
    let mut args = Arguments::new(dialect);
    args.add(index.name.clone())?;
    args.add(table.to_owned())?;
    let mut quoted_columns = Vec::new();
    for column in &index.columns {
        args.add(column.clone())?;
        quoted_columns.push(format!(
            "quote_ident({}::text)",
            placeholder(dialect, args.len())
        ));
    }
    let unique = if index.unique { "UNIQUE " } else { "" };
    let sql = format!(
        "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid), \
         format('CREATE {unique}INDEX %I ON %I.%I USING btree (%s)', \
                c.relname, n.nspname, {table}::text, concat_ws(', ', {columns})) \
         FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname = {name}",
        name = placeholder(dialect, 1),
        table = placeholder(dialect, 2),
        columns = quoted_columns.join(", "),
    );
    let mut found = Conn::Db(db)
        .fetch_all(Sql::Rendered(sql), args, Access::Write, |row| {
            Ok(ExistingIndex {
                valid: row.get(0)?,
                definition: row.get(1)?,
                expected: row.get(2)?,
            })
        })
        .await?;
    Ok(found.pop())
}

async fn drop_index_concurrently(db: &Db, name: &str) -> crate::Result<u64> {
    db.execute_raw(&format!(
        "DROP INDEX CONCURRENTLY IF EXISTS {}",
        quote_ident(name)
    ))
    .await
}

/// Whether `error` is PostgreSQL's "relation already exists" (`42P07`).
fn is_duplicate_name(error: &crate::Error) -> bool {
    matches!(
        error,
        crate::Error::Database(sqlx::Error::Database(database_error))
            if database_error.code().as_deref() == Some("42P07")
    )
}

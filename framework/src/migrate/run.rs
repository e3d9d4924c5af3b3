//! Applying migrations to a database and recording them in `fw_migrations`.

use std::collections::BTreeMap;
use std::path::Path;

use super::file::MigrationFile;
use super::operation::Operation;
use super::sql::{self, Step};
use super::{
    DataMigrations, MigrateError, MigrateOptions, MigrateOutcome, Migrations, PlannedMigration,
    lint, replay,
};
use crate::db::{Access, Arguments, Conn, Db, Dialect, Sql, Tx, placeholder};

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
                    })
                    .collect(),
            })
            .collect();
        return Ok(MigrateOutcome::Plan(plans));
    }
    if pending.is_empty() {
        return Ok(MigrateOutcome::UpToDate);
    }

    create_history_table(db).await?;
    let mut names = Vec::new();
    for prepared in &pending {
        let applied_now = if runs_outside_transaction(prepared.file, dialect) {
            apply_concurrently(db, prepared).await?
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
    let dialect = db.dialect();
    let exists_sql = match dialect {
        Dialect::Sqlite => format!(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{HISTORY_TABLE}'"
        ),
        Dialect::Postgres => format!(
            "SELECT COUNT(*) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = '{HISTORY_TABLE}'"
        ),
    };
    let counts = Conn::Db(db)
        .fetch_all(
            Sql::Rendered(exists_sql),
            Arguments::new(dialect),
            Access::Write,
            |row| row.get::<i64>(0),
        )
        .await?;
    if counts.first().copied().unwrap_or(0) == 0 {
        return Ok(BTreeMap::new());
    }
    let rows = Conn::Db(db)
        .fetch_all(
            Sql::Rendered(format!(
                "SELECT \"name\", \"checksum\" FROM \"{HISTORY_TABLE}\" ORDER BY \"name\""
            )),
            Arguments::new(dialect),
            Access::Write,
            |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)),
        )
        .await?;
    Ok(rows.into_iter().collect())
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
/// transaction: statement by statement, then recorded. A failed build leaves an
/// invalid index behind, so it is dropped, and the migration can simply run again.
async fn apply_concurrently(db: &Db, prepared: &Prepared<'_>) -> Result<bool, MigrateError> {
    let migration = prepared.file;
    if is_recorded(Conn::Db(db), migration).await? {
        return Ok(false);
    }
    for step in &prepared.steps {
        let Step::Sql(statement) = step else { continue };
        if let Err(source) = db.execute_raw(statement).await {
            for operation in &migration.operations {
                if let Operation::AddIndex { name, .. } = operation {
                    let _ = db
                        .execute_raw(&format!(
                            "DROP INDEX CONCURRENTLY IF EXISTS {}",
                            crate::db::quote_ident(name)
                        ))
                        .await;
                }
            }
            return Err(MigrateError::Apply {
                name: migration.name.clone(),
                statement: statement.clone(),
                source,
            });
        }
    }
    record(Conn::Db(db), migration).await?;
    Ok(true)
}

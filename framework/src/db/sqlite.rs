//! The SQLite backend: a read-only pool plus one writer connection, in WAL mode.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments as _, Connection as _, Row as _, Sqlite};

use super::{Access, ConnectOptions, Sql, exhausted};
use crate::error::{Error, Result};
use crate::schema::SqlType;
use crate::value::Value;

#[derive(Clone)]
pub(super) struct Pools {
    reader: SqlitePool,
    writer: SqlitePool,
    /// The database file, with a write-ahead log to merge into it on close;
    /// an in-memory database has neither, and its readers are its writer.
    path: Option<std::path::PathBuf>,
}

impl Pools {
    pub(super) async fn connect(url: &str, connect: &ConnectOptions) -> Result<Pools> {
        // Writers queue for the writer connection, then wait for the file's lock
        // while another process (the CLI importing while the server runs, say)
        // holds it; both waits end in `Error::Unavailable`.
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| Error::InvalidUrl {
                url: url.to_owned(),
                reason: error.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(connect.wait_timeout)
            .foreign_keys(true);
        if let Some(parent) = std::path::Path::new(options.get_filename()).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|error| Error::InvalidUrl {
                url: url.to_owned(),
                reason: format!("cannot create directory `{}`: {error}", parent.display()),
            })?;
        }
        // An in-memory database exists per connection, so it gets a single
        // connection that both reads and writes.
        let in_memory = options.get_filename().as_os_str() == ":memory:";
        let mut writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(connect.wait_timeout)
            .idle_timeout(None)
            .max_lifetime(None);
        if !in_memory {
            writer = writer.before_acquire(|connection, _| {
                // A failed statement can end the transaction inside SQLite (a full
                // disk rolls it back) while the driver still counts it as open, and
                // it would then refuse every later `BEGIN`. Such a connection is
                // closed and the writer opens a fresh one. The pool pinged the
                // connection on release, after the rollback a dropped transaction
                // queues, so the count is settled here. (An in-memory database
                // lives in its connection, so it is kept.)
                Box::pin(async move { Ok(!connection.is_in_transaction()) })
            });
        }
        let path = (!in_memory).then(|| options.get_filename().to_path_buf());
        let writer = writer.connect_with(options.clone()).await?;
        let reader = if in_memory {
            writer.clone()
        } else {
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get().max(4));
            SqlitePoolOptions::new()
                .max_connections(readers as u32)
                .acquire_timeout(connect.wait_timeout)
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Pools {
            reader,
            writer,
            path,
        })
    }

    pub(super) fn pool(&self, access: Access) -> &SqlitePool {
        match access {
            Access::Read => &self.reader,
            Access::Write => &self.writer,
        }
    }

    /// The pools' states: the readers and the writer of a file, the one
    /// connection of an in-memory database.
    pub(super) fn states(&self) -> Vec<super::PoolState> {
        let writer = super::PoolState::of("write", &self.writer);
        if self.path.is_some() {
            vec![super::PoolState::of("read", &self.reader), writer]
        } else {
            vec![writer]
        }
    }

    /// Whether the database answers: its file is still where it was opened
    /// (open connections would go on reading one that was deleted or moved
    /// away, and writing where no one will find it), and a reader runs a query.
    pub(super) async fn ping(&self) -> Result<()> {
        if let Some(path) = &self.path
            && let Err(error) = std::fs::metadata(path)
        {
            return Err(Error::Unavailable {
                cause: crate::error::Unavailable::Unreachable,
                source: sqlx::Error::Io(error),
            });
        }
        execute_raw(&self.reader, "SELECT 1").await.map(drop)
    }

    /// Whether every reader connection is open and in use.
    pub(super) fn readers_exhausted(&self) -> bool {
        exhausted(&self.reader)
    }

    pub(super) async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self
            .writer
            .begin_with(sqlx::AssertSqlSafe("BEGIN IMMEDIATE"))
            .await?)
    }

    /// Closes the readers, merges the write-ahead log into the database file,
    /// then closes the writer: afterwards the `.db` file alone holds every
    /// committed row, so copying it is a complete backup. (SQLite merges the log
    /// itself only when the last connection to close can write, and a read-only
    /// reader may well be the last.)
    pub(super) async fn close(&self) {
        if self.path.is_some() {
            self.reader.close().await;
            // One row: whether another process's reader kept the log from being
            // merged whole, and the log's and the merged frames' counts.
            let checkpoint: std::result::Result<(i64, i64, i64), sqlx::Error> =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(&self.writer)
                    .await;
            match checkpoint {
                Ok((0, _, _)) => {}
                Ok(_) => tracing::warn!(
                    "another process was reading the database, so part of the write-ahead \
                     log is not merged into the database file yet; keep the `-wal` file \
                     beside it, or copy the database with `VACUUM INTO`"
                ),
                Err(error) => tracing::warn!(
                    %error,
                    "could not merge the write-ahead log into the database file; keep the \
                     `-wal` file beside it, or copy the database with `VACUUM INTO`"
                ),
            }
        }
        self.writer.close().await;
    }

    pub(super) async fn execute(&self, sql: Sql, args: SqliteArguments) -> Result<u64> {
        execute(&self.writer, sql, args).await
    }

    pub(super) async fn execute_raw(&self, sql: &str) -> Result<u64> {
        execute_raw(&self.writer, sql).await
    }
}

pub(super) async fn execute<'e>(
    executor: impl sqlx::Executor<'e, Database = Sqlite>,
    sql: Sql,
    args: SqliteArguments,
) -> Result<u64> {
    let result = sqlx::query_with(sql.into_sqlx(), args)
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}

pub(super) async fn execute_raw<'e>(
    executor: impl sqlx::Executor<'e, Database = Sqlite>,
    sql: &str,
) -> Result<u64> {
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(executor)
        .await?;
    Ok(result.rows_affected())
}

fn encode_error(error: sqlx::error::BoxDynError) -> Error {
    Error::Database(sqlx::Error::Encode(error))
}

pub(super) fn add_null(args: &mut SqliteArguments, sql_type: SqlType) -> Result<()> {
    // SQLite columns are dynamically typed: a NULL is a NULL whatever the column.
    let _ = sql_type;
    args.add(None::<i64>).map_err(encode_error)
}

pub(super) fn add_value(args: &mut SqliteArguments, value: &Value) -> Result<()> {
    let result = match value {
        Value::Null => args.add(None::<i64>),
        Value::Bool(value) => args.add(*value),
        Value::Int(value) => args.add(*value),
        Value::Text(value) => args.add(value.clone()),
        Value::Decimal(value) => args.add(value.normalize().to_string()),
        Value::Date(value) => args.add(*value),
        Value::Timestamp(value) => args.add(*value),
        Value::Uuid(value) => args.add(*value),
        Value::Json(value) => args.add(sqlx::types::Json(value.clone())),
    };
    result.map_err(encode_error)
}

pub(super) fn get_decimal(row: &SqliteRow, index: usize) -> Result<Option<Decimal>> {
    let text: Option<String> = row.try_get(index).map_err(|error| Error::Decode {
        column: index.to_string(),
        reason: error.to_string(),
    })?;
    text.map(|text| {
        Decimal::from_str_exact(&text).map_err(|error| Error::Decode {
            column: index.to_string(),
            reason: format!("`{text}` is not a decimal: {error}"),
        })
    })
    .transpose()
}

/// Binds `values` as one JSON array of each value as SQLite stores it (UUIDs,
/// stored as blobs, as hex for `unhex`), for `json_each`.
pub(super) fn add_list(
    args: &mut SqliteArguments,
    sql_type: SqlType,
    values: &[Value],
) -> Result<()> {
    use serde_json::Value as Json;
    let stored = |value: &Value| -> Result<Json> {
        Ok(match value {
            Value::Bool(value) => Json::from(i64::from(*value)),
            Value::Int(value) => Json::from(*value),
            Value::Text(value) => Json::from(value.as_str()),
            Value::Decimal(value) => Json::from(value.normalize().to_string()),
            Value::Date(value) => Json::from(value.format("%F").to_string()),
            // As sqlx writes a timestamp.
            Value::Timestamp(value) => {
                Json::from(value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
            }
            Value::Uuid(value) => Json::from(value.simple().to_string()),
            Value::Null | Value::Json(_) => {
                return Err(encode_error(
                    format!("a list of {sql_type:?} values cannot hold {value:?}").into(),
                ));
            }
        })
    };
    let list = values.iter().map(stored).collect::<Result<Vec<_>>>()?;
    args.add(Json::Array(list).to_string())
        .map_err(encode_error)
}

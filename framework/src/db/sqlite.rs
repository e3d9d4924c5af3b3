//! The SQLite backend: a read-only pool plus one writer connection, in WAL mode.

use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments as _, Connection as _, Row as _, Sqlite};

use super::{Access, ConnectOptions, Sql};
use crate::error::{Error, Result};
use crate::schema::SqlType;
use crate::value::Value;

#[derive(Clone)]
pub(super) struct Pools {
    reader: SqlitePool,
    writer: SqlitePool,
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
        Ok(Pools { reader, writer })
    }

    pub(super) fn pool(&self, access: Access) -> &SqlitePool {
        match access {
            Access::Read => &self.reader,
            Access::Write => &self.writer,
        }
    }

    pub(super) async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self
            .writer
            .begin_with(sqlx::AssertSqlSafe("BEGIN IMMEDIATE"))
            .await?)
    }

    pub(super) async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
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

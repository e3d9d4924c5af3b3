//! [`Db`]: a pooled connection to SQLite or PostgreSQL, chosen at run time from the
//! database URL.
//!
//! Each backend lives in its own module; everything else in fw reaches them through
//! the enums here, with one `match` per operation.

mod postgres;
mod sqlite;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::schema::SqlType;
use crate::sensitive::Keyring;
use crate::value::Value;

pub use fw_core::Dialect;
pub(crate) use fw_core::{placeholder, push_placeholder, push_quoted_ident, quote_ident};

/// A pool of connections to one database.
///
/// Cloning is cheap and shares the pool. On SQLite, fw keeps a pool of read-only
/// connections and a single writer connection, in WAL mode with a busy timeout:
/// SQLite allows one writer at a time, so queueing writers in the pool (instead of
/// letting them race for the file lock) means callers never see "database is
/// locked" under load.
///
/// Every wait is bounded by [`ConnectOptions::wait_timeout`]: for a connection
/// from the pool, and on SQLite for the file's write lock when another process (an
/// import, say) holds it. Past it, and when the database is unreachable or full,
/// an operation fails promptly with [`Error::Unavailable`], which the REST layer
/// answers with 503 and `Retry-After`. A writer connection that a failure left
/// inside a transaction (SQLite rolls back by itself on a full disk) is closed
/// when it returns to the pool and a fresh one is opened, so one failure never
/// poisons later writes.
///
/// ```no_run
/// # async fn example() -> fw::Result<()> {
/// let db = fw::Db::connect("sqlite://data/app.db").await?;
/// assert_eq!(db.dialect(), fw::Dialect::Sqlite);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Db {
    // One reference count per clone: handlers clone the handle per request.
    shared: Arc<Shared>,
}

struct Shared {
    pools: Pools,
    /// What deleting a row writes besides the row, for the layers above to
    /// see (see [`App::attach`](crate::App::attach)); none for a bare connection.
    before_delete: Option<Arc<dyn BeforeDelete>>,
    /// The keys sensitive fields are sealed with; none for a bare connection.
    keyring: Option<Arc<Keyring>>,
}

#[derive(Clone)]
enum Pools {
    Sqlite(sqlite::Pools),
    Postgres(sqlx::PgPool),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Opens a pool for `url`: `sqlite://path/to/file.db` (created with its parent
    /// directory if missing), `sqlite::memory:`, or `postgres://user@host/db`, with
    /// the default [`ConnectOptions`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] for an unknown scheme, and [`Error::Unavailable`] or
    /// [`Error::Database`] when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, ConnectOptions::default()).await
    }

    /// Opens a pool for `url` (see [`Db::connect`]) with `options`.
    ///
    /// ```no_run
    /// # async fn example() -> fw::Result<()> {
    /// use std::time::Duration;
    ///
    /// let options = fw::ConnectOptions::default().wait_timeout(Duration::from_secs(2));
    /// let db = fw::Db::connect_with("postgres://app@db.internal/app", options).await?;
    /// # let _ = db;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Db::connect`].
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Db> {
        let pools = if url.starts_with("sqlite:") {
            Pools::Sqlite(sqlite::Pools::connect(url, &options).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Pools::Postgres(postgres::connect(url, &options).await?)
        } else {
            return Err(Error::InvalidUrl {
                url: redact_url(url),
                reason: "expected a URL starting with `sqlite:` or `postgres:`, \
                         for example `sqlite://data/app.db`"
                    .to_owned(),
            });
        };
        Ok(Db {
            shared: Arc::new(Shared {
                pools,
                before_delete: None,
                keyring: None,
            }),
        })
    }

    /// This handle, with `work` to run before every delete it reaches.
    pub(crate) fn with_before_delete(&self, work: Arc<dyn BeforeDelete>) -> Db {
        Db {
            shared: Arc::new(Shared {
                pools: self.shared.pools.clone(),
                before_delete: Some(work),
                keyring: self.shared.keyring.clone(),
            }),
        }
    }

    /// This handle, sealing and opening sensitive fields with `keyring`; the
    /// app's handles get the configured keys this way.
    #[must_use]
    pub fn with_keyring(&self, keyring: Arc<Keyring>) -> Db {
        Db {
            shared: Arc::new(Shared {
                pools: self.shared.pools.clone(),
                before_delete: self.shared.before_delete.clone(),
                keyring: Some(keyring),
            }),
        }
    }

    /// The keys sensitive fields are sealed with, when this handle has them.
    pub fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.shared.keyring.as_ref()
    }

    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        match &self.shared.pools {
            Pools::Sqlite(_) => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Starts a transaction. Pass `&mut tx` wherever a `&Db` is accepted to run an
    /// operation inside it; nothing is visible to others until [`Tx::commit`].
    ///
    /// On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads and then writes cannot fail half-way with "locked".
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when no connection (on SQLite, not the write lock)
    /// can be had within [`ConnectOptions::wait_timeout`].
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.shared.pools {
            Pools::Sqlite(pools) => TxInner::Sqlite(pools.begin().await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            before_commit: Vec::new(),
            on_commit: Vec::new(),
            before_delete: self.shared.before_delete.clone(),
            keyring: self.shared.keyring.clone(),
        })
    }

    /// Each connection pool's state now, for the metrics.
    pub(crate) fn pool_states(&self) -> Vec<PoolState> {
        match &self.shared.pools {
            Pools::Sqlite(pools) => pools.states(),
            Pools::Postgres(pool) => vec![PoolState::of("main", pool)],
        }
    }

    /// Closes every connection, waiting for ones in use to be returned.
    pub async fn close(&self) {
        match &self.shared.pools {
            Pools::Sqlite(pools) => pools.close().await,
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Whether the database answers a query: on SQLite, also whether its file
    /// is still where it was opened. Waits for a connection as long as any
    /// operation does ([`ConnectOptions::wait_timeout`]).
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] when no connection can be had or the SQLite file
    /// is gone, [`Error::Database`] when the query fails.
    pub async fn ping(&self) -> Result<()> {
        match &self.shared.pools {
            Pools::Sqlite(pools) => pools.ping().await,
            Pools::Postgres(pool) => postgres::execute_raw(pool, "SELECT 1").await.map(drop),
        }
    }

    /// Whether every connection the pool may open is open and in use, so an
    /// operation now waits for one to be returned (on SQLite, of the readers;
    /// writers queue for the single writer by design).
    pub fn pool_exhausted(&self) -> bool {
        match &self.shared.pools {
            Pools::Sqlite(pools) => pools.readers_exhausted(),
            Pools::Postgres(pool) => exhausted(pool),
        }
    }

    /// Runs one SQL statement with no parameters, for migrations and set-up code.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the statement fails.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Conn::Db(self).execute_raw(sql).await
    }

    /// Turns SQLite's foreign-key enforcement on or off for the writer connection,
    /// for migrations that rebuild tables. There is exactly one writer connection and
    /// every write and transaction runs on it, so the setting applies to the next
    /// [`Db::begin`]. Call it outside a transaction: SQLite ignores the pragma inside
    /// one. Does nothing on PostgreSQL.
    pub(crate) async fn set_sqlite_foreign_keys(&self, enabled: bool) -> Result<()> {
        if let Pools::Sqlite(pools) = &self.shared.pools {
            let value = if enabled { "ON" } else { "OFF" };
            pools
                .execute_raw(&format!("PRAGMA foreign_keys = {value}"))
                .await?;
        }
        Ok(())
    }
}

/// One connection pool's state, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolState {
    /// `read` and `write` on SQLite (a file's readers and its one writer),
    /// `main` on PostgreSQL.
    pub(crate) name: &'static str,
    /// Connections open, idle or in use.
    pub(crate) open: u32,
    /// Connections open and idle.
    pub(crate) idle: u32,
    /// The most connections the pool opens.
    pub(crate) max: u32,
}

impl PoolState {
    fn of<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolState {
        PoolState {
            name,
            open: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
}

/// Whether `pool` has opened all the connections it may and none is idle.
fn exhausted<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> bool {
    pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections()
}

/// How a [`Db`] waits for the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    wait_timeout: Duration,
    max_connections: u32,
}

impl ConnectOptions {
    /// How long an operation waits for the database before failing with
    /// [`Error::Unavailable`]: for a pooled connection (all in use, or the server
    /// unreachable) and, on SQLite, for the write lock another process holds. A
    /// SQLite write may wait twice, queueing for the writer connection and then for
    /// the lock. Default [`ConnectOptions::DEFAULT_WAIT_TIMEOUT`], well under a
    /// request's timeout, so a client gets a prompt 503 rather than a hung request.
    pub fn wait_timeout(mut self, wait_timeout: Duration) -> ConnectOptions {
        self.wait_timeout = wait_timeout;
        self
    }

    /// The default of [`ConnectOptions::wait_timeout`]: 5 seconds, ample for a
    /// queue of ordinary writes (each holds SQLite's lock for milliseconds).
    pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(5);

    /// The most connections a PostgreSQL pool opens (at least 1), default
    /// [`ConnectOptions::DEFAULT_MAX_CONNECTIONS`]. Each operation running
    /// holds one, so size one pool for the operations that run at once and
    /// share it (clones of a [`Db`] do), rather than connecting a pool per
    /// task; the server's `max_connections` bounds the sum over every process.
    /// SQLite keeps its one writer and a reader per core (at least four),
    /// whatever this says.
    pub fn max_connections(mut self, max_connections: u32) -> ConnectOptions {
        self.max_connections = max_connections.max(1);
        self
    }

    /// The default of [`ConnectOptions::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 16;
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            wait_timeout: ConnectOptions::DEFAULT_WAIT_TIMEOUT,
            max_connections: ConnectOptions::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Work that a layer above the database does in a transaction right before
/// its `COMMIT`, so that what it writes commits with the transaction or not at
/// all: the change log numbers and inserts the records of the transaction's
/// writes. It is registered with [`Tx::before_commit`] and gathers its state as
/// the transaction goes.
pub(crate) trait BeforeCommit: Any + Send + Sync {
    /// Runs in `tx` just before it commits; an error aborts the commit.
    fn run(self: Box<Self>, tx: &mut Tx) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>>;
}

/// What deleting a row writes besides the row, that a layer above the database
/// must see: the change log records what the database's `on_delete` actions are
/// about to do to the rows that reference it. Given to a [`Db`] with
/// [`Db::with_before_delete`].
pub(crate) trait BeforeDelete: Send + Sync {
    /// Whether deleting a row of `table` has anything to do.
    fn reaches(&self, table: &str) -> bool;

    /// Runs in `tx` before the row of `table` keyed `key` is deleted.
    fn run<'t>(
        &'t self,
        tx: &'t mut Tx,
        table: &'static str,
        key: Value,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 't>>;
}

/// A database transaction; it rolls back when dropped without [`Tx::commit`].
pub struct Tx {
    inner: TxInner,
    /// At most one of each type, in the order they were registered.
    before_commit: Vec<Box<dyn BeforeCommit>>,
    /// Called once the commit has succeeded, in the order they were registered.
    on_commit: Vec<fn()>,
    before_delete: Option<Arc<dyn BeforeDelete>>,
    keyring: Option<Arc<Keyring>>,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl fmt::Debug for Tx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tx")
            .field("dialect", &self.dialect())
            .finish_non_exhaustive()
    }
}

impl Tx {
    /// This transaction's `W`, registered (as `W::default()`) on first use, to
    /// run right before the commit.
    pub(crate) fn before_commit<W: BeforeCommit + Default>(&mut self) -> &mut W {
        let registered = self
            .before_commit
            .iter()
            .position(|work| (&**work as &dyn Any).is::<W>());
        let index = registered.unwrap_or_else(|| {
            self.before_commit.push(Box::new(W::default()));
            self.before_commit.len() - 1
        });
        (&mut *self.before_commit[index] as &mut dyn Any)
            .downcast_mut::<W>()
            .expect("the work at `index` is a `W`: found or pushed above")
    }

    /// Calls `notify` once this transaction has committed, to tell others
    /// about what it wrote (the change log wakes its sequencer): not at all
    /// if it rolls back or the commit fails.
    pub(crate) fn on_commit(&mut self, notify: fn()) {
        self.on_commit.push(notify);
    }

    /// Runs the work registered to run before a row of `table` is deleted.
    pub(crate) async fn run_before_delete(
        &mut self,
        table: &'static str,
        key: Value,
    ) -> Result<()> {
        match self.before_delete.clone() {
            Some(work) => work.run(self, table, key).await,
            None => Ok(()),
        }
    }

    /// The dialect of the database this transaction runs on.
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            TxInner::Sqlite(_) => Dialect::Sqlite,
            TxInner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Commits the transaction, with the change records of its writes (see
    /// [`changes`](crate::changes)): the work registered to run before the
    /// commit runs first, in order.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] or [`Error::Unavailable`] when the commit fails;
    /// nothing was written then, unless the connection was lost during the
    /// `COMMIT` itself, which leaves the outcome unknown.
    pub async fn commit(mut self) -> Result<()> {
        for work in std::mem::take(&mut self.before_commit) {
            work.run(&mut self).await?;
        }
        match self.inner {
            TxInner::Sqlite(tx) => tx.commit().await?,
            TxInner::Postgres(tx) => tx.commit().await?,
        }
        for notify in self.on_commit {
            notify();
        }
        Ok(())
    }

    /// Rolls the transaction back explicitly (dropping it does the same).
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the connection fails.
    pub async fn rollback(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.rollback().await?,
            TxInner::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }

    /// Runs one SQL statement with no parameters inside the transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the statement fails.
    pub async fn execute_raw(&mut self, sql: &str) -> Result<u64> {
        Conn::Tx(self).execute_raw(sql).await
    }
}

/// Where an operation runs: on the pool or inside a transaction.
///
/// Every query function accepts `&Db` or `&mut Tx` through this conversion.
#[derive(Debug)]
pub enum Conn<'c> {
    /// On a pooled connection, committed immediately.
    Db(&'c Db),
    /// Inside a transaction.
    Tx(&'c mut Tx),
}

impl<'c> From<&'c Db> for Conn<'c> {
    fn from(db: &'c Db) -> Self {
        Conn::Db(db)
    }
}

impl<'c> From<&'c mut Tx> for Conn<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

impl<'c> From<&'c mut Conn<'_>> for Conn<'c> {
    fn from(conn: &'c mut Conn<'_>) -> Self {
        conn.reborrow()
    }
}

impl Conn<'_> {
    /// The dialect of the underlying database.
    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Db(db) => db.dialect(),
            Conn::Tx(tx) => tx.dialect(),
        }
    }

    /// Whether deleting a row of `table` has work to do before it (see
    /// [`BeforeDelete`]).
    pub(crate) fn before_delete_reaches(&self, table: &str) -> bool {
        let work = match self {
            Conn::Db(db) => &db.shared.before_delete,
            Conn::Tx(tx) => &tx.before_delete,
        };
        work.as_ref().is_some_and(|work| work.reaches(table))
    }

    /// The keys to seal and open `table`'s sensitive fields with.
    ///
    /// # Errors
    ///
    /// [`Error::NoKeyring`] when the handle has none.
    pub(crate) fn keyring(&self, table: &'static str) -> Result<&Arc<Keyring>> {
        let keyring = match self {
            Conn::Db(db) => &db.shared.keyring,
            Conn::Tx(tx) => &tx.keyring,
        };
        keyring.as_ref().ok_or(Error::NoKeyring { table })
    }

    /// A shorter-lived handle to the same connection, so one `Conn` can run several
    /// statements.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Db(db) => Conn::Db(db),
            Conn::Tx(tx) => Conn::Tx(tx),
        }
    }

    /// Runs a statement that returns no rows; returns the number of rows affected.
    pub(crate) async fn execute(self, sql: Sql, args: Arguments) -> Result<u64> {
        match (self, args) {
            (Conn::Db(db), Arguments::Sqlite(args)) => match &db.shared.pools {
                Pools::Sqlite(pools) => pools.execute(sql, args).await,
                Pools::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Db(db), Arguments::Postgres(args)) => match &db.shared.pools {
                Pools::Postgres(pool) => postgres::execute(pool, sql, args).await,
                Pools::Sqlite(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Sqlite(args)) => match &mut tx.inner {
                TxInner::Sqlite(tx) => sqlite::execute(&mut **tx, sql, args).await,
                TxInner::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Postgres(args)) => match &mut tx.inner {
                TxInner::Postgres(tx) => postgres::execute(&mut **tx, sql, args).await,
                TxInner::Sqlite(_) => Err(dialect_mismatch()),
            },
        }
    }

    /// Runs a query and returns all rows, decoded with `decode`.
    pub(crate) async fn fetch_all<T>(
        self,
        sql: Sql,
        args: Arguments,
        access: Access,
        decode: impl Fn(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match (self, args) {
            (Conn::Db(db), Arguments::Sqlite(args)) => match &db.shared.pools {
                Pools::Sqlite(pools) => fetch_all(pools.pool(access), sql, args, decode).await,
                Pools::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Db(db), Arguments::Postgres(args)) => match &db.shared.pools {
                Pools::Postgres(pool) => fetch_all(pool, sql, args, decode).await,
                Pools::Sqlite(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Sqlite(args)) => match &mut tx.inner {
                TxInner::Sqlite(tx) => fetch_all(&mut **tx, sql, args, decode).await,
                TxInner::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Postgres(args)) => match &mut tx.inner {
                TxInner::Postgres(tx) => fetch_all(&mut **tx, sql, args, decode).await,
                TxInner::Sqlite(_) => Err(dialect_mismatch()),
            },
        }
    }

    /// Runs a query and returns the first row, if any, decoded with `decode`.
    pub(crate) async fn fetch_optional<T>(
        self,
        sql: Sql,
        args: Arguments,
        access: Access,
        decode: impl Fn(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match (self, args) {
            (Conn::Db(db), Arguments::Sqlite(args)) => match &db.shared.pools {
                Pools::Sqlite(pools) => fetch_optional(pools.pool(access), sql, args, decode).await,
                Pools::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Db(db), Arguments::Postgres(args)) => match &db.shared.pools {
                Pools::Postgres(pool) => fetch_optional(pool, sql, args, decode).await,
                Pools::Sqlite(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Sqlite(args)) => match &mut tx.inner {
                TxInner::Sqlite(tx) => fetch_optional(&mut **tx, sql, args, decode).await,
                TxInner::Postgres(_) => Err(dialect_mismatch()),
            },
            (Conn::Tx(tx), Arguments::Postgres(args)) => match &mut tx.inner {
                TxInner::Postgres(tx) => fetch_optional(&mut **tx, sql, args, decode).await,
                TxInner::Sqlite(_) => Err(dialect_mismatch()),
            },
        }
    }

    /// Runs one or more statements with no parameters (simple query protocol).
    pub(crate) async fn execute_raw(self, sql: &str) -> Result<u64> {
        match self {
            Conn::Db(db) => match &db.shared.pools {
                Pools::Sqlite(pools) => pools.execute_raw(sql).await,
                Pools::Postgres(pool) => postgres::execute_raw(pool, sql).await,
            },
            Conn::Tx(tx) => match &mut tx.inner {
                TxInner::Sqlite(tx) => sqlite::execute_raw(&mut **tx, sql).await,
                TxInner::Postgres(tx) => postgres::execute_raw(&mut **tx, sql).await,
            },
        }
    }
}

/// Whether a statement may write. On SQLite, reads go to the read-only pool and
/// writes queue for the single writer connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
}

/// Runs a query and decodes every row; shared by both backends.
async fn fetch_all<'e, DB, T>(
    executor: impl sqlx::Executor<'e, Database = DB>,
    sql: Sql,
    args: DB::Arguments,
    decode: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>>
where
    DB: sqlx::Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> Row<'r>: From<&'r DB::Row>,
{
    let rows = sqlx::query_with(sql.into_sqlx(), args)
        .fetch_all(executor)
        .await?;
    rows.iter().map(|row| decode(&Row::from(row))).collect()
}

/// Runs a query and decodes its first row, if any; shared by both backends.
async fn fetch_optional<'e, DB, T>(
    executor: impl sqlx::Executor<'e, Database = DB>,
    sql: Sql,
    args: DB::Arguments,
    decode: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Option<T>>
where
    DB: sqlx::Database,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> Row<'r>: From<&'r DB::Row>,
{
    let row = sqlx::query_with(sql.into_sqlx(), args)
        .fetch_optional(executor)
        .await?;
    row.map(|row| decode(&Row::from(&row))).transpose()
}

fn dialect_mismatch() -> Error {
    Error::Database(sqlx::Error::Protocol(
        "fw bug: arguments built for one dialect were sent to the other".to_owned(),
    ))
}

/// SQL text handed to the driver: a constant generated at compile time, or a string
/// rendered by the query builder (which only ever interpolates identifiers from the
/// static schema and `$n` placeholders, never values).
#[derive(Debug)]
pub(crate) enum Sql {
    /// A compile-time constant.
    Static(&'static str),
    /// Rendered at run time from the static schema.
    Rendered(String),
}

impl Sql {
    fn into_sqlx(self) -> sqlx::SqlStr {
        use sqlx::SqlSafeStr;
        match self {
            Sql::Static(sql) => sql.into_sql_str(),
            Sql::Rendered(sql) => sqlx::AssertSqlSafe(sql).into_sql_str(),
        }
    }
}

impl From<&'static str> for Sql {
    fn from(sql: &'static str) -> Self {
        Sql::Static(sql)
    }
}

impl From<String> for Sql {
    fn from(sql: String) -> Self {
        Sql::Rendered(sql)
    }
}

/// Bound parameters of one statement, for one dialect.
#[derive(Debug)]
pub enum Arguments {
    /// SQLite parameters.
    Sqlite(sqlx::sqlite::SqliteArguments),
    /// PostgreSQL parameters.
    Postgres(sqlx::postgres::PgArguments),
}

impl Arguments {
    /// Empty arguments for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Sqlite => Arguments::Sqlite(Default::default()),
            Dialect::Postgres => Arguments::Postgres(Default::default()),
        }
    }

    /// The dialect these arguments are for.
    pub fn dialect(&self) -> Dialect {
        match self {
            Arguments::Sqlite(_) => Dialect::Sqlite,
            Arguments::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Binds a value that both drivers encode natively.
    pub fn add<T>(&mut self, value: T) -> Result<()>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::Arguments as _;
        let result = match self {
            Arguments::Sqlite(args) => args.add(value),
            Arguments::Postgres(args) => args.add(value),
        };
        result.map_err(|error| Error::Database(sqlx::Error::Encode(error)))
    }

    /// Binds a typed NULL of `sql_type`.
    pub fn add_null(&mut self, sql_type: SqlType) -> Result<()> {
        match self {
            Arguments::Sqlite(args) => sqlite::add_null(args, sql_type),
            Arguments::Postgres(args) => postgres::add_null(args, sql_type),
        }
    }

    /// Binds a type-erased value, as its column's type.
    pub fn add_value(&mut self, value: &crate::Value) -> Result<()> {
        match self {
            Arguments::Sqlite(args) => sqlite::add_value(args, value),
            Arguments::Postgres(args) => postgres::add_value(args, value),
        }
    }

    /// Binds a type-erased value into a column of `sql_type` (a NULL carries the
    /// column's type, which PostgreSQL needs in assignments).
    pub fn add_typed(&mut self, value: &crate::Value, sql_type: SqlType) -> Result<()> {
        match value {
            crate::Value::Null => self.add_null(sql_type),
            value => self.add_value(value),
        }
    }

    /// Binds `values`, all of `sql_type`, as one parameter: an array on
    /// PostgreSQL (for `= ANY(...)`), a JSON array of the values as stored on
    /// SQLite (for `IN (SELECT ... FROM json_each(...))`). The statement's text
    /// then does not depend on the list's length, so lists of any length share
    /// one prepared statement.
    pub(crate) fn add_list(&mut self, sql_type: SqlType, values: &[crate::Value]) -> Result<()> {
        match self {
            Arguments::Sqlite(args) => sqlite::add_list(args, sql_type, values),
            Arguments::Postgres(args) => postgres::add_list(args, sql_type, values),
        }
    }

    /// Binds an exact decimal: natively on PostgreSQL, as canonical text on SQLite
    /// (which has no exact decimal type).
    pub fn add_decimal(&mut self, value: &rust_decimal::Decimal) -> Result<()> {
        self.add_value(&crate::Value::Decimal(*value))
    }

    /// The number of parameters bound so far.
    pub fn len(&self) -> usize {
        use sqlx::Arguments as _;
        match self {
            Arguments::Sqlite(args) => args.len(),
            Arguments::Postgres(args) => args.len(),
        }
    }

    /// Whether no parameter is bound yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One result row; its columns decode by index into any [`Field`](crate::Field)
/// type, the same way on both databases.
#[derive(Debug)]
pub struct Row<'r>(RowInner<'r>);

#[derive(Debug)]
enum RowInner<'r> {
    Sqlite(&'r sqlx::sqlite::SqliteRow),
    Postgres(&'r sqlx::postgres::PgRow),
}

impl<'r> From<&'r sqlx::sqlite::SqliteRow> for Row<'r> {
    fn from(row: &'r sqlx::sqlite::SqliteRow) -> Self {
        Row(RowInner::Sqlite(row))
    }
}

impl<'r> From<&'r sqlx::postgres::PgRow> for Row<'r> {
    fn from(row: &'r sqlx::postgres::PgRow) -> Self {
        Row(RowInner::Postgres(row))
    }
}

impl Row<'_> {
    /// Decodes column `index` with a type both drivers decode natively; the
    /// [`Field`](crate::Field) implementations of such types are built on it.
    pub(crate) fn get_native<T>(&self, index: usize) -> Result<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'r> sqlx::Decode<'r, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::Row as _;
        let result = match self.0 {
            RowInner::Sqlite(row) => row.try_get(index),
            RowInner::Postgres(row) => row.try_get(index),
        };
        result.map_err(|error| Error::Decode {
            column: index.to_string(),
            reason: error.to_string(),
        })
    }

    /// Decodes an exact decimal (see [`Arguments::add_decimal`]).
    pub(crate) fn get_decimal(&self, index: usize) -> Result<Option<rust_decimal::Decimal>> {
        match self.0 {
            RowInner::Sqlite(row) => sqlite::get_decimal(row, index),
            RowInner::Postgres(row) => postgres::get_decimal(row, index),
        }
    }

    /// Whether column `index` holds NULL.
    pub(crate) fn is_null(&self, index: usize) -> bool {
        use sqlx::{Row as _, ValueRef as _};
        match self.0 {
            RowInner::Sqlite(row) => row.try_get_raw(index).is_ok_and(|value| value.is_null()),
            RowInner::Postgres(row) => row.try_get_raw(index).is_ok_and(|value| value.is_null()),
        }
    }
}

/// The current time at the precision both databases store (microseconds), so a
/// row reads back exactly as it was written.
pub(crate) fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// What ends the `SELECT` of a row about to be changed, so that the row cannot
/// change before the write: `FOR UPDATE` on PostgreSQL.
pub(crate) fn lock_clause(dialect: Dialect) -> &'static str {
    match dialect {
        // The single writer already excludes everyone else.
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE",
    }
}

/// Removes the password from a database URL so it can be logged.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

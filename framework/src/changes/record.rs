//! Building change records during a transaction and numbering them at commit.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::tables::{CHANGES_TABLE, COUNTER_TABLE};
use super::{Operation, current_context};
use crate::db::{Access, Arguments, BeforeCommit, Conn, Dialect, Tx, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Model;
use crate::schema::{FieldSchema, Generated};
use crate::value::Value;

/// Change records of a transaction not yet in the log. At most
/// [`HELD_RECORDS`] are held in memory; beyond that they are written to the
/// database as the transaction goes (see [`write_held`]), so a transaction of a
/// million writes holds no more than one of a thousand. Whatever is written
/// goes with the transaction: committed with it, rolled back with it.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    held: Vec<PendingChange>,
    /// PostgreSQL: how many records are in the staging table, numbered from 1 in
    /// the order they were made.
    staged: i64,
}

/// How many change records a transaction holds in memory before writing them:
/// small enough that memory does not grow with the transaction, large enough
/// that a typical transaction never writes early.
const HELD_RECORDS: usize = 1000;

#[derive(Debug)]
struct PendingChange {
    model: &'static str,
    key: String,
    operation: Operation,
    version: Option<i64>,
    fields: Box<RawValue>,
    at: DateTime<Utc>,
    actor: Option<String>,
    request_id: Option<String>,
}

/// Records of a write are built from the rows themselves, so what is logged is
/// exactly what the database stored.
pub(crate) async fn record_insert<M: Model>(tx: &mut Tx, row: &M) -> Result<()> {
    let values = row.values();
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(&values)
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| FieldRecord::new(field, None, Some(value)))
        .collect();
    push::<M>(tx, row, Operation::Insert, &fields).await
}

/// Only fields whose value differs are recorded.
pub(crate) async fn record_update<M: Model>(tx: &mut Tx, old: &M, new: &M) -> Result<()> {
    let (old_values, new_values) = (old.values(), new.values());
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(old_values.iter().zip(&new_values))
        .filter(|(field, (old, new))| is_logged(field) && old != new)
        .map(|(field, (old, new))| FieldRecord::new(field, Some(old), Some(new)))
        .collect();
    push::<M>(tx, new, Operation::Update, &fields).await
}

pub(crate) async fn record_delete<M: Model>(tx: &mut Tx, old: &M) -> Result<()> {
    let values = old.values();
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(&values)
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| FieldRecord::new(field, Some(value), None))
        .collect();
    push::<M>(tx, old, Operation::Delete, &fields).await
}

/// The version has a column of its own in the log.
fn is_logged(field: &FieldSchema) -> bool {
    field.generated != Generated::Version
}

/// One field of a change record, written as JSON straight from the row's values.
/// The members come in the order `serde_json`'s maps keep them, so the stored
/// text is the same as that of a record read back and written again.
#[derive(Serialize)]
struct FieldRecord<'a> {
    field: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    new: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    old: Option<&'a Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sensitive: bool,
}

impl<'a> FieldRecord<'a> {
    /// A sensitive field is listed as changed, without its values.
    fn new(field: &'static FieldSchema, old: Option<&'a Value>, new: Option<&'a Value>) -> Self {
        let (old, new) = if field.sensitivity.is_hidden() {
            (None, None)
        } else {
            (old, new)
        };
        FieldRecord {
            field: field.name,
            new,
            old,
            sensitive: field.sensitivity.is_hidden(),
        }
    }
}

/// An erasure of `fields` (sensitive ones) of the row `key` of `table`, now at
/// `version`: listed as changed, without values, as every sensitive change is.
pub(crate) async fn record_erasure(
    tx: &mut Tx,
    table: &'static str,
    key: &Value,
    version: Option<i64>,
    fields: &[&'static FieldSchema],
) -> Result<()> {
    let fields: Vec<FieldRecord<'_>> = fields
        .iter()
        .map(|field| FieldRecord::new(field, None, None))
        .collect();
    push_record(tx, table, key, Operation::Update, version, &fields).await
}

async fn push<M: Model>(
    tx: &mut Tx,
    row: &M,
    operation: Operation,
    fields: &[FieldRecord<'_>],
) -> Result<()> {
    let key = row.key().to_value();
    push_record(tx, M::SCHEMA.table, &key, operation, row.version(), fields).await
}

async fn push_record(
    tx: &mut Tx,
    table: &'static str,
    key: &Value,
    operation: Operation,
    version: Option<i64>,
    fields: &[FieldRecord<'_>],
) -> Result<()> {
    let fields = serde_json::value::to_raw_value(fields)
        .map_err(|error| Error::Database(sqlx::Error::Encode(error.into())))?;
    let (actor, request_id) = current_context();
    let pending = tx.before_commit::<Pending>();
    pending.held.push(PendingChange {
        model: table,
        key: key_text(key),
        operation,
        version,
        fields,
        at: crate::db::now(),
        actor,
        request_id,
    });
    if pending.held.len() >= HELD_RECORDS {
        let held = std::mem::take(&mut pending.held);
        write_held(tx, held).await?;
    }
    Ok(())
}

/// A primary key as the log stores it: the plain text of a number, UUID or string.
pub(crate) fn key_text(key: &Value) -> String {
    match key.to_json() {
        Json::String(text) => text,
        other => other.to_string(),
    }
}

/// Rows per multi-row `INSERT` ([`COLUMNS`] parameters each, well under both
/// databases' parameter limits).
const BATCH: usize = 100;

/// Writes the records held in memory before the transaction ends, so that they
/// stop taking memory, without breaking the order promised in the module docs.
///
/// On SQLite the transaction has held the database's only write lock since it
/// began (`BEGIN IMMEDIATE`), so no other transaction can draw numbers before it
/// commits: its records are numbered and inserted into the log now. On
/// PostgreSQL numbers are drawn only at commit, so the records go to a staging
/// table private to the transaction (`ON COMMIT DROP`), numbered in the order
/// they were made, and [`write_pending`] moves them into the log.
async fn write_held(tx: &mut Tx, held: Vec<PendingChange>) -> Result<()> {
    match tx.dialect() {
        Dialect::Sqlite => write_numbered(tx, held).await,
        Dialect::Postgres => stage(tx, held).await,
    }
}

/// Numbers the held records and inserts them into the log.
async fn write_numbered(tx: &mut Tx, held: Vec<PendingChange>) -> Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let last = advance_counter(tx, held.len() as i64).await?;
    insert_records(tx, CHANGES_TABLE, last - held.len() as i64, held).await
}

/// Moves the held records into the transaction's staging table.
async fn stage(tx: &mut Tx, held: Vec<PendingChange>) -> Result<()> {
    let pending = tx.before_commit::<Pending>();
    let staged = pending.staged;
    pending.staged += held.len() as i64;
    if staged == 0 {
        // A temporary table with the log's columns (its `seq` holds the order),
        // seen only by this session and dropped by the commit or the rollback.
        Conn::Tx(tx)
            .execute_raw(&format!(
                "CREATE TEMPORARY TABLE {} (LIKE {}) ON COMMIT DROP",
                quote_ident(STAGING_TABLE),
                quote_ident(CHANGES_TABLE)
            ))
            .await?;
    }
    insert_records(tx, STAGING_TABLE, staged, held).await
}

/// The staging table of a PostgreSQL transaction that wrote records early.
const STAGING_TABLE: &str = "fw_changes_staged";

/// The records are numbered and inserted right before `COMMIT`. See the module
/// docs for why the numbers are drawn then and not earlier.
impl BeforeCommit for Pending {
    fn run(self: Box<Self>, tx: &mut Tx) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(write_pending(tx, *self))
    }
}

/// Numbers the transaction's change records and inserts them.
async fn write_pending(tx: &mut Tx, pending: Pending) -> Result<()> {
    let Pending { held, staged } = pending;
    if staged == 0 {
        return write_numbered(tx, held).await;
    }
    let count = staged + held.len() as i64;
    let first = advance_counter(tx, count).await? - count;
    let mut args = Arguments::new(tx.dialect());
    args.add(first)?;
    let columns = CHANGES_COLUMNS.join(", ");
    let copy = format!(
        "INSERT INTO {changes} ({columns}) SELECT \"seq\" + {first}, {rest} FROM {staging}",
        changes = quote_ident(CHANGES_TABLE),
        first = placeholder(Dialect::Postgres, 1),
        rest = CHANGES_COLUMNS[1..].join(", "),
        staging = quote_ident(STAGING_TABLE),
    );
    Conn::Tx(tx).execute(copy.into(), args).await?;
    insert_records(tx, CHANGES_TABLE, first + staged, held).await
}

/// Advances the change counter by `count` and returns the last number drawn.
async fn advance_counter(tx: &mut Tx, count: i64) -> Result<i64> {
    let dialect = tx.dialect();
    let mut args = Arguments::new(dialect);
    args.add(count)?;
    Conn::Tx(tx)
        .fetch_optional(counter_sql(dialect).into(), args, Access::Write, |row| {
            row.get::<i64>(0)
        })
        .await?
        .ok_or_else(|| {
            Error::Database(sqlx::Error::Protocol(
                "fw bug: the change counter returned no row".to_owned(),
            ))
        })
}

/// Inserts `records` into `table`, numbered from `after + 1` in order.
async fn insert_records(
    tx: &mut Tx,
    table: &str,
    after: i64,
    records: Vec<PendingChange>,
) -> Result<()> {
    let dialect = tx.dialect();
    let mut seq = after;
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let mut args = Arguments::new(dialect);
        let mut rows = 0;
        // The records move into the arguments: they are written once, here.
        for change in records.by_ref().take(BATCH) {
            seq += 1;
            rows += 1;
            args.add(seq)?;
            args.add(change.model)?;
            args.add(change.key)?;
            args.add(change.operation.name())?;
            args.add(change.version)?;
            args.add(sqlx::types::Json(change.fields))?;
            args.add(change.at)?;
            args.add(change.actor)?;
            args.add(change.request_id)?;
        }
        let sql = match rows {
            1 if table == CHANGES_TABLE => single_insert_sql(dialect).into(),
            rows => insert_sql(dialect, table, rows).into(),
        };
        Conn::Tx(tx).execute(sql, args).await?;
    }
    Ok(())
}

/// The log's columns, in the order of the `INSERT`s' parameters.
const CHANGES_COLUMNS: [&str; COLUMNS] = [
    "\"seq\"",
    "\"model\"",
    "\"row_key\"",
    "\"operation\"",
    "\"version\"",
    "\"fields\"",
    "\"changed_at\"",
    "\"actor\"",
    "\"request_id\"",
];

/// Parameters of one change record in the `INSERT`.
const COLUMNS: usize = 9;

/// The `INSERT` of `rows` change records into `table`.
fn insert_sql(dialect: Dialect, table: &str, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=COLUMNS)
                .map(|column| placeholder(dialect, row * COLUMNS + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quote_ident(table),
        CHANGES_COLUMNS.join(", "),
        values.join(", ")
    )
}

/// The `INSERT` of one change record, what most commits write: rendered once
/// per dialect.
fn single_insert_sql(dialect: Dialect) -> &'static str {
    static SQLITE: LazyLock<String> =
        LazyLock::new(|| insert_sql(Dialect::Sqlite, CHANGES_TABLE, 1));
    static POSTGRES: LazyLock<String> =
        LazyLock::new(|| insert_sql(Dialect::Postgres, CHANGES_TABLE, 1));
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

/// The statement that advances the counter by `$1` and returns the new last
/// number: an upsert, so the counter needs no seed row and the first two writers
/// of a new database still serialize (the second waits on the first's key).
/// Rendered once per dialect: every change-logging commit runs it.
fn counter_sql(dialect: Dialect) -> &'static str {
    fn render(dialect: Dialect) -> String {
        let counter = quote_ident(COUNTER_TABLE);
        format!(
            "INSERT INTO {counter} (\"id\", \"last\") VALUES (1, {count}) \
             ON CONFLICT (\"id\") DO UPDATE SET \"last\" = {counter}.\"last\" + excluded.\"last\" \
             RETURNING \"last\"",
            count = placeholder(dialect, 1),
        )
    }
    static SQLITE: LazyLock<String> = LazyLock::new(|| render(Dialect::Sqlite));
    static POSTGRES: LazyLock<String> = LazyLock::new(|| render(Dialect::Postgres));
    match dialect {
        Dialect::Sqlite => &SQLITE,
        Dialect::Postgres => &POSTGRES,
    }
}

#[cfg(test)]
mod tests {
    use super::HELD_RECORDS;
    use crate::Model as _;
    use crate::testing::TestDb;

    #[derive(Clone, PartialEq)]
    #[crate::model(changelog)]
    struct Lot {
        id: i64,
        label: String,
    }

    /// A transaction's memory does not grow with its writes: past
    /// [`HELD_RECORDS`] the records go to the database, and all of them are
    /// in the log after the commit.
    async fn a_large_transaction_holds_one_batch_of_records(test_db: TestDb) {
        let db = test_db.db();
        let [changes, counter] = super::super::tables();
        crate::testing::create_tables(db, &[Lot::SCHEMA, changes, counter])
            .await
            .unwrap();
        let writes = HELD_RECORDS * 2 + HELD_RECORDS / 2;
        let mut tx = db.begin().await.unwrap();
        for index in 0..writes {
            let new = NewLot {
                label: format!("lot {index}"),
            };
            Lot::insert(&mut tx, new).await.unwrap();
            assert!(tx.before_commit::<super::Pending>().held.len() < HELD_RECORDS);
        }
        tx.commit().await.unwrap();
        let log = crate::changes::after(0)
            .limit(1000)
            .fetch(db)
            .await
            .unwrap();
        assert_eq!(log.len(), 1000);
        let last = crate::changes::after(writes as i64 - 1)
            .fetch(db)
            .await
            .unwrap();
        assert_eq!(last.len(), 1, "{last:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_transaction_holds_one_batch_of_records_sqlite() {
        a_large_transaction_holds_one_batch_of_records(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_large_transaction_holds_one_batch_of_records_postgres() {
        a_large_transaction_holds_one_batch_of_records(TestDb::postgres().await).await;
    }
}

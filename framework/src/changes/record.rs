//! Building change records during a transaction and writing them at commit.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::tables::{CHANGES_TABLE, PENDING_TABLE};
use super::{Operation, current_context};
use crate::db::{Arguments, BeforeCommit, Conn, Dialect, Tx, placeholder, quote_ident};
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

/// Rows per multi-row `INSERT` (at most [`COLUMNS`] parameters each, well
/// under both databases' parameter limits).
const BATCH: usize = 100;

/// Writes the records held in memory before the transaction ends, so that they
/// stop taking memory, without breaking the order promised in the module docs.
///
/// On SQLite the transaction has held the database's only write lock since it
/// began (`BEGIN IMMEDIATE`), so no other transaction can take positions before
/// it commits: its records go into the log at their positions now. On
/// PostgreSQL records draw only at commit, so they go to a staging table
/// private to the transaction (`ON COMMIT DROP`), numbered in the order they
/// were made, and [`write_pending`] moves them among the pending records.
async fn write_held(tx: &mut Tx, held: Vec<PendingChange>) -> Result<()> {
    match tx.dialect() {
        Dialect::Sqlite => insert_records(tx, Destination::NextPositions, held).await,
        Dialect::Postgres => stage(tx, held).await,
    }
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
    insert_records(tx, Destination::Staged { after: staged }, held).await
}

/// The staging table of a PostgreSQL transaction that wrote records early.
const STAGING_TABLE: &str = "fw_changes_staged";

/// The records are written right before `COMMIT`. See the module docs for
/// why they draw then and not earlier.
impl BeforeCommit for Pending {
    fn run(self: Box<Self>, tx: &mut Tx) -> Pin<Box<dyn Future<Output = Result<()>> + Send + '_>> {
        Box::pin(write_pending(tx, *self))
    }
}

/// Writes the transaction's change records: on SQLite into the log at their
/// positions, on PostgreSQL among the pending ones with their draws, the
/// staged ones first (they were made first), and the commit wakes the
/// sequencer.
async fn write_pending(tx: &mut Tx, pending: Pending) -> Result<()> {
    let Pending { held, staged } = pending;
    if tx.dialect() == Dialect::Sqlite {
        return insert_records(tx, Destination::NextPositions, held).await;
    }
    if staged > 0 {
        // The rows reach the insert in order, and each draws as it is inserted.
        let columns = CHANGES_COLUMNS[1..].join(", ");
        let copy = format!(
            "INSERT INTO {pending} ({columns}) SELECT {columns} FROM {staging} ORDER BY \"seq\"",
            pending = quote_ident(PENDING_TABLE),
            staging = quote_ident(STAGING_TABLE),
        );
        Conn::Tx(tx).execute_raw(&copy).await?;
    }
    insert_records(tx, Destination::Pending, held).await?;
    tx.on_commit(super::sequence::wake);
    Ok(())
}

/// Where [`insert_records`] writes, and what it puts in `seq`.
#[derive(Debug, Clone, Copy)]
enum Destination {
    /// SQLite: the log, at the positions after its last one, in one statement
    /// per [`BATCH`] (the writer holds the database's only write lock).
    NextPositions,
    /// PostgreSQL: the pending records, each drawing as it is inserted, for
    /// the sequencer.
    Pending,
    /// PostgreSQL: the transaction's staging table, numbered from `after + 1`
    /// in the order the records were made.
    Staged { after: i64 },
}

/// Inserts `records` at `destination`, in order.
async fn insert_records(
    tx: &mut Tx,
    destination: Destination,
    records: Vec<PendingChange>,
) -> Result<()> {
    let dialect = tx.dialect();
    let mut written = 0;
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let mut args = Arguments::new(dialect);
        let mut rows = 0;
        // The records move into the arguments: they are written once, here.
        for change in records.by_ref().take(BATCH) {
            rows += 1;
            match destination {
                Destination::NextPositions => args.add(rows as i64)?,
                Destination::Pending => {}
                Destination::Staged { after } => args.add(after + written + rows as i64)?,
            }
            args.add(change.model)?;
            args.add(change.key)?;
            args.add(change.operation.name())?;
            args.add(change.version)?;
            args.add(sqlx::types::Json(change.fields))?;
            args.add(change.at)?;
            args.add(change.actor)?;
            args.add(change.request_id)?;
        }
        written += rows as i64;
        let sql = match (destination, rows) {
            (Destination::NextPositions, 1) => ONE_AT_NEXT_POSITION.as_str().into(),
            (Destination::Pending, 1) => ONE_PENDING.as_str().into(),
            (destination, rows) => insert_sql(destination, rows).into(),
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

/// Columns of one change record.
const COLUMNS: usize = 9;

/// The `INSERT` of `rows` change records to `destination`.
fn insert_sql(destination: Destination, rows: usize) -> String {
    let columns = CHANGES_COLUMNS.join(", ");
    // Each row's parameters: its position among the rows, or its `seq`,
    // then the other columns; a pending record's draw is the database's.
    let row_values = |row: usize, dialect: Dialect, parameters: usize| {
        let placeholders: Vec<String> = (1..=parameters)
            .map(|parameter| placeholder(dialect, row * parameters + parameter))
            .collect();
        placeholders.join(", ")
    };
    match destination {
        Destination::NextPositions => {
            let values: Vec<String> = (0..rows)
                .map(|row| format!("({})", row_values(row, Dialect::Sqlite, COLUMNS)))
                .collect();
            let rest: Vec<String> = (2..=COLUMNS).map(|n| format!("\"column{n}\"")).collect();
            // One read of the last position for the whole statement.
            format!(
                "INSERT INTO {changes} ({columns}) \
                 SELECT (SELECT coalesce(max(\"seq\"), 0) FROM {changes}) + \"column1\", {rest} \
                 FROM (VALUES {values})",
                changes = quote_ident(CHANGES_TABLE),
                rest = rest.join(", "),
                values = values.join(", "),
            )
        }
        Destination::Pending => {
            let values: Vec<String> = (0..rows)
                .map(|row| format!("({})", row_values(row, Dialect::Postgres, COLUMNS - 1)))
                .collect();
            format!(
                "INSERT INTO {} ({}) VALUES {}",
                quote_ident(PENDING_TABLE),
                CHANGES_COLUMNS[1..].join(", "),
                values.join(", ")
            )
        }
        Destination::Staged { .. } => {
            let values: Vec<String> = (0..rows)
                .map(|row| format!("({})", row_values(row, Dialect::Postgres, COLUMNS)))
                .collect();
            format!(
                "INSERT INTO {} ({columns}) VALUES {}",
                quote_ident(STAGING_TABLE),
                values.join(", ")
            )
        }
    }
}

/// The `INSERT`s of one change record, what most commits write: rendered once.
static ONE_AT_NEXT_POSITION: LazyLock<String> =
    LazyLock::new(|| insert_sql(Destination::NextPositions, 1));
static ONE_PENDING: LazyLock<String> = LazyLock::new(|| insert_sql(Destination::Pending, 1));

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
        let mut tables = vec![Lot::SCHEMA];
        tables.extend(super::super::tables());
        crate::testing::create_tables(db, &tables).await.unwrap();
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

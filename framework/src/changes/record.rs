//! Building change records during a transaction and writing them at commit.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{LazyLock, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::tables::{CHANGES_TABLE, PENDING_TABLE};
use super::{Operation, current_context};
use crate::db::{Arguments, BeforeCommit, Conn, Dialect, Sql, Tx, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Model;
use crate::schema::{Constraints, FieldSchema, Generated, ModelSchema, OnInsert, SqlType};
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
    push::<M>(
        tx,
        row,
        Operation::Insert,
        &inserted_fields(M::SCHEMA.fields, &values),
    )
    .await
}

/// The fields of an insert's record: every logged one, with its new value
/// (`values` are in schema order).
fn inserted_fields<'a>(
    fields: &'static [FieldSchema],
    values: &'a [Value],
) -> Vec<FieldRecord<'a>> {
    fields
        .iter()
        .zip(values)
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| FieldRecord::new(field, None, Some(value)))
        .collect()
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

/// A create of `M` on the pool on PostgreSQL, as one statement that inserts
/// the row and its pending record together (a data-modifying `WITH`): one
/// round trip, as a create that records nothing is, instead of `BEGIN`, the
/// insert, the record's insert and `COMMIT`. The statement is its own
/// transaction, so the row and its record commit together or not at all, and
/// the record draws as that transaction commits, as [`Tx::commit`]'s records
/// do (a create in a transaction takes the long way: its record must draw at
/// the transaction's commit, not at its insert).
///
/// The record is what [`record_insert`] would make of the stored row: the
/// values are the ones bound, and what the database assigns (the key, the
/// version) the statement takes from the inserted row. `None` when the
/// create must take the long way, its record made from the row it read
/// back: on SQLite (which has no data-modifying `WITH`), for a model with
/// sealed fields, and when the database would not store a value as given (a
/// decimal with more places than its column keeps, a time finer than a
/// microsecond, a JSON document, which PostgreSQL rewrites).
pub(crate) fn insert_with_record<M: Model>(
    dialect: Dialect,
    new: &M::New,
) -> Result<Option<(Sql, Arguments)>> {
    if dialect != Dialect::Postgres || M::SEALED {
        return Ok(None);
    }
    let Some(sql) = insert_with_record_sql(M::SCHEMA, M::sql(dialect).insert) else {
        return Ok(None);
    };
    let supplied = M::new_values(new);
    let now = crate::db::now();
    let mut values = Vec::with_capacity(M::SCHEMA.fields.len());
    for field in M::SCHEMA.fields {
        let value = match field.generated.on_insert() {
            OnInsert::Supplied => {
                let value = supplied
                    .iter()
                    .find(|(supplied, _)| supplied.name == field.name)
                    .map_or(Value::Null, |(_, value)| value.clone());
                match as_stored(field, value) {
                    Some(value) => value,
                    None => return Ok(None),
                }
            }
            OnInsert::Now => Value::Timestamp(now),
            // The statement sets it from the inserted row.
            OnInsert::Database | OnInsert::NewUuid => Value::Null,
            OnInsert::FirstVersion => Value::Int(OnInsert::FIRST_VERSION),
        };
        values.push(value);
    }
    let fields = serde_json::value::to_raw_value(&inserted_fields(M::SCHEMA.fields, &values))
        .map_err(|error| Error::Database(sqlx::Error::Encode(error.into())))?;
    let (actor, request_id) = current_context();
    let mut args = Arguments::new(dialect);
    M::bind_new(new, &mut args, now)?;
    args.add(M::SCHEMA.table)?;
    args.add(sqlx::types::Json(fields))?;
    args.add(now)?;
    args.add(actor)?;
    args.add(request_id)?;
    Ok(Some((Sql::Static(sql), args)))
}

/// `value` as PostgreSQL stores it in `field`'s column and a row read back
/// holds it, or `None` when the database would store something else.
fn as_stored(field: &FieldSchema, value: Value) -> Option<Value> {
    match value {
        Value::Decimal(decimal) => {
            // A row reads its decimals back without trailing zeros; a column
            // with `max_digits` keeps `decimal_places` places and rounds the rest.
            let decimal = decimal.normalize();
            let places = field
                .constraints
                .max_digits()
                .map(|_| field.constraints.decimal_places().unwrap_or(0));
            places
                .is_none_or(|places| decimal.scale() <= places)
                .then_some(Value::Decimal(decimal))
        }
        Value::Timestamp(at) => {
            (at.timestamp_subsec_nanos() % 1000 == 0).then_some(Value::Timestamp(at))
        }
        Value::Json(_) => None,
        value => Some(value),
    }
}

/// The statement of [`insert_with_record`] for a model whose insert is
/// `insert`, rendered once per model; `None` when the log's text of the key
/// cannot be taken from the row in SQL as [`key_text`] writes it.
fn insert_with_record_sql(schema: &'static ModelSchema, insert: &str) -> Option<&'static str> {
    /// Rendered statements by table: one per model, each kept for the
    /// process's life, as the model's own statements are.
    static RENDERED: LazyLock<RwLock<HashMap<&'static str, Option<&'static str>>>> =
        LazyLock::new(RwLock::default);
    if let Some(rendered) = RENDERED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(schema.table)
    {
        return *rendered;
    }
    let rendered =
        render_insert_with_record(schema, insert).map(|sql| &*Box::leak(sql.into_boxed_str()));
    RENDERED
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(schema.table, rendered);
    rendered
}

/// `WITH "fw_written" AS (<insert>), "fw_recorded" AS (INSERT INTO
/// "fw_changes_pending" ... SELECT ... FROM "fw_written") SELECT * FROM
/// "fw_written"`: the insert's parameters first, then the record's model,
/// fields, time, actor and request id. The fields are bound with a `null`
/// for each value the database assigns, which `jsonb_set` replaces with the
/// inserted row's.
fn render_insert_with_record(schema: &ModelSchema, insert: &str) -> Option<String> {
    let written = |field: &FieldSchema| format!("\"fw_written\".{}", quote_ident(field.column));
    // The log's key text (see `key_text`): an integer's digits, a UUID's
    // hyphenated lowercase form, a string itself, as `::text` writes them.
    let key = schema.primary_key();
    if !matches!(
        key.sql_type,
        SqlType::SmallInt | SqlType::Int | SqlType::BigInt | SqlType::Uuid | SqlType::Text
    ) {
        return None;
    }
    let version = schema
        .version_field()
        .map_or_else(|| "NULL::bigint".to_owned(), written);
    let inserted = schema
        .fields
        .iter()
        .filter(|field| field.generated.on_insert() != OnInsert::Database)
        .count();
    let parameter = |index: usize| placeholder(Dialect::Postgres, inserted + index);
    let mut fields = parameter(2);
    for (index, field) in schema
        .fields
        .iter()
        .filter(|field| is_logged(field))
        .enumerate()
    {
        let assigned = matches!(
            field.generated.on_insert(),
            OnInsert::Database | OnInsert::NewUuid
        );
        if assigned && !field.sensitivity.is_hidden() {
            fields = format!(
                "jsonb_set({fields}, '{{{index},new}}', to_jsonb({}))",
                written(field)
            );
        }
    }
    Some(format!(
        "WITH \"fw_written\" AS ({insert}), \"fw_recorded\" AS (\
             INSERT INTO {pending} ({columns}) \
             SELECT {model}, {key}::text, '{operation}', {version}, {fields}, {at}, {actor}, {request_id} \
             FROM \"fw_written\"\
         ) SELECT * FROM \"fw_written\"",
        pending = quote_ident(PENDING_TABLE),
        columns = CHANGES_COLUMNS[1..].join(", "),
        model = parameter(1),
        key = written(key),
        operation = Operation::Insert.name(),
        at = parameter(3),
        actor = parameter(4),
        request_id = parameter(5),
    ))
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
    use chrono::{DateTime, NaiveDate, Utc};
    use rust_decimal::Decimal;

    use super::{HELD_RECORDS, inserted_fields};
    use crate::Model as _;
    use crate::changes::lot::{Lot, NewLot};
    use crate::changes::{FieldChange, Operation};
    use crate::db::{Db, Dialect};
    use crate::model::ModelCodegen as _;
    use crate::testing::{TestDb, create_tables};

    /// A model recording its changes with a value of most kinds, a key fw
    /// assigns and a decimal column that rounds.
    #[derive(Clone, PartialEq)]
    #[crate::model(changelog)]
    struct Parcel {
        #[field(primary_key)]
        id: uuid::Uuid,
        label: String,
        note: Option<String>,
        #[field(max_digits = 12, decimal_places = 4)]
        weight: Decimal,
        fragile: bool,
        shipped: Option<NaiveDate>,
        #[field(auto_now)]
        updated_at: DateTime<Utc>,
        #[field(version)]
        version: i64,
    }

    /// The same as [`Lot`], recording nothing.
    #[derive(Clone, PartialEq)]
    #[crate::model]
    struct Tag {
        id: i64,
        label: String,
    }

    async fn with_tables(test_db: &TestDb) -> &Db {
        let db = test_db.db();
        let mut tables = vec![Lot::SCHEMA, Parcel::SCHEMA, Tag::SCHEMA];
        tables.extend(super::super::tables());
        create_tables(db, &tables).await.unwrap();
        db
    }

    /// A create's record holds the row as the database stored it, whether the
    /// create and its record were one statement (PostgreSQL, every value
    /// stored as given) or the record was made from the row read back (a
    /// weight with more places than its column keeps, which it rounds).
    async fn a_create_records_the_stored_row(test_db: TestDb) {
        let db = with_tables(&test_db).await;
        let one_statement = db.dialect() == Dialect::Postgres;
        for (weight, stored_as_given) in [
            (Decimal::new(125_000, 4), true),
            (Decimal::new(123_456, 5), false),
        ] {
            let new = || NewParcel {
                label: "crate \"7\", fragile".to_owned(),
                note: None,
                weight,
                fragile: true,
                shipped: NaiveDate::from_ymd_opt(2026, 12, 7),
            };
            let statement = super::insert_with_record::<Parcel>(db.dialect(), &new()).unwrap();
            assert_eq!(statement.is_some(), one_statement && stored_as_given);
            let row = Parcel::insert(db, new()).await.unwrap();
            let values = row.values();
            let stored: Vec<FieldChange> = serde_json::from_value(
                serde_json::to_value(inserted_fields(Parcel::SCHEMA.fields, &values)).unwrap(),
            )
            .unwrap();
            let history = Parcel::history(db, row.id).await.unwrap();
            let recorded: Vec<_> = history
                .iter()
                .map(|change| {
                    (
                        change.operation,
                        change.key.clone(),
                        change.version,
                        &change.fields,
                    )
                })
                .collect();
            assert_eq!(
                recorded,
                [(Operation::Insert, row.id.to_string(), Some(1), &stored)]
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_create_records_the_stored_row_sqlite() {
        a_create_records_the_stored_row(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_create_records_the_stored_row_postgres() {
        a_create_records_the_stored_row(TestDb::postgres().await).await;
    }

    /// Counts the statements the driver runs (each one round trip) on the
    /// thread it is set on.
    #[derive(Clone, Default)]
    struct Statements(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
        fn on_event(
            &self,
            event: &tracing::Event<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if event.metadata().target() == "sqlx::query" {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }

    /// How many statements `work` runs.
    async fn statements_of<T>(work: impl Future<Output = crate::Result<T>>) -> usize {
        use tracing_subscriber::layer::SubscriberExt as _;
        let statements = Statements::default();
        let subscriber = tracing_subscriber::registry().with(statements.clone());
        let _counting = tracing::subscriber::set_default(subscriber);
        work.await.unwrap();
        statements.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// On PostgreSQL a recorded create on the pool is one statement, as one
    /// that records nothing: the statement that writes the row writes its
    /// record. In a transaction it is one statement more, the record's, at
    /// the commit. (A runtime on this thread only, so that the driver logs
    /// every statement where it is counted.)
    #[tokio::test]
    async fn a_recorded_create_on_the_pool_is_one_statement_on_postgres() {
        let test_db = TestDb::postgres().await;
        let db = with_tables(&test_db).await;
        let lot = || NewLot {
            label: "lot".to_owned(),
        };
        let tag = || NewTag {
            label: "tag".to_owned(),
        };
        // The first round prepares each statement and opens the connection.
        for round in 0..2 {
            let on_pool = [
                statements_of(Lot::insert(db, lot())).await,
                statements_of(Tag::insert(db, tag())).await,
            ];
            let in_a_transaction = [
                statements_of(async {
                    let mut tx = db.begin().await?;
                    Lot::insert(&mut tx, lot()).await?;
                    tx.commit().await
                })
                .await,
                statements_of(async {
                    let mut tx = db.begin().await?;
                    Tag::insert(&mut tx, tag()).await?;
                    tx.commit().await
                })
                .await,
            ];
            if round == 1 {
                assert_eq!(on_pool, [1, 1], "recorded, recording nothing");
                assert_eq!(in_a_transaction[0], in_a_transaction[1] + 1);
            }
        }
    }

    /// A transaction's records are in the log in the order it made them,
    /// creates that record as they insert and writes whose records wait for
    /// the commit alike.
    async fn a_transactions_records_keep_their_order(test_db: TestDb) {
        let db = with_tables(&test_db).await;
        let lot = |label: &str| NewLot {
            label: label.to_owned(),
        };
        let first = Lot::insert(db, lot("first")).await.unwrap();
        let mut tx = db.begin().await.unwrap();
        let second = Lot::insert(&mut tx, lot("second")).await.unwrap();
        let mut renamed = first.clone();
        renamed.label = "renamed".to_owned();
        renamed.update(&mut tx).await.unwrap();
        let third = Lot::insert(&mut tx, lot("third")).await.unwrap();
        tx.commit().await.unwrap();
        let log: Vec<(i64, Operation, String)> = crate::changes::after(0)
            .fetch(db)
            .await
            .unwrap()
            .into_iter()
            .map(|change| (change.seq, change.operation, change.key))
            .collect();
        let key = |lot: &Lot| lot.id.to_string();
        assert_eq!(
            log,
            [
                (1, Operation::Insert, key(&first)),
                (2, Operation::Insert, key(&second)),
                (3, Operation::Update, key(&first)),
                (4, Operation::Insert, key(&third)),
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transactions_records_keep_their_order_sqlite() {
        a_transactions_records_keep_their_order(TestDb::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transactions_records_keep_their_order_postgres() {
        a_transactions_records_keep_their_order(TestDb::postgres().await).await;
    }

    /// A transaction's memory does not grow with its writes: past
    /// [`HELD_RECORDS`] the records go to the database, and all of them are
    /// in the log after the commit.
    async fn a_large_transaction_holds_one_batch_of_records(test_db: TestDb) {
        let db = with_tables(&test_db).await;
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

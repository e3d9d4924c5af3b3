//! Building change records during a transaction and numbering them at commit.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use serde_json::value::RawValue;

use super::tables::{CHANGES_TABLE, COUNTER_TABLE};
use super::{Operation, current_context};
use crate::db::{Access, Arguments, Conn, Dialect, Tx, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Model;
use crate::schema::{FieldSchema, Generated};
use crate::value::Value;

/// Change records of a transaction, not yet numbered; written by
/// [`write_pending`] when it commits, dropped with it when it rolls back.
#[derive(Debug, Default)]
pub(crate) struct Pending(Vec<PendingChange>);

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
pub(crate) fn record_insert<M: Model>(tx: &mut Tx, row: &M) -> Result<()> {
    let values = row.values();
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(&values)
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| FieldRecord::new(field, None, Some(value)))
        .collect();
    push::<M>(tx, row, Operation::Insert, &fields)
}

/// Only fields whose value differs are recorded.
pub(crate) fn record_update<M: Model>(tx: &mut Tx, old: &M, new: &M) -> Result<()> {
    let (old_values, new_values) = (old.values(), new.values());
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(old_values.iter().zip(&new_values))
        .filter(|(field, (old, new))| is_logged(field) && old != new)
        .map(|(field, (old, new))| FieldRecord::new(field, Some(old), Some(new)))
        .collect();
    push::<M>(tx, new, Operation::Update, &fields)
}

pub(crate) fn record_delete<M: Model>(tx: &mut Tx, old: &M) -> Result<()> {
    let values = old.values();
    let fields: Vec<FieldRecord<'_>> = M::SCHEMA
        .fields
        .iter()
        .zip(&values)
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| FieldRecord::new(field, Some(value), None))
        .collect();
    push::<M>(tx, old, Operation::Delete, &fields)
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
        let (old, new) = if field.sensitive {
            (None, None)
        } else {
            (old, new)
        };
        FieldRecord {
            field: field.name,
            new,
            old,
            sensitive: field.sensitive,
        }
    }
}

fn push<M: Model>(
    tx: &mut Tx,
    row: &M,
    operation: Operation,
    fields: &[FieldRecord<'_>],
) -> Result<()> {
    let fields = serde_json::value::to_raw_value(fields)
        .map_err(|error| Error::Database(sqlx::Error::Encode(error.into())))?;
    let (actor, request_id) = current_context();
    tx.changes.0.push(PendingChange {
        model: M::SCHEMA.table,
        key: key_text(&row.key().to_value()),
        operation,
        version: row.version(),
        fields,
        at: crate::write::now(),
        actor,
        request_id,
    });
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

/// Numbers the transaction's change records and inserts them; called by
/// [`Tx::commit`] right before `COMMIT`. See the module docs for why the numbers
/// are drawn here and not earlier.
pub(crate) async fn write_pending(tx: &mut Tx) -> Result<()> {
    let pending = std::mem::take(&mut tx.changes.0);
    if pending.is_empty() {
        return Ok(());
    }
    let dialect = tx.dialect();
    let count = pending.len() as i64;
    let mut args = Arguments::new(dialect);
    args.add(count)?;
    let last = Conn::Tx(tx)
        .fetch_optional(counter_sql(dialect).into(), args, Access::Write, |row| {
            row.get::<i64>(0)
        })
        .await?
        .ok_or_else(|| {
            Error::Database(sqlx::Error::Protocol(
                "fw bug: the change counter returned no row".to_owned(),
            ))
        })?;
    let mut seq = last - count;
    let mut changes = pending.into_iter().peekable();
    while changes.peek().is_some() {
        let mut args = Arguments::new(dialect);
        let mut rows = 0;
        // The records move into the arguments: they are written once, here.
        for change in changes.by_ref().take(BATCH) {
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
            1 => single_insert_sql(dialect).into(),
            rows => insert_sql(dialect, rows).into(),
        };
        Conn::Tx(tx).execute(sql, args).await?;
    }
    Ok(())
}

/// Parameters of one change record in the `INSERT`.
const COLUMNS: usize = 9;

/// The `INSERT` of `rows` change records.
fn insert_sql(dialect: Dialect, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let placeholders: Vec<String> = (1..=COLUMNS)
                .map(|column| placeholder(dialect, row * COLUMNS + column))
                .collect();
            format!("({})", placeholders.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} (\"seq\", \"model\", \"row_key\", \"operation\", \"version\", \
         \"fields\", \"changed_at\", \"actor\", \"request_id\") VALUES {}",
        quote_ident(CHANGES_TABLE),
        values.join(", ")
    )
}

/// The `INSERT` of one change record, what most commits write: rendered once
/// per dialect.
fn single_insert_sql(dialect: Dialect) -> &'static str {
    static SQLITE: LazyLock<String> = LazyLock::new(|| insert_sql(Dialect::Sqlite, 1));
    static POSTGRES: LazyLock<String> = LazyLock::new(|| insert_sql(Dialect::Postgres, 1));
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

/// What ends the `SELECT` of a row about to be changed, so the old values recorded
/// are the ones the write replaces.
pub(crate) fn lock_clause(dialect: Dialect) -> &'static str {
    match dialect {
        // The single writer already excludes everyone else.
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE",
    }
}

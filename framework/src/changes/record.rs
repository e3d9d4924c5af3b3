//! Building change records during a transaction and numbering them at commit.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

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
    fields: Json,
    at: DateTime<Utc>,
    actor: Option<String>,
    request_id: Option<String>,
}

/// Records of a write are built from the rows themselves, so what is logged is
/// exactly what the database stored.
pub(crate) fn record_insert<M: Model>(tx: &mut Tx, row: &M) {
    let fields = M::SCHEMA
        .fields
        .iter()
        .zip(row.values())
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| field_change(field, None, Some(&value)))
        .collect();
    push::<M>(tx, row, Operation::Insert, fields);
}

/// Only fields whose value differs are recorded.
pub(crate) fn record_update<M: Model>(tx: &mut Tx, old: &M, new: &M) {
    let fields = M::SCHEMA
        .fields
        .iter()
        .zip(old.values().into_iter().zip(new.values()))
        .filter(|(field, (old, new))| is_logged(field) && old != new)
        .map(|(field, (old, new))| field_change(field, Some(&old), Some(&new)))
        .collect();
    push::<M>(tx, new, Operation::Update, fields);
}

pub(crate) fn record_delete<M: Model>(tx: &mut Tx, old: &M) {
    let fields = M::SCHEMA
        .fields
        .iter()
        .zip(old.values())
        .filter(|(field, _)| is_logged(field))
        .map(|(field, value)| field_change(field, Some(&value), None))
        .collect();
    push::<M>(tx, old, Operation::Delete, fields);
}

/// The version has a column of its own in the log.
fn is_logged(field: &FieldSchema) -> bool {
    field.generated != Generated::Version
}

fn field_change(field: &FieldSchema, old: Option<&Value>, new: Option<&Value>) -> Json {
    let mut change = Map::new();
    change.insert("field".to_owned(), Json::from(field.name));
    if field.sensitive {
        change.insert("sensitive".to_owned(), Json::Bool(true));
    } else {
        if let Some(old) = old {
            change.insert("old".to_owned(), old.to_json());
        }
        if let Some(new) = new {
            change.insert("new".to_owned(), new.to_json());
        }
    }
    Json::Object(change)
}

fn push<M: Model>(tx: &mut Tx, row: &M, operation: Operation, fields: Vec<Json>) {
    let context = current_context();
    tx.changes.0.push(PendingChange {
        model: M::SCHEMA.table,
        key: key_text(&row.key().to_value()),
        operation,
        version: row.version(),
        fields: Json::Array(fields),
        at: crate::write::now(),
        actor: context.actor,
        request_id: context.request_id,
    });
}

/// A primary key as the log stores it: the plain text of a number, UUID or string.
pub(crate) fn key_text(key: &Value) -> String {
    match key.to_json() {
        Json::String(text) => text,
        other => other.to_string(),
    }
}

/// Rows per multi-row `INSERT` (9 parameters each, well under both databases'
/// parameter limits).
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
    for batch in pending.chunks(BATCH) {
        let mut args = Arguments::new(dialect);
        let mut rows = Vec::with_capacity(batch.len());
        for change in batch {
            seq += 1;
            let first = args.len() + 1;
            args.add(seq)?;
            args.add(change.model)?;
            args.add(change.key.clone())?;
            args.add(change.operation.name())?;
            args.add(change.version)?;
            args.add_value(&Value::Json(change.fields.clone()))?;
            args.add(change.at)?;
            args.add(change.actor.clone())?;
            args.add(change.request_id.clone())?;
            let placeholders: Vec<String> = (first..first + 9)
                .map(|index| placeholder(dialect, index))
                .collect();
            rows.push(format!("({})", placeholders.join(", ")));
        }
        let sql = format!(
            "INSERT INTO {} (\"seq\", \"model\", \"row_key\", \"operation\", \"version\", \
             \"fields\", \"changed_at\", \"actor\", \"request_id\") VALUES {}",
            quote_ident(CHANGES_TABLE),
            rows.join(", ")
        );
        Conn::Tx(tx).execute(sql.into(), args).await?;
    }
    Ok(())
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

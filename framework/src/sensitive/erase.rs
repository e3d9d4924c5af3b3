//! Erasure: a row's sealed fields overwritten with their erased form, in one
//! transaction that also appends to the erasure ledger (`fw_erasure`) and, for
//! a model that records changes, to the change log (the fields, no values).
//!
//! The ledger holds no personal data, only which row was erased when and by
//! whom, so it can be exported ([`export_erasures`]) and kept apart from the
//! database's backups, and replayed ([`replay_erasures`]) on a restored one.

use std::io::{BufRead, Read, Write};

use chrono::{DateTime, Utc};

use crate::db::{Access, Arguments, Conn, Db, Tx, lock_clause, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::schema::{FieldSchema, Generated, SqlType};
use crate::value::Value;

use super::ERASED;
use super::sealed::SealedModel;

/// One erasure in the ledger: which row's sensitive values were erased, when,
/// and by whom. Never the values.
#[derive(Clone)]
#[crate::model(table = "fw_erasure")]
pub struct Erasure {
    /// The entry's number, in the order erasures were made.
    pub id: i64,
    /// The erased row's table.
    #[field(max_length = 63)]
    pub table_name: String,
    /// The erased row's primary key, as text.
    #[field(max_length = 200)]
    pub row_key: String,
    /// When the row was erased.
    #[field(auto_now_add)]
    pub erased_at: DateTime<Utc>,
    /// Who erased it (`user:alice`, `command:erase`), when known.
    pub actor: Option<String>,
}

/// What [`erase`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erased {
    /// The row's sensitive values were overwritten.
    Overwritten,
    /// Every sensitive value of the row was erased already; nothing was written.
    AlreadyErased,
}

/// Erases the sensitive values of `M`'s row `key`: every sealed field takes its
/// erased form (NULL for an `Option<String>`, [`ERASED`] for a `String`, and
/// its digest NULL), the row's version moves on, the ledger gains an entry
/// and the change log (for a model that records changes) a change listing the
/// fields. All in one transaction; erasing an erased row writes nothing.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such row, or a database error.
pub async fn erase<M: Model>(db: &Db, key: M::Key) -> Result<Erased> {
    let Some(model) = SealedModel::of::<M>() else {
        return Ok(Erased::AlreadyErased);
    };
    erase_row(db, &model, &crate::field::Field::to_value(&key)).await
}

/// [`erase`] of a type-erased model, in its own transaction.
pub(crate) async fn erase_row(db: &Db, model: &SealedModel, key: &Value) -> Result<Erased> {
    let mut tx = db.begin().await?;
    let erased = erase_in(&mut tx, model, key).await?;
    tx.commit().await?;
    Ok(erased)
}

/// Erases `model`'s row `key` inside `tx`; writes nothing when it is erased
/// already.
async fn erase_in(tx: &mut Tx, model: &SealedModel, key: &Value) -> Result<Erased> {
    let schema = model.schema;
    let dialect = tx.dialect();
    let key_column = quote_ident(schema.primary_key().column);
    let fields: Vec<&'static FieldSchema> = model.sealed_fields().collect();
    let row_text = key.key_text();
    let erased_value = |field: &FieldSchema| (!field.nullable).then(|| ERASED.to_owned());

    let mut columns = Vec::new();
    for field in &fields {
        columns.push(quote_ident(field.column));
        columns.push(
            field
                .digest_column()
                .map_or("NULL".to_owned(), |digest| quote_ident(&digest)),
        );
    }
    let version = schema.version_field();
    columns.push(version.map_or("NULL".to_owned(), |field| quote_ident(field.column)));
    let mut args = Arguments::new(dialect);
    args.add_value(key)?;
    let select = format!(
        "SELECT {} FROM {} WHERE {key_column} = {}{}",
        columns.join(", "),
        quote_ident(schema.table),
        placeholder(dialect, 1),
        lock_clause(dialect),
    );
    let stored = Conn::Tx(tx)
        .fetch_optional(select.into(), args, Access::Write, |row| {
            let values = (0..fields.len())
                .map(|index| {
                    Ok((
                        row.get::<Option<String>>(2 * index)?,
                        row.get::<Option<String>>(2 * index + 1)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((values, row.get::<Option<i64>>(2 * fields.len())?))
        })
        .await?
        .ok_or(Error::NotFound { model: schema.name })?;
    let (values, stored_version) = stored;

    let changed: Vec<&'static FieldSchema> = fields
        .iter()
        .zip(&values)
        .filter(|(field, (value, digest))| {
            *value != erased_value(field) || (field.sensitivity.is_searchable() && digest.is_some())
        })
        .map(|(field, _)| *field)
        .collect();
    if changed.is_empty() {
        return Ok(Erased::AlreadyErased);
    }

    let mut args = Arguments::new(dialect);
    let mut sets = Vec::new();
    let mut set = |args: &mut Arguments, column: &str, value: Option<String>| -> Result<()> {
        match value {
            Some(value) => args.add(value)?,
            None => args.add_null(SqlType::Text)?,
        }
        sets.push(format!(
            "{} = {}",
            quote_ident(column),
            placeholder(dialect, args.len())
        ));
        Ok(())
    };
    for field in &changed {
        set(&mut args, field.column, erased_value(field))?;
        if let Some(digest) = field.digest_column() {
            set(&mut args, &digest, None)?;
        }
    }
    let now = crate::db::now();
    for field in schema
        .fields
        .iter()
        .filter(|field| field.generated == Generated::UpdatedAt)
    {
        args.add(now)?;
        sets.push(format!(
            "{} = {}",
            quote_ident(field.column),
            placeholder(dialect, args.len())
        ));
    }
    if let Some(version) = version {
        let column = quote_ident(version.column);
        sets.push(format!("{column} = {column} + 1"));
    }
    args.add_value(key)?;
    let update = format!(
        "UPDATE {} SET {} WHERE {key_column} = {}",
        quote_ident(schema.table),
        sets.join(", "),
        placeholder(dialect, args.len()),
    );
    Conn::Tx(tx).execute(update.into(), args).await?;

    let (actor, _) = crate::changes::current_context();
    Erasure::insert(
        &mut *tx,
        NewErasure {
            table_name: schema.table.to_owned(),
            row_key: row_text.clone(),
            actor,
        },
    )
    .await?;
    if model.changelog {
        let version = stored_version.map(|version| version + 1);
        crate::changes::record_erasure(tx, schema.table, key, version, &changed).await?;
    }
    Ok(Erased::Overwritten)
}

/// The longest line [`replay_erasures`] reads: a ledger entry is far shorter.
pub const MAX_LEDGER_LINE: usize = 4096;

/// Entries read from the ledger per query by [`export_erasures`].
const EXPORT_PAGE: u64 = 1000;

/// One ledger entry as exported: a JSON object per line.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerLine {
    table: String,
    row: String,
    erased_at: DateTime<Utc>,
    actor: Option<String>,
}

/// Writes the whole erasure ledger to `out` as JSON lines, oldest first:
/// `{"table":...,"row":...,"erased_at":...,"actor":...}`. Returns how many.
///
/// # Errors
///
/// A database error, or [`Error::Database`] wrapping a failed write to `out`.
pub async fn export_erasures(db: &Db, out: &mut (dyn Write + Send)) -> Result<u64> {
    let mut after = 0;
    let mut written = 0;
    loop {
        let page = Erasure::query()
            .filter(Erasure::ID.gt(after))
            .order_by(Erasure::ID.asc())
            .limit(EXPORT_PAGE)
            .all(db)
            .await?;
        for erasure in &page {
            let line = LedgerLine {
                table: erasure.table_name.clone(),
                row: erasure.row_key.clone(),
                erased_at: erasure.erased_at,
                actor: erasure.actor.clone(),
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(|error| Error::Database(sqlx::Error::Io(error.into())))?;
            out.write_all(b"\n")
                .map_err(|error| Error::Database(sqlx::Error::Io(error)))?;
            written += 1;
        }
        match page.last() {
            Some(last) if page.len() == EXPORT_PAGE as usize => after = last.id,
            _ => return Ok(written),
        }
    }
}

/// What [`replay_erasures`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Rows whose sensitive values were overwritten again (restored from a
    /// backup older than their erasure).
    pub erased: u64,
    /// Rows erased already.
    pub already_erased: u64,
    /// Rows that no longer exist.
    pub missing: u64,
}

/// Erases again every row named in `ledger`, JSON lines written by
/// [`export_erasures`]: after a restore from a backup taken before some
/// erasures, this makes them hold again (and puts them back in the ledger).
/// The whole ledger is read and checked first, then replayed in one
/// transaction: a bad ledger erases nothing.
///
/// # Errors
///
/// A line that is not a ledger entry, names a table of no model in `models` or
/// a key that is not of its primary key's type (naming the line), or a
/// database error.
pub async fn replay_erasures(
    db: &Db,
    models: &[SealedModel],
    ledger: impl BufRead,
) -> anyhow::Result<ReplayReport> {
    let rows = read_ledger(models, ledger)?;
    let mut report = ReplayReport::default();
    let mut tx = db.begin().await?;
    for (model, key) in rows {
        match erase_in(&mut tx, model, &key).await {
            Ok(Erased::Overwritten) => report.erased += 1,
            Ok(Erased::AlreadyErased) => report.already_erased += 1,
            Err(Error::NotFound { .. }) => report.missing += 1,
            Err(error) => return Err(error.into()),
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// The rows `ledger` names, each with its model, or the first bad line's error.
fn read_ledger(
    models: &[SealedModel],
    mut ledger: impl BufRead,
) -> anyhow::Result<Vec<(&SealedModel, Value)>> {
    let mut rows = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let read = (&mut ledger)
            .take(MAX_LEDGER_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        if line.len() > MAX_LEDGER_LINE {
            anyhow::bail!(
                "line {number} is longer than {MAX_LEDGER_LINE} bytes: not a ledger entry"
            );
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry: LedgerLine = serde_json::from_slice(&line)
            .map_err(|error| anyhow::anyhow!("line {number} is not a ledger entry: {error}"))?;
        let model = find_model(models, &entry.table)
            .ok_or_else(|| anyhow::anyhow!("line {number}: {}", no_model(&entry.table)))?;
        let key = parse_key(model.schema.primary_key(), &entry.row).ok_or_else(|| {
            anyhow::anyhow!(
                "line {number}: `{}` is not a key of `{}`",
                entry.row,
                entry.table
            )
        })?;
        rows.push((model, key));
    }
    Ok(rows)
}

/// The model of `models` named `name`: its table, or its struct's name.
pub(crate) fn find_model<'m>(models: &'m [SealedModel], name: &str) -> Option<&'m SealedModel> {
    models
        .iter()
        .find(|model| model.schema.table == name || model.schema.name == name)
}

/// Why [`find_model`] found nothing.
pub(crate) fn no_model(name: &str) -> String {
    format!("no model with sensitive fields has the table or name `{name}`")
}

/// A primary key written as [`Value::key_text`] writes it.
pub(crate) fn parse_key(field: &FieldSchema, text: &str) -> Option<Value> {
    match field.sql_type {
        sql_type if sql_type.is_integer() => text.parse().ok().map(Value::Int),
        SqlType::Uuid => uuid::Uuid::parse_str(text).ok().map(Value::Uuid),
        SqlType::Text => Some(Value::Text(text.to_owned())),
        _ => None,
    }
}

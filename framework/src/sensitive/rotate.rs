//! `rotate-keys`: every value sealed (and every digest made) with a key other
//! than the current one, rewritten with the current key.
//!
//! The run is stateless, so it resumes by being run again: each batch selects
//! only rows still stale, in primary-key order, and each row's update is a
//! compare-and-set on the stored values it read. A write that lands between
//! the read and the update sealed with the current key already (it went
//! through the app), so it wins and the row is skipped.

use std::ops::ControlFlow;

use crate::db::{Access, Arguments, Conn, Db, placeholder, quote_ident};
use crate::error::{Error, Result};
use crate::schema::FieldSchema;
use crate::value::Value;

use super::ERASED;
use super::keys::{Keyring, Place};
use super::sealed::SealedModel;

/// How `rotate-keys` goes through a table.
#[derive(Debug, Clone, Copy)]
pub struct RotateOptions {
    /// Rows read and rewritten per batch, each batch in one short transaction.
    pub batch_size: u32,
}

impl RotateOptions {
    /// The default batch: small enough that a batch's transaction holds its
    /// rows (or SQLite's single writer) for milliseconds.
    pub const DEFAULT_BATCH_SIZE: u32 = 500;
    /// The largest batch accepted.
    pub const MAX_BATCH_SIZE: u32 = 10_000;
}

impl Default for RotateOptions {
    fn default() -> Self {
        RotateOptions {
            batch_size: Self::DEFAULT_BATCH_SIZE,
        }
    }
}

/// Where rotation stands in one table, after each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableRotation {
    /// The table.
    pub table: &'static str,
    /// Rows rewritten with the current key.
    pub rewritten: u64,
    /// Stale rows a concurrent write changed between read and update: that
    /// write sealed with the current key, or a rerun finds the row again.
    pub skipped: u64,
    /// Stale rows not yet reached (counted at the table's start).
    pub left: u64,
}

/// What a run did, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// The tables with sealed fields, in the order they were rotated.
    pub tables: Vec<TableRotation>,
    /// Whether every table was gone through; false when the progress callback
    /// stopped the run (run again to go on).
    pub finished: bool,
}

/// Rewrites every stale sealed value and digest of `models` with `db`'s
/// current key, in batches of [`RotateOptions::batch_size`] rows by primary
/// key. `progress` is called after each batch; returning
/// [`ControlFlow::Break`] stops the run after that batch, and a later run goes
/// on where it stopped. Safe while the app serves (see the module docs).
///
/// # Errors
///
/// [`Error::NoKeyring`] when `db` has no keys, [`Error::Unreadable`] for a
/// stored value no configured key opens (the row is named in the error's
/// log; fix or erase it and run again), or a database error.
pub async fn rotate_keys(
    db: &Db,
    models: &[SealedModel],
    options: RotateOptions,
    mut progress: impl FnMut(&TableRotation) -> ControlFlow<()>,
) -> Result<RotationReport> {
    let batch_size = options.batch_size.clamp(1, RotateOptions::MAX_BATCH_SIZE);
    let mut report = RotationReport::default();
    for model in models {
        let keyring = db
            .keyring()
            .ok_or(Error::NoKeyring {
                table: model.schema.table,
            })?
            .clone();
        let table = TableRun::new(model, &keyring, db);
        let mut state = TableRotation {
            table: model.schema.table,
            left: table.count_stale(db).await?,
            ..TableRotation::default()
        };
        let mut after = None;
        loop {
            let rows = table.stale_batch(db, after.as_ref(), batch_size).await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.key.clone());
            let (rewritten, skipped) = table.rewrite(db, &rows).await?;
            state.rewritten += rewritten;
            state.skipped += skipped;
            state.left = state.left.saturating_sub(rewritten + skipped);
            let reached_end = rows.len() < batch_size as usize;
            if progress(&state).is_break() {
                report.tables.push(state);
                return Ok(report);
            }
            if reached_end {
                break;
            }
        }
        report.tables.push(state);
    }
    report.finished = true;
    Ok(report)
}

/// The statements of one table's rotation.
struct TableRun<'a> {
    model: &'a SealedModel,
    keyring: &'a Keyring,
    fields: Vec<&'static FieldSchema>,
    /// `WHERE` condition of a stale row; its parameters are `$1` (the current
    /// sealed prefix) and, when a field is searchable, `$2` (the current
    /// digest prefix).
    stale: String,
    dialect: crate::Dialect,
}

/// One stale row as read: its key, and each sealed field's stored value and
/// digest, in [`TableRun::fields`] order.
struct StaleRow {
    key: Value,
    stored: Vec<(Option<String>, Option<String>)>,
}

impl<'a> TableRun<'a> {
    fn new(model: &'a SealedModel, keyring: &'a Keyring, db: &Db) -> TableRun<'a> {
        let dialect = db.dialect();
        let fields: Vec<_> = model.sealed_fields().collect();
        let sealed_prefix_length = keyring.current_sealed_prefix().len();
        let digest_prefix_length = keyring.current_digest_prefix().len();
        let (sealed_param, digest_param) = (placeholder(dialect, 1), placeholder(dialect, 2));
        let stale = fields
            .iter()
            .map(|field| {
                let column = quote_ident(field.column);
                let mut outdated =
                    format!("substr({column}, 1, {sealed_prefix_length}) <> {sealed_param}");
                if let Some(digest) = field.digest_column() {
                    let digest = quote_ident(&digest);
                    outdated.push_str(&format!(
                        " OR {digest} IS NULL \
                         OR substr({digest}, 1, {digest_prefix_length}) <> {digest_param}"
                    ));
                }
                // An erased value has nothing to rotate.
                format!("({column} IS NOT NULL AND {column} <> '{ERASED}' AND ({outdated}))")
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        TableRun {
            model,
            keyring,
            fields,
            stale: format!("({stale})"),
            dialect,
        }
    }

    /// The parameters of [`TableRun::stale`]: SQLite refuses a parameter its
    /// statement does not use, so the digest prefix only with a digest.
    fn prefix_arguments(&self) -> Result<Arguments> {
        let mut args = Arguments::new(self.dialect);
        args.add(self.keyring.current_sealed_prefix())?;
        if self
            .fields
            .iter()
            .any(|field| field.sensitivity.is_searchable())
        {
            args.add(self.keyring.current_digest_prefix())?;
        }
        Ok(args)
    }

    async fn count_stale(&self, db: &Db) -> Result<u64> {
        let sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {}",
            quote_ident(self.model.schema.table),
            self.stale
        );
        let count = Conn::Db(db)
            .fetch_optional(sql.into(), self.prefix_arguments()?, Access::Read, |row| {
                row.get::<i64>(0)
            })
            .await?;
        Ok(count.map_or(0, |count| count.unsigned_abs()))
    }

    async fn stale_batch(
        &self,
        db: &Db,
        after: Option<&Value>,
        batch_size: u32,
    ) -> Result<Vec<StaleRow>> {
        let key_column = quote_ident(self.model.schema.primary_key().column);
        let mut columns = vec![key_column.clone()];
        for field in &self.fields {
            columns.push(quote_ident(field.column));
            columns.push(
                field
                    .digest_column()
                    .map_or("NULL".to_owned(), |digest| quote_ident(&digest)),
            );
        }
        let mut args = self.prefix_arguments()?;
        let mut condition = self.stale.clone();
        if let Some(after) = after {
            args.add_value(after)?;
            condition = format!(
                "{key_column} > {} AND {condition}",
                placeholder(self.dialect, args.len())
            );
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE {condition} ORDER BY {key_column} LIMIT {batch_size}",
            columns.join(", "),
            quote_ident(self.model.schema.table),
        );
        Conn::Db(db)
            .fetch_all(sql.into(), args, Access::Read, |row| {
                let key = self.model.decode_key(row, 0)?;
                let stored = (0..self.fields.len())
                    .map(|index| {
                        Ok((
                            row.get::<Option<String>>(1 + 2 * index)?,
                            row.get::<Option<String>>(2 + 2 * index)?,
                        ))
                    })
                    .collect::<Result<_>>()?;
                Ok(StaleRow { key, stored })
            })
            .await
    }

    /// Rewrites `rows` in one transaction; returns how many were rewritten and
    /// how many a concurrent write changed first.
    async fn rewrite(&self, db: &Db, rows: &[StaleRow]) -> Result<(u64, u64)> {
        // Sealing happens before the transaction, so that it holds its rows
        // (or SQLite's writer) only for the updates.
        let updates = rows
            .iter()
            .map(|row| self.update_of(row))
            .collect::<Result<Vec<_>>>()?;
        let mut tx = db.begin().await?;
        let (mut rewritten, mut skipped) = (0, 0);
        for update in updates.into_iter().flatten() {
            let (sql, args) = update;
            match Conn::Tx(&mut tx).execute(sql.into(), args).await? {
                0 => skipped += 1,
                _ => rewritten += 1,
            }
        }
        tx.commit().await?;
        Ok((rewritten, skipped))
    }

    /// The compare-and-set `UPDATE` of one stale row, or `None` when nothing
    /// in it is stale any more.
    fn update_of(&self, row: &StaleRow) -> Result<Option<(String, Arguments)>> {
        let table = self.model.schema.table;
        let row_text = row.key.key_text();
        let mut sets = Vec::new();
        let mut compares = Vec::new();
        let mut args = Arguments::new(self.dialect);
        let next = |args: &mut Arguments, value: &str| -> Result<String> {
            args.add(value.to_owned())?;
            Ok(placeholder(self.dialect, args.len()))
        };
        for (field, (stored, digest)) in self.fields.iter().zip(&row.stored) {
            let Some(stored) = stored.as_deref().filter(|stored| *stored != ERASED) else {
                continue;
            };
            let digest_column = field.digest_column();
            let digest_is_stale = digest_column.is_some()
                && digest
                    .as_deref()
                    .is_none_or(|digest| self.keyring.is_stale_digest(digest));
            let value_is_stale = self.keyring.is_stale(stored);
            if !value_is_stale && !digest_is_stale {
                continue;
            }
            let place = Place {
                table,
                column: field.column,
                row: &row_text,
            };
            let clear = self
                .keyring
                .open(&place, stored)
                .map_err(|reason| Error::Unreadable {
                    table,
                    column: field.column,
                    reason,
                })?;
            let column = quote_ident(field.column);
            if value_is_stale {
                let sealed = self.keyring.seal(&place, &clear).map_err(no_randomness)?;
                sets.push(format!("{column} = {}", next(&mut args, &sealed)?));
            }
            compares.push(format!("{column} = {}", next(&mut args, stored)?));
            if let Some(digest_column) = digest_column.filter(|_| digest_is_stale) {
                let digest_column = quote_ident(&digest_column);
                let fresh = self.keyring.digest(table, field.column, &clear);
                sets.push(format!("{digest_column} = {}", next(&mut args, &fresh)?));
                compares.push(match digest {
                    Some(digest) => format!("{digest_column} = {}", next(&mut args, digest)?),
                    None => format!("{digest_column} IS NULL"),
                });
            }
        }
        if sets.is_empty() {
            return Ok(None);
        }
        args.add_value(&row.key)?;
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = {} AND {}",
            quote_ident(table),
            sets.join(", "),
            quote_ident(self.model.schema.primary_key().column),
            placeholder(self.dialect, args.len()),
            compares.join(" AND "),
        );
        Ok(Some((sql, args)))
    }
}

fn no_randomness(error: getrandom::Error) -> Error {
    Error::Database(sqlx::Error::Protocol(format!(
        "the operating system has no random numbers to seal with: {error}"
    )))
}

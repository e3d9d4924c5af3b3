//! The rewrite of an `alter_sensitivity` or `reseal` operation: every stored
//! value of a column sealed (or opened, or moved from the names it was sealed
//! under to the current ones) for its row, and its digest column filled, in
//! the migration's transaction.
//!
//! Rows are read in batches by primary key, so memory stays bounded on a big
//! table; the transaction still holds every rewritten row until the migration
//! commits (on SQLite, the whole database).

use super::MigrateError;
use super::sql::Reseal;
use crate::db::{Access, Arguments, Conn, Tx, placeholder, quote_ident};
use crate::schema::SqlType;
use crate::sensitive::{ERASED, Keyring, Place};
use crate::value::Value;

/// Runs `reseal` on `tx`, for migration `name`.
///
/// # Errors
///
/// [`MigrateError::Reseal`] when a stored value does not open with `keyring`
/// or a value cannot be sealed; [`MigrateError::Apply`] when a statement fails.
pub(super) async fn run(
    tx: &mut Tx,
    keyring: &Keyring,
    name: &str,
    reseal: &Reseal,
) -> Result<(), MigrateError> {
    let dialect = tx.dialect();
    let (table, key, column) = (
        quote_ident(&reseal.table),
        quote_ident(&reseal.key),
        quote_ident(&reseal.column),
    );
    let failed = |statement: &str, source: crate::Error| MigrateError::Apply {
        name: name.to_owned(),
        statement: statement.to_owned(),
        source,
    };
    let mut update = format!("UPDATE {table} SET {column} = {}", placeholder(dialect, 1));
    if let Some(digest) = &reseal.digest {
        update.push_str(&format!(
            ", {} = {}",
            quote_ident(digest),
            placeholder(dialect, 2)
        ));
    }
    let key_parameter = if reseal.digest.is_some() { 3 } else { 2 };
    update.push_str(&format!(
        " WHERE {key} = {}",
        placeholder(dialect, key_parameter)
    ));

    let mut after: Option<Value> = None;
    loop {
        let mut args = Arguments::new(dialect);
        let mut select = format!("SELECT {key}, {column} FROM {table}");
        if let Some(after) = &after {
            args.add_value(after)?;
            select.push_str(&format!(" WHERE {key} > {}", placeholder(dialect, 1)));
        }
        select.push_str(&format!(" ORDER BY {key} LIMIT {}", Reseal::BATCH_SIZE));
        let rows = Conn::Tx(tx)
            .fetch_all(select.clone().into(), args, Access::Write, |row| {
                let key = match reseal.key_type {
                    SqlType::SmallInt => Value::Int(row.get::<i16>(0)?.into()),
                    SqlType::Int => Value::Int(row.get::<i32>(0)?.into()),
                    SqlType::Uuid => Value::Uuid(row.get(0)?),
                    SqlType::Text => Value::Text(row.get(0)?),
                    _ => Value::Int(row.get(0)?),
                };
                Ok((key, row.get::<Option<String>>(1)?))
            })
            .await
            .map_err(|source| failed(&select, source))?;
        let Some((last, _)) = rows.last() else {
            return Ok(());
        };
        let reached_end = rows.len() < Reseal::BATCH_SIZE as usize;
        after = Some(last.clone());
        for (key, stored) in rows {
            let Some(stored) = stored else { continue };
            // An erased value stays erased: there is nothing to open, and its
            // digest is NULL.
            if reseal.opens && stored == ERASED {
                continue;
            }
            let row = key.key_text();
            let sealed_at = Place {
                table: &reseal.sealed_as.0,
                column: &reseal.sealed_as.1,
                row: &row,
            };
            let place = Place {
                table: &reseal.table,
                column: &reseal.column,
                row: &row,
            };
            let cannot = |reason: String| MigrateError::Reseal {
                name: name.to_owned(),
                table: reseal.table.clone(),
                column: reseal.column.clone(),
                row: row.clone(),
                reason,
            };
            let clear = if reseal.opens {
                keyring.open(&sealed_at, &stored).map_err(|error| {
                    cannot(format!(
                        "{error}; FW_SECRET_KEYS must hold the key that sealed it (or erase the \
                         row's value with the app's `erase` command)"
                    ))
                })?
            } else {
                stored.clone()
            };
            let written = match (reseal.opens, reseal.seals) {
                (true, true) if !reseal.moves() => stored,
                (_, true) => keyring.seal(&place, &clear).map_err(|error| {
                    cannot(format!(
                        "the operating system has no random numbers to seal with: {error}"
                    ))
                })?,
                (_, false) => clear.clone(),
            };
            let mut args = Arguments::new(dialect);
            args.add(written)?;
            if reseal.digest.is_some() {
                args.add(keyring.digest(&reseal.table, &reseal.column, &clear))?;
            }
            args.add_value(&key)?;
            Conn::Tx(tx)
                .execute(update.clone().into(), args)
                .await
                .map_err(|source| failed(&reseal.describe(), source))?;
        }
        if reached_end {
            return Ok(());
        }
    }
}

//! How sealed fields reach the database and come back: each value sealed at its
//! place (table, column, row key) on the way in, opened on the way out, and a
//! searchable field's digest written next to it.

use std::sync::Arc;

use crate::db::{Conn, Row};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Model;
use crate::schema::FieldSchema;
use crate::sensitive::{ERASED, Keyring, Place};
use crate::value::Value;

/// The keys `M`'s rows need: `None` for a model without sealed fields, so its
/// reads and writes cost what they did before sealing existed.
pub(crate) fn keyring_for<M: Model>(conn: &Conn<'_>) -> Result<Option<Arc<Keyring>>> {
    if !M::SEALED {
        return Ok(None);
    }
    conn.keyring(M::TABLE)
        .map(|keyring| Some(Arc::clone(keyring)))
}

/// Decodes rows of `M`, opening its sealed fields with `keyring`.
pub(crate) fn decoder<M: Model>(
    keyring: Option<Arc<Keyring>>,
) -> impl Fn(&Row<'_>) -> Result<M> + Send + Sync {
    move |row| {
        let mut model = M::decode(row)?;
        if let Some(keyring) = &keyring {
            open_fields(keyring, &mut model)?;
        }
        Ok(model)
    }
}

fn open_fields<M: Model>(keyring: &Keyring, model: &mut M) -> Result<()> {
    let row = model.key().to_value().key_text();
    model.open_sealed(&mut |field, text| {
        if text == ERASED {
            return Ok(());
        }
        let place = Place {
            table: M::TABLE,
            column: field.column,
            row: &row,
        };
        *text = keyring
            .open(&place, text)
            .map_err(|reason| Error::Unreadable {
                table: M::TABLE,
                column: field.column,
                reason,
            })?;
        Ok(())
    })
}

/// Seals the values of `M`'s sealed fields among `values` in place, for the row
/// whose key text is `row`, and returns the digest column of each searchable
/// one with its digest (NULL for a NULL value), to be written with them.
pub(crate) fn seal_values<M: Model>(
    keyring: &Keyring,
    row: &str,
    values: &mut [(&'static FieldSchema, Value)],
) -> Result<Vec<(String, Value)>> {
    let mut digests = Vec::new();
    for (field, value) in values.iter_mut() {
        if !field.sensitivity.is_sealed() {
            continue;
        }
        let clear = match value {
            Value::Text(clear) => Some(std::mem::take(clear)),
            _ => None,
        };
        if let Some(digest_column) = field.digest_column() {
            let digest = clear.as_deref().map_or(Value::Null, |clear| {
                Value::Text(keyring.digest(M::TABLE, field.column, clear))
            });
            digests.push((digest_column, digest));
        }
        if let Some(clear) = clear {
            let place = Place {
                table: M::TABLE,
                column: field.column,
                row,
            };
            let sealed = keyring
                .seal(&place, &clear)
                .map_err(|source| Error::Sealing {
                    table: M::TABLE,
                    source,
                })?;
            *value = Value::Text(sealed);
        }
    }
    Ok(digests)
}

/// The values a searchable field equal to one of `values` may have as digests:
/// one per configured key, so rows not yet rotated are found too.
pub(crate) fn digests_of(
    keyring: &Keyring,
    table: &str,
    field: &FieldSchema,
    values: &[Value],
) -> Vec<Value> {
    values
        .iter()
        .filter_map(|value| match value {
            Value::Text(clear) => Some(keyring.digests(table, field.column, clear)),
            _ => None,
        })
        .flatten()
        .map(Value::Text)
        .collect()
}

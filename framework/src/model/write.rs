//! The model operations behind [`Model`]'s provided methods, and what a refused
//! write names where SQLite does not say (the dangling reference, the row a
//! delete is refused for).

use super::Model;
use super::query::{ConflictTarget, SqlBuilder};
use crate::changes;
use crate::db::{
    Access, Arguments, Conn, Dialect, Sql, Tx, lock_clause, now, placeholder, quote_ident,
};
use crate::error::{Error, ForeignKeyRelation, Result, classify};
use crate::field::Field;
use crate::model::seal::{decoder, digests_of, keyring_for, seal_values};
use crate::schema::{FieldSchema, Generated, OnInsert, OnUpdate, SqlType};
use crate::value::Value;
use fw_core::statement::{Column, OnConflict, Table};

/// Runs `$body` with `$tx: &mut Tx`: inside the caller's transaction, or in one of
/// its own that commits when `$body` succeeds. Writes of models that record
/// changes go through here, so a write and its change record commit together.
macro_rules! in_transaction {
    ($conn:expr, |$tx:ident| $body:expr) => {
        match $conn {
            Conn::Tx($tx) => $body,
            Conn::Db(db) => {
                let mut owned = db.begin().await?;
                let written = {
                    let $tx = &mut owned;
                    $body
                };
                match written {
                    Ok(written) => {
                        owned.commit().await?;
                        Ok(written)
                    }
                    Err(error) => Err(error),
                }
            }
        }
    };
}

pub(crate) async fn insert<M: Model>(conn: Conn<'_>, new: M::New) -> Result<M> {
    if !M::CHANGELOG {
        return insert_row::<M>(conn, new).await;
    }
    if let Conn::Db(db) = conn
        && let Some((sql, args)) = changes::insert_with_record::<M>(db.dialect(), &new)?
    {
        // The row and its record in one statement, its own transaction.
        let row = run_insert::<M>(conn, sql, args, &new).await?;
        changes::wake();
        return Ok(row);
    }
    in_transaction!(conn, |tx| {
        let row = insert_row::<M>(Conn::Tx(&mut *tx), new).await?;
        changes::record_insert(tx, &row).await?;
        Ok(row)
    })
}

async fn insert_row<M: Model>(conn: Conn<'_>, new: M::New) -> Result<M> {
    if M::SEALED {
        return insert_sealed::<M>(conn, new).await;
    }
    let sql = M::sql(conn.dialect());
    let mut args = Arguments::new(conn.dialect());
    M::bind_new(&new, &mut args, now())?;
    run_insert::<M>(conn, sql.insert.into(), args, &new).await
}

/// Runs `sql`, an insert of `new` returning the row, and names what a refused
/// insert broke.
async fn run_insert<M: Model>(
    mut conn: Conn<'_>,
    sql: Sql,
    args: Arguments,
    new: &M::New,
) -> Result<M> {
    let inserted = conn
        .reborrow()
        .fetch_optional(sql, args, Access::Write, M::decode)
        .await;
    match inserted {
        Ok(row) => row.ok_or(Error::NotFound {
            model: M::SCHEMA.name,
        }),
        Err(error) => Err(explain::<M>(conn, error, &M::new_values(new)).await),
    }
}

/// The insert of a model with sealed fields: the row's key is known before its
/// values are sealed (they are bound to it), so a database-assigned key is
/// reserved first, in the same transaction.
async fn insert_sealed<M: Model>(conn: Conn<'_>, new: M::New) -> Result<M> {
    let keyring = keyring_for::<M>(&conn)?.ok_or(Error::NoKeyring { table: M::TABLE })?;
    let supplied = M::new_values(&new);
    in_transaction!(conn, |tx| {
        let dialect = tx.dialect();
        let now = Value::Timestamp(now());
        let mut values = Vec::with_capacity(M::SCHEMA.fields.len());
        for field in M::SCHEMA.fields {
            let value = match field.generated.on_insert() {
                OnInsert::Supplied => supplied
                    .iter()
                    .find(|(supplied, _)| supplied.name == field.name)
                    .map_or(Value::Null, |(_, value)| value.clone()),
                OnInsert::Database => reserve_key::<M>(tx, field).await?,
                OnInsert::NewUuid => Value::Uuid(uuid::Uuid::now_v7()),
                OnInsert::Now => now.clone(),
                OnInsert::FirstVersion => Value::Int(OnInsert::FIRST_VERSION),
            };
            values.push((field, value));
        }
        let key = values
            .iter()
            .find(|(field, _)| field.primary_key)
            .map(|(_, key)| key.key_text())
            .unwrap_or_default();
        let clear = values.clone();
        let digests = seal_values::<M>(&keyring, &key, &mut values)?;
        // Every column is supplied (the key too, reserved above); digests come
        // last, after the columns a row decodes, so RETURNING reads as usual.
        let mut columns: Vec<Column<'_>> = M::SCHEMA
            .fields
            .iter()
            .map(|field| Column {
                generated: Generated::No,
                ..field.statement_column()
            })
            .collect();
        columns.extend(digests.iter().map(|(column, _)| Column {
            name: column,
            generated: Generated::No,
            primary_key: false,
        }));
        let text = Table {
            name: M::TABLE,
            columns: &columns,
        }
        .statements(dialect)
        .insert;
        let mut args = Arguments::new(dialect);
        for (field, value) in &values {
            args.add_typed(value, field.sql_type)?;
        }
        for (_, digest) in &digests {
            args.add_typed(digest, SqlType::Text)?;
        }
        let inserted = Conn::Tx(&mut *tx)
            .fetch_optional(
                text.into(),
                args,
                Access::Write,
                decoder::<M>(Some(keyring.clone())),
            )
            .await;
        match inserted {
            Ok(row) => row.ok_or(Error::NotFound {
                model: M::SCHEMA.name,
            }),
            Err(error) => Err(explain::<M>(Conn::Tx(tx), error, &clear).await),
        }
    })
}

/// The next key of `M`'s database-assigned `key` column, taken before the row
/// is written: PostgreSQL's identity sequence; on SQLite, whose single writer
/// holds the transaction, past both the highest key and the highest ever
/// assigned (`AUTOINCREMENT` never reuses the key of a deleted row).
async fn reserve_key<M: Model>(tx: &mut Tx, key: &FieldSchema) -> Result<Value> {
    let dialect = tx.dialect();
    let column = quote_ident(key.column);
    let table = quote_ident(M::TABLE);
    let mut args = Arguments::new(dialect);
    let sql = match dialect {
        Dialect::Postgres => {
            args.add_value(&Value::Text(table))?;
            args.add_value(&Value::Text(key.column.to_owned()))?;
            "SELECT nextval(pg_get_serial_sequence($1, $2))".to_owned()
        }
        Dialect::Sqlite => {
            args.add_value(&Value::Text(M::TABLE.to_owned()))?;
            format!(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0), \
                 COALESCE((SELECT MAX({column}) FROM {table}), 0)) + 1"
            )
        }
    };
    let next = Conn::Tx(tx)
        .fetch_optional(sql.into(), args, Access::Write, |row| i64::decode(row, 0))
        .await?
        .unwrap_or(1);
    Ok(Value::Int(next))
}

pub(crate) async fn insert_many<M: Model>(conn: Conn<'_>, rows: Vec<M::New>) -> Result<Vec<M>> {
    match conn {
        Conn::Db(db) => {
            let mut tx = db.begin().await?;
            let inserted = insert_each::<M>(Conn::Tx(&mut tx), rows).await?;
            tx.commit().await?;
            Ok(inserted)
        }
        Conn::Tx(tx) => insert_each::<M>(Conn::Tx(tx), rows).await,
    }
}

/// One prepared statement per row: the statement is parsed once and reused, and
/// every row comes back with its key, in input order, on both databases.
async fn insert_each<M: Model>(mut conn: Conn<'_>, rows: Vec<M::New>) -> Result<Vec<M>> {
    let mut inserted = Vec::with_capacity(rows.len());
    for row in rows {
        inserted.push(insert::<M>(conn.reborrow(), row).await?);
    }
    Ok(inserted)
}

pub(crate) async fn upsert<M: Model>(
    conn: Conn<'_>,
    new: M::New,
    on: ConflictTarget<M>,
) -> Result<M> {
    if M::SEALED {
        return in_transaction!(conn, |tx| upsert_sealed::<M>(tx, new, on).await);
    }
    if !M::CHANGELOG {
        return upsert_row::<M>(conn, new, on).await;
    }
    in_transaction!(conn, |tx| upsert_logged::<M>(tx, new, on).await)
}

/// An upsert that knows what it did: the row is locked first when it exists (so
/// its old values are the ones replaced), and inserted with `DO NOTHING` when it
/// does not (so a row inserted concurrently is locked and updated on the next
/// round, never overwritten unrecorded).
async fn upsert_logged<M: Model>(tx: &mut Tx, new: M::New, on: ConflictTarget<M>) -> Result<M> {
    let dialect = tx.dialect();
    let values = M::new_values(&new);
    loop {
        let existing =
            find_by_values_optional::<M>(Conn::Tx(&mut *tx), on.fields(), &values, true).await?;
        let (sql, old) = match existing {
            Some(old) => (
                render_upsert::<M>(dialect, on.fields(), OnConflict::UpdateChanged),
                Some(old),
            ),
            None => (
                render_upsert::<M>(dialect, on.fields(), OnConflict::DoNothing),
                None,
            ),
        };
        let mut args = Arguments::new(dialect);
        M::bind_new(&new, &mut args, now())?;
        let written = Conn::Tx(&mut *tx)
            .fetch_optional(sql.into(), args, Access::Write, M::decode)
            .await;
        match (written, old) {
            (Ok(Some(row)), Some(old)) => {
                changes::record_update(tx, &old, &row).await?;
                return Ok(row);
            }
            (Ok(Some(row)), None) => {
                changes::record_insert(tx, &row).await?;
                return Ok(row);
            }
            // Nothing differed: no write, no record.
            (Ok(None), Some(old)) => return Ok(old),
            // Another transaction inserted the row since we looked: lock it and
            // update it instead.
            (Ok(None), None) => continue,
            (Err(error), _) => return Err(explain::<M>(Conn::Tx(tx), error, &values).await),
        }
    }
}

/// The upsert of a model with sealed fields, whose values are sealed for the
/// row actually written: the existing row (found by the conflict key, through
/// digests for a searchable field) is locked and updated with its own key, or
/// a new row is inserted. The sealed text differs on every write, so an
/// existing row is always written.
async fn upsert_sealed<M: Model>(tx: &mut Tx, new: M::New, on: ConflictTarget<M>) -> Result<M> {
    let values = M::new_values(&new);
    let existing =
        find_by_values_optional::<M>(Conn::Tx(&mut *tx), on.fields(), &values, true).await?;
    let Some(old) = existing else {
        let row = insert_sealed::<M>(Conn::Tx(&mut *tx), new).await?;
        if M::CHANGELOG {
            changes::record_insert(tx, &row).await?;
        }
        return Ok(row);
    };
    let updated_values = values
        .into_iter()
        .filter(|(field, _)| field.is_updatable())
        .collect();
    let row = patch_row(Conn::Tx(&mut *tx), old.key().clone(), None, updated_values).await?;
    if M::CHANGELOG {
        changes::record_update(tx, &old, &row).await?;
    }
    Ok(row)
}

async fn upsert_row<M: Model>(mut conn: Conn<'_>, new: M::New, on: ConflictTarget<M>) -> Result<M> {
    let dialect = conn.dialect();
    let sql = render_upsert::<M>(dialect, on.fields(), OnConflict::UpdateChanged);
    let mut args = Arguments::new(dialect);
    M::bind_new(&new, &mut args, now())?;
    let written = conn
        .reborrow()
        .fetch_optional(sql.into(), args, Access::Write, M::decode)
        .await;
    let values = M::new_values(&new);
    match written {
        Ok(Some(row)) => Ok(row),
        // The row exists and no field differs: it was left untouched (its version
        // not bumped), so read it back by the conflict key.
        Ok(None) => find_by_values::<M>(conn, on.fields(), &values).await,
        Err(error) => Err(explain::<M>(conn, error, &values).await),
    }
}

/// The upsert of `M` on the unique `target`, resolving a conflict as `on_conflict` says.
fn render_upsert<M: Model>(
    dialect: Dialect,
    target: &[&'static FieldSchema],
    on_conflict: OnConflict,
) -> String {
    let target: Vec<&str> = target.iter().map(|field| field.column).collect();
    with_table::<M, _>(|table| table.upsert(dialect, &target, on_conflict))
}

/// Runs `render` with `M`'s table as the statement renderer reads it.
fn with_table<M: Model, T>(render: impl FnOnce(&Table<'_>) -> T) -> T {
    let columns: Vec<Column<'static>> = M::SCHEMA
        .fields
        .iter()
        .map(FieldSchema::statement_column)
        .collect();
    render(&Table {
        name: M::SCHEMA.table,
        columns: &columns,
    })
}

async fn find_by_values<M: Model>(
    conn: Conn<'_>,
    fields: &[&'static FieldSchema],
    values: &[(&'static FieldSchema, Value)],
) -> Result<M> {
    find_by_values_optional::<M>(conn, fields, values, false)
        .await?
        .ok_or(Error::NotFound {
            model: M::SCHEMA.name,
        })
}

/// The row whose `fields` hold `values`; locked for the transaction with `lock`.
async fn find_by_values_optional<M: Model>(
    conn: Conn<'_>,
    fields: &[&'static FieldSchema],
    values: &[(&'static FieldSchema, Value)],
    lock: bool,
) -> Result<Option<M>> {
    let dialect = conn.dialect();
    let keyring = keyring_for::<M>(&conn)?;
    let mut sql = SqlBuilder::new(dialect, M::TABLE);
    sql.push(M::sql(dialect).select);
    sql.push(" WHERE ");
    for (position, field) in fields.iter().enumerate() {
        if position > 0 {
            sql.push(" AND ");
        }
        let value = values
            .iter()
            .find(|(supplied, _)| supplied.name == field.name)
            .map_or(Value::Null, |(_, value)| value.clone());
        match (&keyring, field.digest_column()) {
            (Some(keyring), Some(digest)) => {
                sql.push(&quote_ident(&digest));
                sql.push(" IN (");
                let digests = digests_of(keyring, M::TABLE, field, &[value]);
                for (position, digest) in digests.iter().enumerate() {
                    if position > 0 {
                        sql.push(", ");
                    }
                    sql.push_bound(digest)?;
                }
                sql.push(")");
            }
            _ => {
                sql.push_column(field);
                sql.push(" = ");
                sql.push_value(field, &value)?;
            }
        }
    }
    if lock {
        sql.push(lock_clause(dialect));
    }
    let (text, args) = sql.finish();
    conn.fetch_optional(text.into(), args, Access::Write, decoder::<M>(keyring))
        .await
}

/// The row with key `key`, locked until `tx` ends, as it is before a write.
async fn find_locked<M: Model>(tx: &mut Tx, key: M::Key) -> Result<M> {
    let dialect = tx.dialect();
    let mut args = Arguments::new(dialect);
    key.bind(&mut args)?;
    let sql = format!("{}{}", M::sql(dialect).get, lock_clause(dialect));
    let conn = Conn::Tx(tx);
    let decode = decoder::<M>(keyring_for::<M>(&conn)?);
    conn.fetch_optional(sql.into(), args, Access::Write, decode)
        .await?
        .ok_or(Error::NotFound {
            model: M::SCHEMA.name,
        })
}

pub(crate) async fn get<M: Model>(conn: Conn<'_>, key: M::Key) -> Result<M> {
    find::<M>(conn, key).await?.ok_or(Error::NotFound {
        model: M::SCHEMA.name,
    })
}

pub(crate) async fn find<M: Model>(conn: Conn<'_>, key: M::Key) -> Result<Option<M>> {
    let mut args = Arguments::new(conn.dialect());
    key.bind(&mut args)?;
    find_with_args(conn, args).await
}

/// [`find`] with a key parsed at run time (from a URL path).
pub(crate) async fn find_by_key_value<M: Model>(conn: Conn<'_>, key: &Value) -> Result<Option<M>> {
    let mut args = Arguments::new(conn.dialect());
    args.add_value(key)?;
    find_with_args(conn, args).await
}

/// [`find_by_key_value`], locked until `tx` ends (see
/// [`Query::for_update`](crate::Query::for_update)): the row a write is about
/// to check and change.
pub(crate) async fn find_by_key_value_for_update<M: Model>(
    tx: &mut Tx,
    key: &Value,
) -> Result<Option<M>> {
    let dialect = tx.dialect();
    let mut args = Arguments::new(dialect);
    args.add_value(key)?;
    let sql = format!("{}{}", M::sql(dialect).get, lock_clause(dialect));
    let conn = Conn::Tx(tx);
    let decode = decoder::<M>(keyring_for::<M>(&conn)?);
    conn.fetch_optional(sql.into(), args, Access::Write, decode)
        .await
}

async fn find_with_args<M: Model>(conn: Conn<'_>, args: Arguments) -> Result<Option<M>> {
    let sql = M::sql(conn.dialect());
    let decode = decoder::<M>(keyring_for::<M>(&conn)?);
    conn.fetch_optional(sql.get.into(), args, Access::Read, decode)
        .await
}

pub(crate) async fn update<M: Model>(conn: Conn<'_>, row: &M) -> Result<M> {
    if !M::CHANGELOG {
        return update_row(conn, row).await;
    }
    in_transaction!(conn, |tx| {
        let old = find_locked::<M>(tx, row.key().clone()).await?;
        let updated = update_row(Conn::Tx(&mut *tx), row).await?;
        changes::record_update(tx, &old, &updated).await?;
        Ok(updated)
    })
}

async fn update_row<M: Model>(mut conn: Conn<'_>, row: &M) -> Result<M> {
    if M::SEALED {
        // Sealed values are bound to the row and sealed afresh: the update is
        // the patch of every updatable field.
        let values = M::SCHEMA
            .fields
            .iter()
            .zip(row.values())
            .filter(|(field, _)| field.is_updatable())
            .collect();
        return patch_row(conn, row.key().clone(), row.version(), values).await;
    }
    let sql = M::sql(conn.dialect());
    let mut args = Arguments::new(conn.dialect());
    row.bind_update(&mut args, now())?;
    let updated = conn
        .reborrow()
        .fetch_optional(sql.update.into(), args, Access::Write, M::decode)
        .await;
    match updated {
        Ok(Some(updated)) => Ok(updated),
        Ok(None) => Err(missing_or_stale::<M>(conn, row.key().clone(), row.version()).await),
        Err(error) => {
            let values: Vec<_> = M::SCHEMA.fields.iter().zip(row.values()).collect();
            Err(explain::<M>(conn, error, &values).await)
        }
    }
}

pub(crate) async fn patch<M: Model>(
    conn: Conn<'_>,
    key: M::Key,
    expected_version: Option<i64>,
    patch: M::Patch,
) -> Result<M> {
    // The values are taken once: they decide whether there is anything to
    // record and are what `patch_row` binds.
    let values = M::patch_values(&patch);
    // An empty patch writes nothing, so it records nothing either.
    if !M::CHANGELOG || values.is_empty() {
        return patch_row(conn, key, expected_version, values).await;
    }
    in_transaction!(conn, |tx| {
        let old = find_locked::<M>(tx, key.clone()).await?;
        let patched = patch_row(Conn::Tx(&mut *tx), key, expected_version, values).await?;
        changes::record_update(tx, &old, &patched).await?;
        Ok(patched)
    })
}

pub(crate) async fn patch_row<M: Model>(
    mut conn: Conn<'_>,
    key: M::Key,
    expected_version: Option<i64>,
    values: Vec<(&'static FieldSchema, Value)>,
) -> Result<M> {
    if values.is_empty() {
        // Nothing to change: report the row as it is, so an empty PATCH neither
        // bumps the version nor fails.
        let current = get::<M>(conn, key).await?;
        return match (expected_version, current.version()) {
            (Some(expected), Some(actual)) if expected != actual => Err(Error::StaleVersion {
                model: M::SCHEMA.name,
                expected,
            }),
            _ => Ok(current),
        };
    }
    let dialect = conn.dialect();
    let keyring = keyring_for::<M>(&conn)?;
    let mut written = values.clone();
    let digests = match &keyring {
        Some(keyring) => seal_values::<M>(keyring, &key.to_value().key_text(), &mut written)?,
        None => Vec::new(),
    };
    let mut supplied: Vec<&str> = written.iter().map(|(field, _)| field.column).collect();
    supplied.extend(digests.iter().map(|(column, _)| column.as_str()));
    let text =
        with_table::<M, _>(|table| table.update(dialect, &supplied, expected_version.is_some()));
    let mut args = Arguments::new(dialect);
    for (field, value) in &written {
        args.add_typed(value, field.sql_type)?;
    }
    for (_, digest) in &digests {
        args.add_typed(digest, SqlType::Text)?;
    }
    let now = Value::Timestamp(now());
    for field in M::SCHEMA.fields {
        if field.generated.on_update() == OnUpdate::Now {
            args.add_value(&now)?;
        }
    }
    args.add_value(&key.to_value())?;
    if let (Some(expected), Some(_)) = (expected_version, M::SCHEMA.version_field()) {
        args.add_value(&Value::Int(expected))?;
    }
    let patched = conn
        .reborrow()
        .fetch_optional(text.into(), args, Access::Write, decoder::<M>(keyring))
        .await;
    match patched {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(missing_or_stale::<M>(conn, key, expected_version).await),
        Err(error) => Err(explain::<M>(conn, error, &values).await),
    }
}

pub(crate) async fn delete<M: Model>(conn: Conn<'_>, key: M::Key) -> Result<()> {
    let cascades = conn.before_delete_reaches(M::TABLE);
    if !M::CHANGELOG && !cascades {
        return delete_row::<M>(conn, key).await;
    }
    in_transaction!(conn, |tx| {
        // Locked first, the row cannot gain a referencing row (whose insert
        // waits for this lock) between the walk and the delete.
        let old = find_locked::<M>(tx, key.clone()).await?;
        if cascades {
            tx.run_before_delete(M::TABLE, key.to_value()).await?;
        }
        delete_row::<M>(Conn::Tx(&mut *tx), key).await?;
        if M::CHANGELOG {
            changes::record_delete(tx, &old).await?;
        }
        Ok(())
    })
}

async fn delete_row<M: Model>(mut conn: Conn<'_>, key: M::Key) -> Result<()> {
    let dialect = conn.dialect();
    let mut args = Arguments::new(dialect);
    key.bind(&mut args)?;
    let deleted = conn
        .reborrow()
        .execute(M::sql(dialect).delete.into(), args)
        .await;
    match deleted {
        Ok(0) => Err(Error::NotFound {
            model: M::SCHEMA.name,
        }),
        Ok(_) => Ok(()),
        Err(error) => {
            let error = classify(error, M::SCHEMA);
            match error {
                Error::ForeignKeyViolation { relation } if relation.column.is_none() => {
                    let relation = sqlite_referencing_relation::<M>(conn, &key.to_value())
                        .await
                        .unwrap_or(relation);
                    Err(Error::ForeignKeyViolation { relation })
                }
                error => Err(error),
            }
        }
    }
}

async fn missing_or_stale<M: Model>(
    conn: Conn<'_>,
    key: M::Key,
    expected_version: Option<i64>,
) -> Error {
    match (find::<M>(conn, key).await, expected_version) {
        (Ok(Some(_)), Some(expected)) => Error::StaleVersion {
            model: M::SCHEMA.name,
            expected,
        },
        (Err(error), _) => error,
        _ => Error::NotFound {
            model: M::SCHEMA.name,
        },
    }
}

/// Classifies `error` and, for a SQLite foreign-key violation (which SQLite reports
/// without naming the constraint), finds which supplied reference points nowhere.
async fn explain<M: Model>(
    conn: Conn<'_>,
    error: Error,
    values: &[(&'static FieldSchema, Value)],
) -> Error {
    match classify(error, M::SCHEMA) {
        Error::ForeignKeyViolation { relation } if relation.column.is_none() => {
            let relation = sqlite_dangling_reference(conn, M::SCHEMA.table, values)
                .await
                .unwrap_or(relation);
            Error::ForeignKeyViolation { relation }
        }
        error => error,
    }
}

async fn sqlite_dangling_reference(
    mut conn: Conn<'_>,
    table: &str,
    values: &[(&'static FieldSchema, Value)],
) -> Option<ForeignKeyRelation> {
    for (field, value) in values {
        let Some(foreign_key) = field.foreign_key else {
            continue;
        };
        if *value == Value::Null {
            continue;
        }
        let sql = format!(
            "SELECT 1 FROM {} WHERE {} = {}",
            quote_ident(foreign_key.table),
            quote_ident(foreign_key.column),
            placeholder(conn.dialect(), 1)
        );
        let mut args = Arguments::new(conn.dialect());
        args.add_value(value).ok()?;
        let found = conn
            .reborrow()
            .fetch_optional(sql.into(), args, Access::Write, |_| Ok(()))
            .await
            .ok()?;
        if found.is_none() {
            return Some(ForeignKeyRelation {
                table: table.to_owned(),
                column: Some(field.column.to_owned()),
                references: Some(foreign_key.table.to_owned()),
            });
        }
    }
    None
}

/// For a delete refused by SQLite: the first table with a row still referencing
/// `key`. Reads SQLite's catalog, since a model does not know who references it.
async fn sqlite_referencing_relation<M: Model>(
    mut conn: Conn<'_>,
    key: &Value,
) -> Option<ForeignKeyRelation> {
    if conn.dialect() != Dialect::Sqlite {
        return None;
    }
    let mut args = Arguments::new(Dialect::Sqlite);
    args.add_value(&Value::Text(M::SCHEMA.table.to_owned()))
        .ok()?;
    let references = conn
        .reborrow()
        .fetch_all(
            "SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND f.\"table\" = ?1"
                .into(),
            args,
            Access::Write,
            |row| Ok((row.get::<String>(0)?, row.get::<String>(1)?)),
        )
        .await
        .ok()?;
    for (table, column) in references {
        let sql = format!(
            "SELECT 1 FROM {} WHERE {} = ?1 LIMIT 1",
            quote_ident(&table),
            quote_ident(&column)
        );
        let mut args = Arguments::new(Dialect::Sqlite);
        args.add_value(key).ok()?;
        let found = conn
            .reborrow()
            .fetch_optional(sql.into(), args, Access::Write, |_| Ok(()))
            .await
            .ok()?;
        if found.is_some() {
            return Some(ForeignKeyRelation {
                table,
                column: Some(column),
                references: Some(M::SCHEMA.table.to_owned()),
            });
        }
    }
    None
}

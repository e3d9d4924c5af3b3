//! [`Model`]: the trait `#[fw::model]` implements, with the typed query API.
//!
//! The API's two halves are this module's children, generic over any `Model`:
//! [`query`] renders and runs filtered reads, [`write`] inserts, updates and
//! deletes. The trait's provided methods are their face, so nothing else in fw
//! needs to know which half does what. Both seal and open a model's sensitive
//! fields through [`seal`].

pub(crate) mod query;
pub(crate) mod seal;
pub(crate) mod write;

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::db::{Arguments, Conn, Dialect, Row};
use crate::error::Result;
use crate::field::Field;
use crate::schema::{FieldSchema, ModelSchema};
use crate::value::Value;
use query::{ConflictTarget, Query};

/// A database table declared as a Rust struct with `#[fw::model]`.
///
/// Implemented only by the macro. The provided methods are the typed query API;
/// each accepts `&Db` or `&mut Tx` (see [`Conn`]), so any of them can run inside a
/// transaction.
///
/// ```no_run
/// # #[fw::model]
/// # pub struct Security {
/// #     pub id: i64,
/// #     #[field(unique, max_length = 12)]
/// #     pub symbol: String,
/// # }
/// # use fw::Model;
/// # async fn example(db: &fw::Db) -> fw::Result<()> {
/// let security = Security::insert(db, NewSecurity { symbol: "ACME".into() }).await?;
/// let same = Security::get(db, security.id).await?;
/// let page = Security::query()
///     .filter(Security::SYMBOL.starts_with("AC"))
///     .order_by(Security::SYMBOL.asc())
///     .limit(50)
///     .all(db)
///     .await?;
/// # let _ = (same, page);
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a model",
    label = "expected a struct with `#[fw::model]`",
    note = "add `#[fw::model]` to the struct declaration"
)]
pub trait Model: ModelCodegen + Send + Sync + Unpin + 'static {
    /// The table name (also [`ModelSchema::table`]). A constant of its own so that
    /// foreign keys can name it without evaluating `SCHEMA`, which would be a
    /// cycle for models that reference themselves or each other.
    const TABLE: &'static str;
    /// The static description of the table.
    const SCHEMA: &'static ModelSchema;
    /// Whether writes append to the change log (`#[fw::model(changelog)]`); see
    /// [`changes`](crate::changes).
    const CHANGELOG: bool = false;

    /// The primary-key type.
    type Key: Field + Clone;
    /// The values the application supplies on insert (`New<Model>`): every field
    /// except generated ones (auto keys, timestamps, version).
    type New: Send + Sync;
    /// A partial update (`<Model>Patch`): every updatable field as an `Option`, `None`
    /// meaning "leave unchanged".
    type Patch: Send + Sync + Default;

    /// This row's primary key.
    fn key(&self) -> &Self::Key;

    /// This row's version, for models with a `#[field(version)]` field.
    fn version(&self) -> Option<i64>;

    /// Inserts a row and returns it as stored (with its key, timestamps and version).
    ///
    /// # Errors
    ///
    /// A typed constraint error ([`Error::UniqueViolation`](crate::Error::UniqueViolation),
    /// [`Error::ForeignKeyViolation`](crate::Error::ForeignKeyViolation), ...) or
    /// [`Error::Database`](crate::Error::Database).
    fn insert<'c>(
        conn: impl Into<Conn<'c>> + Send,
        new: Self::New,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::insert(conn.into(), new)
    }

    /// Inserts many rows in one transaction (in batches), returning them as stored,
    /// in order. Either all are inserted or none.
    ///
    /// # Errors
    ///
    /// As [`Model::insert`], for the first row that fails.
    fn insert_many<'c>(
        conn: impl Into<Conn<'c>> + Send,
        rows: Vec<Self::New>,
    ) -> impl Future<Output = Result<Vec<Self>>> + Send {
        write::insert_many(conn.into(), rows)
    }

    /// Inserts a row, or, when it conflicts with an existing row on the unique
    /// key `on`, updates that row's other fields (bumping its version). Returns the
    /// row as stored.
    ///
    /// # Errors
    ///
    /// As [`Model::insert`].
    fn upsert<'c>(
        conn: impl Into<Conn<'c>> + Send,
        new: Self::New,
        on: impl Into<ConflictTarget<Self>> + Send,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::upsert(conn.into(), new, on.into())
    }

    /// The row with primary key `key`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) when there is none.
    fn get<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::get::<Self>(conn.into(), key)
    }

    /// The row with primary key `key`, or `None`.
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    fn find<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
    ) -> impl Future<Output = Result<Option<Self>>> + Send {
        write::find::<Self>(conn.into(), key)
    }

    /// Writes every updatable field of `self` and returns the row as stored.
    ///
    /// For a versioned model this is an optimistic update: it succeeds only if the
    /// stored version is still `self`'s, and the version is bumped.
    ///
    /// # Errors
    ///
    /// [`Error::StaleVersion`](crate::Error::StaleVersion) when someone else updated the
    /// row first, [`Error::NotFound`](crate::Error::NotFound) when it was deleted, or a
    /// typed constraint error.
    fn update<'c>(
        &self,
        conn: impl Into<Conn<'c>> + Send,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::update(conn.into(), self)
    }

    /// Updates only the fields set in `patch` on the row with key `key`, bumping its
    /// version, and returns the row as stored.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) or a typed constraint error.
    fn patch<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
        patch: Self::Patch,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::patch(conn.into(), key, None, patch)
    }

    /// As [`Model::patch`], but only if the row's version is still `expected_version`
    /// (for `If-Match`).
    ///
    /// # Errors
    ///
    /// [`Error::StaleVersion`](crate::Error::StaleVersion) when the version moved on,
    /// otherwise as [`Model::patch`].
    fn patch_if_version<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
        expected_version: i64,
        patch: Self::Patch,
    ) -> impl Future<Output = Result<Self>> + Send {
        write::patch(conn.into(), key, Some(expected_version), patch)
    }

    /// Deletes the row with key `key`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`](crate::Error::NotFound) when there is none, or
    /// [`Error::ForeignKeyViolation`](crate::Error::ForeignKeyViolation) when other rows
    /// still reference it with `on_delete = "restrict"`.
    fn delete<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
    ) -> impl Future<Output = Result<()>> + Send {
        write::delete::<Self>(conn.into(), key)
    }

    /// Every recorded change of the row with key `key`, oldest first (empty for a
    /// model without `#[fw::model(changelog)]`).
    ///
    /// # Errors
    ///
    /// [`Error::Database`](crate::Error::Database) when the query fails.
    fn history<'c>(
        conn: impl Into<Conn<'c>> + Send,
        key: Self::Key,
    ) -> impl Future<Output = Result<Vec<crate::changes::Change>>> + Send {
        crate::changes::history::<Self>(conn.into(), key)
    }

    /// A query over this model's table; see [`Query`].
    fn query() -> Query<Self> {
        Query::new()
    }
}

/// What `#[model]` generates for the runtime's use: the statements, and how rows
/// are decoded and values bound. A supertrait of [`Model`] so that `Model`'s
/// documentation is the query API alone; applications never call these.
///
/// The methods that take a model's `New` or `Patch` name them through [`Model`],
/// which every implementor also implements.
#[doc(hidden)]
pub trait ModelCodegen: Sized {
    /// The primary-key column, for foreign keys that reference this model.
    const PRIMARY_KEY_COLUMN: &'static str;
    /// Whether the model has sealed (`#[field(sensitive)]`) fields: only then do
    /// its reads and writes need the keys.
    const SEALED: bool = false;

    /// Passes the text of every sealed field that has a value to `open`, which
    /// replaces it with what it opens to.
    fn open_sealed(
        &mut self,
        _open: &mut dyn FnMut(&'static FieldSchema, &mut String) -> Result<()>,
    ) -> Result<()> {
        Ok(())
    }

    /// The generated SQL for fixed operations, for `dialect`.
    fn sql(dialect: Dialect) -> &'static ModelSql;

    /// Decodes a row selected with [`ModelSql::select`].
    fn decode(row: &Row<'_>) -> Result<Self>;

    /// Binds the parameters of [`ModelSql::insert`], generated values included.
    fn bind_new(new: &<Self as Model>::New, args: &mut Arguments, now: DateTime<Utc>) -> Result<()>
    where
        Self: Model;

    /// Binds the parameters of [`ModelSql::update`]: every updatable field, the
    /// time once per `auto_now` field, the key, and for a versioned model the
    /// version this copy was read at.
    fn bind_update(&self, args: &mut Arguments, now: DateTime<Utc>) -> Result<()>;

    /// The fields a patch sets, with their new values.
    fn patch_values(patch: &<Self as Model>::Patch) -> Vec<(&'static FieldSchema, Value)>
    where
        Self: Model;

    /// Every field's value, in schema order.
    fn values(&self) -> Vec<Value>;

    /// The supplied fields of an insert, with their values.
    fn new_values(new: &<Self as Model>::New) -> Vec<(&'static FieldSchema, Value)>
    where
        Self: Model;

    /// A `New` whose every field is read from what `value_of` gives for it, in
    /// JSON (the API's form, which every field type reads through serde rather
    /// than through a conversion of its own): how `fw::testing::factory` builds
    /// rows of any model.
    fn new_from_json(
        value_of: &mut dyn FnMut(&'static FieldSchema) -> serde_json::Value,
    ) -> Result<<Self as Model>::New>
    where
        Self: Model;

    /// Shows `visitor` every `Ref<M>` field with its model `M`, so generic code
    /// can act on the referenced model's type (a factory creates its row).
    fn visit_references<V: VisitReferences>(_visitor: &mut V) {}
}

/// What [`ModelCodegen::visit_references`] shows each reference field to.
#[doc(hidden)]
pub trait VisitReferences {
    /// `field` holds the key of a row of `M`.
    fn reference<M: Model>(&mut self, field: &'static FieldSchema);
}

/// A field's value read from its JSON form, for [`ModelCodegen::new_from_json`].
///
/// # Errors
///
/// [`Error::Decode`](crate::Error::Decode) naming the field when `json` is not
/// a value of `T`.
#[doc(hidden)]
pub fn field_from_json<T: serde::de::DeserializeOwned>(
    field: &'static FieldSchema,
    json: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(json).map_err(|error| crate::error::Error::Decode {
        column: field.name.to_owned(),
        reason: error.to_string(),
    })
}

/// The SQL of a model's fixed operations for one dialect, rendered at compile time
/// by `#[model]` with `fw_core::statement::Table::statements`, whose documentation
/// gives each statement's shape and parameters.
///
/// Placeholders are `?N` on SQLite and `$N` on PostgreSQL; identifiers are quoted.
/// Statements that depend on a call (a patch, an upsert) are rendered at run time
/// by the same functions; none is ever taken apart.
#[derive(Debug)]
#[doc(hidden)]
pub struct ModelSql {
    /// `SELECT <every column> FROM "table"`.
    pub select: &'static str,
    /// `<select> WHERE "pk" = ?1`.
    pub get: &'static str,
    /// The insert: one parameter per column but database-assigned keys.
    pub insert: &'static str,
    /// The update of every supplied column (see [`ModelCodegen::bind_update`]).
    pub update: &'static str,
    /// `DELETE FROM "table" WHERE "pk" = ?1`.
    pub delete: &'static str,
}

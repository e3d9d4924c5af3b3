//! Static schema metadata, emitted by `#[model]` as constants.
//!
//! These tables are the single description of a model that everything else reads:
//! the query layer renders SQL from them, the migration autodetector diffs them
//! against the replayed migration history, and the REST layer derives validation
//! and OpenAPI from them. They are plain `const` data: nothing is discovered at run
//! time.

pub use crate::constraint::{Constraint, Constraints};

/// The portable column type of a field, rendered per dialect when SQL is generated.
///
/// Each Rust type that can be stored implements `fw::Field` and names its
/// column type through `fw::Field::SQL_TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// 16-bit signed integer (`i16`).
    SmallInt,
    /// 32-bit signed integer (`i32`).
    Int,
    /// 64-bit signed integer (`i64`).
    BigInt,
    /// Boolean (`bool`).
    Bool,
    /// Text (`String`).
    Text,
    /// Exact decimal (`rust_decimal::Decimal`) with the field's precision and scale.
    Decimal,
    /// Calendar date without time zone (`chrono::NaiveDate`).
    Date,
    /// Instant in UTC (`chrono::DateTime<Utc>`).
    Timestamp,
    /// UUID (`uuid::Uuid`).
    Uuid,
    /// JSON document (`fw::Json<T>`).
    Json,
}

impl SqlType {
    /// Whether values of this type are integers (auto-increment keys, numeric ranges).
    pub const fn is_integer(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Int | SqlType::BigInt)
    }

    /// The lowercase name used in migration files and error messages.
    pub const fn name(self) -> &'static str {
        match self {
            SqlType::SmallInt => "smallint",
            SqlType::Int => "int",
            SqlType::BigInt => "bigint",
            SqlType::Bool => "bool",
            SqlType::Text => "text",
            SqlType::Decimal => "decimal",
            SqlType::Date => "date",
            SqlType::Timestamp => "timestamp",
            SqlType::Uuid => "uuid",
            SqlType::Json => "json",
        }
    }
}

/// What the database does to rows that reference a deleted row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OnDelete {
    /// Refuse to delete a referenced row (the default).
    Restrict,
    /// Delete the referencing rows too.
    Cascade,
    /// Set the reference to NULL (the field must be an `Option`).
    SetNull,
}

impl OnDelete {
    /// Every action, the default first.
    pub const ALL: [OnDelete; 3] = [OnDelete::Restrict, OnDelete::Cascade, OnDelete::SetNull];

    /// The action spelled `name` ([`OnDelete::name`]), if any.
    pub fn from_name(name: &str) -> Option<OnDelete> {
        OnDelete::ALL
            .into_iter()
            .find(|action| action.name() == name)
    }

    /// The spelling used in `#[field(on_delete = "...")]` and migration files.
    pub const fn name(self) -> &'static str {
        match self {
            OnDelete::Restrict => "restrict",
            OnDelete::Cascade => "cascade",
            OnDelete::SetNull => "set_null",
        }
    }
}

/// A foreign key from a field to another model's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignKeySchema {
    /// Table of the referenced model.
    pub table: &'static str,
    /// Primary-key column of the referenced model.
    pub column: &'static str,
    /// Action when the referenced row is deleted.
    pub on_delete: OnDelete,
}

/// How a field gets its value when the application does not supply one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// Supplied by the application on insert and update.
    No,
    /// Integer primary key assigned by the database.
    AutoIncrement,
    /// UUID primary key assigned by fw on insert (time-ordered, version 7).
    AutoUuid,
    /// Set to the current time on insert (`#[field(auto_now_add)]`).
    CreatedAt,
    /// Set to the current time on insert and on every update (`#[field(auto_now)]`).
    UpdatedAt,
    /// Row version: 1 on insert, incremented by every update (`#[field(version)]`).
    Version,
}

impl Generated {
    /// Where an inserted row's value of this column comes from.
    pub const fn on_insert(self) -> OnInsert {
        match self {
            Generated::No => OnInsert::Supplied,
            Generated::AutoIncrement => OnInsert::Database,
            Generated::AutoUuid => OnInsert::NewUuid,
            Generated::CreatedAt | Generated::UpdatedAt => OnInsert::Now,
            Generated::Version => OnInsert::FirstVersion,
        }
    }

    /// What an update writes to this column (a primary key is never updated,
    /// whatever this says).
    pub const fn on_update(self) -> OnUpdate {
        match self {
            Generated::No => OnUpdate::Supplied,
            Generated::AutoIncrement | Generated::AutoUuid | Generated::CreatedAt => {
                OnUpdate::Unchanged
            }
            Generated::UpdatedAt => OnUpdate::Now,
            Generated::Version => OnUpdate::Increment,
        }
    }
}

/// Where an inserted row's value of a column comes from ([`Generated::on_insert`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnInsert {
    /// The application's value (`New<Model>`'s field).
    Supplied,
    /// The database assigns it; the insert leaves the column out.
    Database,
    /// A new time-ordered (version 7) UUID made by fw.
    NewUuid,
    /// The time of the write.
    Now,
    /// The first row version, 1.
    FirstVersion,
}

impl OnInsert {
    /// The first version of every row.
    pub const FIRST_VERSION: i64 = 1;
}

/// What an update writes to a column ([`Generated::on_update`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUpdate {
    /// The application's value.
    Supplied,
    /// Nothing: the column keeps the value it was inserted with.
    Unchanged,
    /// The time of the write.
    Now,
    /// The stored value plus one (the row version).
    Increment,
}

/// A column default, as written in `#[field(default = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// An integer literal.
    Int(i64),
    /// A boolean literal.
    Bool(bool),
    /// A string literal (also used for decimals, dates and choices, in their text form).
    Text(&'static str),
}

/// One field of a model: a column plus the constraints declared on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSchema {
    /// Rust field name (also the name used in queries and APIs).
    pub name: &'static str,
    /// Column name in the database.
    pub column: &'static str,
    /// The previous column name, when the field was renamed (`renamed_from`).
    pub renamed_from: Option<&'static str>,
    /// Portable column type.
    pub sql_type: SqlType,
    /// Whether the column accepts NULL (the field is an `Option<T>`).
    pub nullable: bool,
    /// Whether this field is the primary key.
    pub primary_key: bool,
    /// How the value is produced when the application does not supply it.
    pub generated: Generated,
    /// Single-column unique constraint.
    pub unique: bool,
    /// Single-column (non-unique) index.
    pub index: bool,
    /// Column default.
    pub default: Option<DefaultValue>,
    /// What the field's values must be (lengths, bounds, digits, a pattern, the
    /// choices of its type), in the order of [`Constraint`]'s variants.
    pub constraints: &'static [Constraint],
    /// The referenced model, for `Ref<M>` fields.
    pub foreign_key: Option<ForeignKeySchema>,
    /// Whether the field holds personal data or a secret, and so how it is
    /// stored and where it may show.
    pub sensitivity: Sensitivity,
}

/// What a field holds that must not leak (`#[field(sensitive)]`,
/// `#[field(redacted)]`), and so how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitivity {
    /// Ordinary data.
    Plain,
    /// A secret that is not personal data, a password's or a token's hash:
    /// stored as it is, never in `Debug`, logs, error messages, the change
    /// log's values or responses.
    Redacted,
    /// Personal data: sealed before it reaches the database, hidden as
    /// [`Sensitivity::Redacted`] is, served only with a permission.
    Sealed {
        /// Whether a keyed digest is stored next to it, in
        /// [`FieldSchema::digest_column`], for equality lookups and `unique`.
        searchable: bool,
    },
}

impl Sensitivity {
    /// Whether values of the field never show in `Debug`, logs, errors or the
    /// change log.
    pub const fn is_hidden(self) -> bool {
        !matches!(self, Sensitivity::Plain)
    }

    /// Whether values are sealed in the database.
    pub const fn is_sealed(self) -> bool {
        matches!(self, Sensitivity::Sealed { .. })
    }

    /// Whether a keyed digest is stored for equality lookups.
    pub const fn is_searchable(self) -> bool {
        matches!(self, Sensitivity::Sealed { searchable: true })
    }
}

impl FieldSchema {
    /// A column named `name` of `sql_type`, with no key, default or constraint:
    /// what the framework's own tables build their fields from, adding the rest
    /// with struct update syntax.
    #[doc(hidden)]
    pub const fn plain(name: &'static str, sql_type: SqlType, nullable: bool) -> FieldSchema {
        FieldSchema {
            name,
            column: name,
            renamed_from: None,
            sql_type,
            nullable,
            primary_key: false,
            generated: Generated::No,
            unique: false,
            index: false,
            default: None,
            constraints: &[],
            foreign_key: None,
            sensitivity: Sensitivity::Plain,
        }
    }

    /// The column holding a searchable sealed field's keyed digest: the
    /// field's column with `_digest` appended.
    pub fn digest_column(&self) -> Option<String> {
        self.sensitivity
            .is_searchable()
            .then(|| digest_column_name(self.column))
    }

    /// Whether the application supplies this field on insert.
    pub const fn is_insertable(&self) -> bool {
        matches!(self.generated.on_insert(), OnInsert::Supplied)
    }

    /// Whether the application may change this field on update.
    pub const fn is_updatable(&self) -> bool {
        self.statement_column().is_supplied_on_update()
    }
}

/// A named index over one or more columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSchema {
    /// Index name, unique within the database.
    pub name: &'static str,
    /// Indexed columns, in order.
    pub columns: &'static [&'static str],
    /// Whether the index enforces uniqueness.
    pub unique: bool,
}

/// The whole static description of a model, emitted by `#[model]` as
/// `fw::Model::SCHEMA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelSchema {
    /// Rust type name of the model.
    pub name: &'static str,
    /// Table name (snake_case of the type name unless overridden with `table = "..."`).
    pub table: &'static str,
    /// The previous table name, when the model was renamed (`renamed_from`).
    pub renamed_from: Option<&'static str>,
    /// Fields in declaration order; row decoding and `SELECT` lists use this order.
    pub fields: &'static [FieldSchema],
    /// Multi-column indexes and unique constraints (`#[model(unique(...), index(...))]`).
    /// Single-column ones are declared on the field.
    pub indexes: &'static [IndexSchema],
}

impl ModelSchema {
    /// The primary-key field. `#[model]` guarantees there is exactly one.
    pub fn primary_key(&self) -> &'static FieldSchema {
        self.fields
            .iter()
            .find(|field| field.primary_key)
            .unwrap_or(&self.fields[0])
    }

    /// The field with this Rust name, if any.
    pub fn field(&self, name: &str) -> Option<&'static FieldSchema> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The row-version field (`#[field(version)]`), if the model has one.
    pub fn version_field(&self) -> Option<&'static FieldSchema> {
        self.fields
            .iter()
            .find(|field| field.generated == Generated::Version)
    }
}

/// The name of the unique constraint over `columns` of `table` (PostgreSQL's own
/// default), so violations can be traced back to fields.
pub fn unique_constraint_name(table: &str, columns: &[&str]) -> String {
    format!("{table}_{}_key", columns.join("_"))
}

/// The name of the primary-key constraint of `table` (PostgreSQL's own default).
pub fn primary_key_constraint_name(table: &str) -> String {
    format!("{table}_pkey")
}

/// The name of the foreign-key constraint on `column` of `table`.
pub fn foreign_key_constraint_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_fkey")
}

/// The column of `table` whose foreign-key constraint is named `constraint`
/// ([`foreign_key_constraint_name`] read backwards), if the name is one.
pub fn foreign_key_constraint_column<'a>(table: &str, constraint: &'a str) -> Option<&'a str> {
    constraint
        .strip_prefix(table)?
        .strip_prefix('_')?
        .strip_suffix("_fkey")
}

/// The name of the CHECK constraint on `column` of `table`.
pub fn check_constraint_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_check")
}

/// The name of the column holding the keyed digest of sealed column `column`.
pub fn digest_column_name(column: &str) -> String {
    format!("{column}_digest")
}

/// The name of the (non-unique) index over `columns` of `table`.
pub fn index_name(table: &str, columns: &[&str]) -> String {
    format!("{table}_{}_idx", columns.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_are_read_back() {
        let name = foreign_key_constraint_name("dividend", "security_id");
        assert_eq!(name, "dividend_security_id_fkey");
        assert_eq!(
            foreign_key_constraint_column("dividend", &name),
            Some("security_id")
        );
        assert_eq!(
            foreign_key_constraint_column("dividend", "dividend_security_id_key"),
            None
        );
        assert_eq!(
            foreign_key_constraint_column("dividend", "dividends_x_fkey"),
            None
        );
        assert_eq!(primary_key_constraint_name("dividend"), "dividend_pkey");
        assert_eq!(
            unique_constraint_name("dividend", &["security_id", "ex_date"]),
            "dividend_security_id_ex_date_key"
        );
        assert_eq!(
            index_name("dividend", &["pay_date"]),
            "dividend_pay_date_idx"
        );
    }
}

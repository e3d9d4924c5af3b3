//! The error type of the database layer.

use std::fmt;

/// An error from a database operation.
///
/// Constraint violations are classified the same way on SQLite and PostgreSQL, so
/// callers match on variants instead of parsing driver messages. Driver errors stay
/// inside [`Error::Database`] and are reachable through [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No row matched (for example `get` with an unknown primary key).
    #[error("no `{model}` row matched")]
    NotFound {
        /// The model's Rust name.
        model: &'static str,
    },
    /// A unique constraint was violated.
    #[error("`{model}` already has a row with the same {}", fields.join(", "))]
    UniqueViolation {
        /// The model's Rust name.
        model: &'static str,
        /// The fields of the violated constraint.
        fields: Vec<&'static str>,
    },
    /// A foreign key was violated: the referenced row does not exist, or a row still
    /// references the row being deleted.
    #[error("foreign key violation on {relation}")]
    ForeignKeyViolation {
        /// The relation, as `model.field -> table` when known, else the table.
        relation: ForeignKeyRelation,
    },
    /// A CHECK constraint (length, range, choices) was violated.
    #[error("check constraint `{constraint}` failed")]
    CheckViolation {
        /// The constraint's name.
        constraint: String,
    },
    /// A NOT NULL column was given no value.
    #[error("column `{column}` may not be null")]
    NotNullViolation {
        /// The column's name.
        column: String,
    },
    /// An update or delete expected a row version that is no longer current.
    #[error("`{model}` row was changed by someone else (expected version {expected})")]
    StaleVersion {
        /// The model's Rust name.
        model: &'static str,
        /// The version the caller expected.
        expected: i64,
    },
    /// The database URL could not be understood.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password removed.
        url: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A stored value could not be decoded into the field's Rust type.
    #[error("could not decode column `{column}`: {reason}")]
    Decode {
        /// The column's name or index.
        column: String,
        /// Why decoding failed.
        reason: String,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// The relation named by a [`Error::ForeignKeyViolation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKeyRelation {
    /// The referencing table.
    pub table: String,
    /// The referencing column, when the database reports it.
    pub column: Option<String>,
    /// The referenced table, when the database reports it.
    pub references: Option<String>,
}

impl fmt::Display for ForeignKeyRelation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.column, &self.references) {
            (Some(column), Some(references)) => {
                write!(f, "`{}.{}` -> `{references}`", self.table, column)
            }
            (Some(column), None) => write!(f, "`{}.{}`", self.table, column),
            (None, Some(references)) => write!(f, "`{}` -> `{references}`", self.table),
            (None, None) => write!(f, "`{}`", self.table),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Database(error)
    }
}

/// A `Result` whose error is [`fw::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

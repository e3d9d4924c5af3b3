//! The error type of the database layer.

use std::fmt;

use sqlx::error::ErrorKind;

use crate::schema::{
    ModelSchema, foreign_key_constraint_column, primary_key_constraint_name, unique_constraint_name,
};

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
    /// A sensitive field's stored value did not open: tampered with, moved from
    /// another row or column, sealed with a key no longer configured, or
    /// written in clear. Never served as data.
    #[error("the sensitive value in `{table}`.`{column}` cannot be read: {reason}")]
    Unreadable {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// Why it did not open.
        reason: crate::sensitive::OpenError,
    },
    /// A model with sensitive fields was used on a [`Db`](crate::Db) without
    /// keys (see [`Db::with_keyring`](crate::Db::with_keyring)).
    #[error(
        "`{table}` has sensitive fields and this database handle has no keys: \
         set FW_SECRET_KEYS (generate one with the app's `generate-key` command)"
    )]
    NoKeyring {
        /// The table whose fields needed the keys.
        table: &'static str,
    },
    /// The system's random source failed while sealing a sensitive value of
    /// `table`, so nothing was written.
    #[error("a sensitive value of `{table}` could not be sealed: the random source failed")]
    Sealing {
        /// The table written to.
        table: &'static str,
        /// The random source's error.
        #[source]
        source: getrandom::Error,
    },
    /// The database cannot serve the operation now, through no fault of the caller:
    /// it is busy past the wait bound, unreachable, or out of space. The same
    /// operation may succeed later. A statement that failed so had no effect, but a
    /// connection lost during a commit leaves the commit's outcome unknown.
    #[error("the database is unavailable ({cause}): {source}")]
    Unavailable {
        /// Why, which also says when a retry is likely to succeed.
        cause: Unavailable,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

/// Why the database is [unavailable](Error::Unavailable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailable {
    /// No connection, or on SQLite not the write lock, could be had within the wait
    /// bound ([`ConnectOptions::wait_timeout`](crate::ConnectOptions::wait_timeout)):
    /// other work holds them (an import in another process, say), or the server
    /// refuses connections.
    TimedOut,
    /// The database has more work than it accepts (PostgreSQL's connection limit).
    Busy,
    /// The database could not be reached, or the connection to it was lost.
    Unreachable,
    /// The database has no space left for the write.
    Full,
}

impl Unavailable {
    /// How long a client should wait before retrying, in seconds: a busy database
    /// frees up within moments, one that is down or full needs someone to act.
    pub const fn retry_after_secs(self) -> u64 {
        match self {
            Unavailable::Busy | Unavailable::TimedOut => 1,
            Unavailable::Unreachable => 5,
            Unavailable::Full => 30,
        }
    }

    /// Classifies a driver error that means the database cannot serve now, or
    /// `None` for any other error.
    fn of(error: &sqlx::Error) -> Option<Unavailable> {
        match error {
            sqlx::Error::PoolTimedOut => Some(Unavailable::TimedOut),
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Some(Unavailable::Unreachable),
            sqlx::Error::Database(error) => {
                if error
                    .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                    .is_some()
                {
                    // The primary result code is the low byte of the extended one.
                    let code = error.code().and_then(|code| code.parse::<i32>().ok())?;
                    match code & 0xff {
                        SQLITE_BUSY | SQLITE_LOCKED => Some(Unavailable::TimedOut),
                        SQLITE_FULL => Some(Unavailable::Full),
                        _ => None,
                    }
                } else {
                    let code = error.code()?;
                    match code.as_ref() {
                        "53100" => Some(Unavailable::Full),
                        "53300" => Some(Unavailable::Busy),
                        // Connection exceptions, and the server shutting down,
                        // crashed or still starting.
                        code if code.starts_with("08") => Some(Unavailable::Unreachable),
                        "57P01" | "57P02" | "57P03" => Some(Unavailable::Unreachable),
                        _ => None,
                    }
                }
            }
            _ => None,
        }
    }
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unavailable::TimedOut => "timed out waiting",
            Unavailable::Busy => "busy",
            Unavailable::Unreachable => "unreachable",
            Unavailable::Full => "out of space",
        })
    }
}

/// SQLite's primary result codes that mean "not now" (see sqlite.org/rescode.html).
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_FULL: i32 = 13;

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
        match Unavailable::of(&error) {
            Some(cause) => Error::Unavailable {
                cause,
                source: error,
            },
            None => Error::Database(error),
        }
    }
}

/// A `Result` whose error is [`fw::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a driver error into a typed constraint error for the table `schema`
/// describes, the same on both databases: PostgreSQL names the constraint (fw
/// names constraints after their table and columns), SQLite names the columns
/// in its message.
pub(crate) fn classify(error: Error, schema: &'static ModelSchema) -> Error {
    let Error::Database(sqlx::Error::Database(database_error)) = &error else {
        return error;
    };
    let message = database_error.message();
    let constraint = database_error.constraint().map(str::to_owned);
    let table = database_error.table().unwrap_or(schema.table).to_owned();
    // SQLite: "UNIQUE constraint failed: security.symbol, security.cusip".
    let sqlite_detail = message
        .split_once(" constraint failed: ")
        .map(|(_, detail)| detail);
    // SQLite reports a refused `ON DELETE RESTRICT` as a trigger failure, not a
    // foreign-key violation; its message is the same as for other foreign keys.
    let kind = match database_error.kind() {
        ErrorKind::Other if message == "FOREIGN KEY constraint failed" => {
            ErrorKind::ForeignKeyViolation
        }
        kind => kind,
    };
    match kind {
        ErrorKind::UniqueViolation => Error::UniqueViolation {
            model: schema.name,
            fields: unique_fields(schema, constraint.as_deref(), sqlite_detail),
        },
        ErrorKind::ForeignKeyViolation => {
            let column = constraint
                .as_deref()
                .and_then(|name| foreign_key_constraint_column(&table, name))
                .map(str::to_owned);
            let references = if table == schema.table {
                column.as_deref().and_then(|column| {
                    schema
                        .fields
                        .iter()
                        .find(|field| field.column == column)
                        .and_then(|field| field.foreign_key)
                        .map(|foreign_key| foreign_key.table.to_owned())
                })
            } else {
                Some(schema.table.to_owned())
            };
            Error::ForeignKeyViolation {
                relation: ForeignKeyRelation {
                    table,
                    column,
                    references,
                },
            }
        }
        ErrorKind::CheckViolation => Error::CheckViolation {
            constraint: constraint
                .or_else(|| sqlite_detail.map(str::to_owned))
                .unwrap_or_default(),
        },
        ErrorKind::NotNullViolation => Error::NotNullViolation {
            column: sqlite_detail
                .and_then(|detail| detail.rsplit('.').next())
                .map(str::to_owned)
                .or_else(|| postgres_column(database_error.as_ref()))
                .unwrap_or_default(),
        },
        _ => error,
    }
}

fn postgres_column(error: &dyn sqlx::error::DatabaseError) -> Option<String> {
    error
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|error| error.column())
        .map(str::to_owned)
}

fn unique_fields(
    schema: &'static ModelSchema,
    constraint: Option<&str>,
    sqlite_detail: Option<&str>,
) -> Vec<&'static str> {
    let field_of_column = |column: &str| {
        schema
            .fields
            .iter()
            .find(|field| field.column == column)
            .map(|field| field.name)
    };
    if let Some(detail) = sqlite_detail {
        return detail
            .split(", ")
            .filter_map(|qualified| qualified.rsplit('.').next())
            .filter_map(field_of_column)
            .collect();
    }
    let Some(constraint) = constraint else {
        return Vec::new();
    };
    if constraint == primary_key_constraint_name(schema.table) {
        return vec![schema.primary_key().name];
    }
    for field in schema.fields {
        if field.unique && constraint == unique_constraint_name(schema.table, &[field.column]) {
            return vec![field.name];
        }
    }
    for index in schema.indexes {
        if index.unique && index.name == constraint {
            return index
                .columns
                .iter()
                .filter_map(|c| field_of_column(c))
                .collect();
        }
    }
    Vec::new()
}

//! Identity on SQLite: every case in `auth/cases.rs`.

#[path = "auth/cases.rs"]
mod cases;

/// The database every case in `auth/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

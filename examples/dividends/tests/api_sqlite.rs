//! The dividends API on SQLite: every case in `api/cases.rs`.

#[path = "api/cases.rs"]
mod cases;

/// The database every case in `api/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

//! The dividends example's change log on SQLite: every case in `changes/cases.rs`.

#[path = "changes/cases.rs"]
mod cases;

/// The database every case in `changes/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

//! The access log and the metrics on SQLite: every case in `observe/cases.rs`.

#[path = "observe/cases.rs"]
mod cases;

/// The database every case in `observe/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

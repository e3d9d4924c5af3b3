//! The perimeter on SQLite: every case in `perimeter/cases.rs`.

#[path = "perimeter/cases.rs"]
mod cases;

/// The database every case in `perimeter/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

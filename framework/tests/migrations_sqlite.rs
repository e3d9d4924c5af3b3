//! Migrations applied to SQLite (the cases are in `migrations/cases.rs`).

#[path = "migrations/models.rs"]
mod models;

#[path = "migrations/cases.rs"]
mod cases;

/// The database every case in `migrations/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

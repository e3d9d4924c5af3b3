//! Factories on PostgreSQL: every case in `factories/cases.rs`.

#[path = "factories/cases.rs"]
mod cases;

/// The database every case in `factories/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

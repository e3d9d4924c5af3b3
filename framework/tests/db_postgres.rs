//! The typed query API on PostgreSQL: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

/// The database every case in `db/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

//! API versions on PostgreSQL: every case in `versions/cases.rs`.

#[path = "versions/cases.rs"]
mod cases;

/// The database every case in `versions/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

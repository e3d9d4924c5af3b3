//! The change log on PostgreSQL: every case in `changes/cases.rs`.

#[path = "changes/cases.rs"]
mod cases;
#[path = "changes/http.rs"]
mod http;
#[path = "changes/models.rs"]
mod models;

/// The database every case in `changes/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

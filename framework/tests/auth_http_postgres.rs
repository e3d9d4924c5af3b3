//! The identity endpoints on PostgreSQL: every case in `auth_http/cases.rs`.

#[path = "auth_http/cases.rs"]
mod cases;

/// The database every case in `auth_http/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

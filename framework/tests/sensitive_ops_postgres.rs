//! Key rotation and erasure on PostgreSQL: every case in `sensitive_ops/cases.rs`.

#[path = "sensitive_ops/cases.rs"]
mod cases;

/// The database every case in `sensitive_ops/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

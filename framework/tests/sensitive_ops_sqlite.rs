//! Key rotation and erasure on SQLite: every case in `sensitive_ops/cases.rs`.

#[path = "sensitive_ops/cases.rs"]
mod cases;
#[path = "sensitive_ops/commands.rs"]
mod commands;

/// The database every case in `sensitive_ops/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

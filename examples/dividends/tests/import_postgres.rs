//! The daily-file import on PostgreSQL: every case in `import/cases.rs`.

#[path = "import/cases.rs"]
mod cases;

/// The database every case in `import/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

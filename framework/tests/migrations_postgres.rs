//! Migrations applied to PostgreSQL (the cases are in `migrations/cases.rs`).
//!
//! These tests need a server (see `fw::testing::TestDb::postgres`); they fail, never
//! skip, without one.

#[path = "migrations/models.rs"]
mod models;

#[path = "migrations/cases.rs"]
mod cases;

#[path = "migrations/postgres_cases.rs"]
mod postgres_cases;

/// The database every case in `migrations/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

//! Migrations applied to PostgreSQL (the cases are in `migrations/cases.rs`).
//!
//! These tests need a server (see `fw::testing::TestDb::postgres`); they fail, never
//! skip, without one.

#[path = "migrations/models.rs"]
mod models;

#[path = "migrations/cases.rs"]
mod cases;

cases::database_cases!(fw::testing::TestDb::postgres);

//! Migrations applied to SQLite (the cases are in `migrations/cases.rs`).

#[path = "migrations/models.rs"]
mod models;

#[path = "migrations/cases.rs"]
mod cases;

cases::database_cases!(fw::testing::TestDb::sqlite);

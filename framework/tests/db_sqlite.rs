//! The typed query API on SQLite: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

cases::backend_suite!(fw::testing::TestDb::sqlite);

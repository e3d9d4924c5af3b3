//! The typed query API on PostgreSQL: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

cases::backend_suite!(fw::testing::TestDb::postgres);

//! The REST layer over HTTP on PostgreSQL: every case in `rest/cases.rs`.

#[path = "rest/cases.rs"]
mod cases;
#[path = "rest/models.rs"]
mod models;

cases::rest_suite!(fw::testing::TestDb::postgres);

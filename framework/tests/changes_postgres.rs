//! The change log on PostgreSQL: every case in `changes/cases.rs`.

#[path = "changes/cases.rs"]
mod cases;
#[path = "changes/http.rs"]
mod http;
#[path = "changes/models.rs"]
mod models;

cases::change_log_suite!(fw::testing::TestDb::postgres);

//! The dividends example's change log on PostgreSQL: every case in
//! `changes/cases.rs`.

#[path = "changes/cases.rs"]
mod cases;

cases::change_log_suite!(fw::testing::TestDb::postgres);

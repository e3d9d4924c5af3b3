//! The dividends API on PostgreSQL: every case in `api/cases.rs`.

#[path = "api/cases.rs"]
mod cases;

cases::api_suite!(fw::testing::TestDb::postgres);

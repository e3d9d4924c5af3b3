//! The dividends API on SQLite: every case in `api/cases.rs`.

#[path = "api/cases.rs"]
mod cases;

cases::api_suite!(fw::testing::TestDb::sqlite);

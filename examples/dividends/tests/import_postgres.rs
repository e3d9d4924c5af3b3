//! The daily-file import on PostgreSQL: every case in `import/cases.rs`.

#[path = "import/cases.rs"]
mod cases;

cases::import_suite!(fw::testing::TestDb::postgres, large_file_records = 20_000);

//! The daily-file import on SQLite: every case in `import/cases.rs`.

#[path = "import/cases.rs"]
mod cases;

cases::import_suite!(fw::testing::TestDb::sqlite, large_file_records = 50_000);

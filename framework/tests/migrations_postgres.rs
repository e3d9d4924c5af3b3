//! Migrations applied to PostgreSQL (the cases are in `migrations/cases.rs`).
//!
//! These tests need a server (see `fw::testing::TestDb::postgres`); they fail, never
//! skip, without one.

#[path = "migrations/models.rs"]
mod models;

#[path = "migrations/cases.rs"]
mod cases;

#[path = "migrations/postgres_cases.rs"]
mod postgres_cases;

cases::database_cases!(fw::testing::TestDb::postgres);

/// The PostgreSQL-only cases, each on a database of its own.
macro_rules! postgres_cases {
    ($($case:ident,)*) => {$(
        #[tokio::test]
        async fn $case() {
            postgres_cases::$case(fw::testing::TestDb::postgres().await).await;
        }
    )*};
}

postgres_cases!(
    a_finished_index_an_interrupted_run_left_is_kept,
    an_unfinished_index_an_interrupted_run_left_is_rebuilt,
    an_index_of_the_same_name_and_another_definition_is_left_alone,
);

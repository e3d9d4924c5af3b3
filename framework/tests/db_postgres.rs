//! The typed query API on Postgres: every case in `db/cases.rs`.

#[path = "db/cases.rs"]
mod cases;
#[path = "db/models.rs"]
mod models;

/// A fresh postgres database with the test models' tables.
async fn database() -> fw::testing::TestDb {
    let test_db = fw::testing::TestDb::postgres().await;
    fw::testing::create_tables(test_db.db(), &models::all())
        .await
        .expect("create the test tables");
    test_db
}

macro_rules! cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let test_db = database().await;
            cases::$case(test_db.db()).await;
        }
    )*};
}

cases!(
    insert_returns_the_stored_row,
    get_of_a_missing_key_is_not_found,
    update_bumps_the_version_and_refuses_a_stale_copy,
    patch_changes_only_the_given_fields,
    patch_can_set_a_nullable_field_to_null,
    delete_removes_the_row,
    unique_violations_name_their_fields,
    foreign_key_violations_name_the_relation,
    deletes_cascade_and_set_null,
    check_constraints_are_typed_errors,
    every_field_type_round_trips,
    sensitive_fields_never_appear_in_debug_output,
    typed_filters_match_like_sql,
    ordering_and_limit,
    keyset_pages_walk_forward_and_back,
    upsert_inserts_updates_and_leaves_unchanged_rows_alone,
    insert_many_is_all_or_nothing,
    transactions_commit_or_roll_back,
    concurrent_writers_never_fail,
);

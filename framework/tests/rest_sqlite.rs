//! The REST layer over HTTP on Sqlite: every case in `rest/cases.rs`.

#[path = "rest/cases.rs"]
mod cases;
#[path = "rest/models.rs"]
mod models;

/// A fresh sqlite database with the test models' tables, and the API over it.
async fn app() -> (fw::testing::TestDb, axum::Router) {
    let test_db = fw::testing::TestDb::sqlite().await;
    fw::testing::create_tables(test_db.db(), &models::all())
        .await
        .expect("create the test tables");
    let config = fw::Config {
        database_url: test_db.url(),
        listen: ([127, 0, 0, 1], 0).into(),
        log_filter: "warn".to_owned(),
        json_logs: false,
    };
    let context = fw::AppContext {
        db: test_db.db().clone(),
        config: std::sync::Arc::new(config),
    };
    let router = models::api().into_router(context);
    (test_db, router)
}

macro_rules! cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let (test_db, router) = app().await;
            cases::$case(router, test_db.db().clone()).await;
        }
    )*};
}

cases!(
    create_answers_201_with_location_and_etag,
    retrieve_sends_etag_and_honours_if_none_match,
    list_pages_forward_and_back,
    every_lookup_filters,
    bad_query_parameters_are_400_naming_them,
    the_nul_character_is_refused_not_a_500,
    put_and_patch_update,
    if_match_refuses_stale_writes,
    delete_answers_204_404_and_409,
    invalid_fields_are_422_with_pointers,
    conflicts_and_dangling_references,
    malformed_requests_are_4xx_problems,
    scope_restricts_every_query,
    hooks_run_in_the_write_transaction,
    custom_actions_and_plain_handlers,
    openapi_and_docs_are_served,
    pages_are_stable_under_concurrent_inserts,
);

/// The OpenAPI document is a reviewed artifact: a change to a model or a
/// resource shows up as a snapshot diff. (It does not depend on the database.)
#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("rest_openapi", models::api().openapi_json());
}

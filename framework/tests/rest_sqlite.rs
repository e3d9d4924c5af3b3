//! The REST layer over HTTP on SQLite: every case in `rest/cases.rs`.

#[path = "rest/cases.rs"]
mod cases;
#[path = "rest/models.rs"]
mod models;

cases::rest_suite!(fw::testing::TestDb::sqlite);

/// The OpenAPI document is a reviewed artifact: a change to a model or a
/// resource shows up as a snapshot diff. (It does not depend on the database.)
#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("rest_openapi", models::api().openapi_json());
}

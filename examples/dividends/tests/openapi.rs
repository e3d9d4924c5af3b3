//! The committed `openapi.json` is exactly the API the application serves, so
//! every API change is a reviewed diff; `fw openapi` regenerates it.

#[test]
fn openapi_json_is_committed() {
    fw::openapi::check_committed(&example_dividends::app())
        .unwrap_or_else(|drift| panic!("{drift}"));
}

/// Each resource's routes, OpenAPI paths and schemas, reviewed one resource
/// at a time (`cargo insta review`).
#[test]
fn api_snapshots() {
    fw::assert_api_snapshots!(example_dividends::app());
}

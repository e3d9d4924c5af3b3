//! The committed `openapi.json` is exactly the API the application serves, so
//! every API change is a reviewed diff; `fw openapi` regenerates it.

#[test]
fn openapi_json_is_committed() {
    fw::openapi::check_committed(&example_dividends::app())
        .unwrap_or_else(|drift| panic!("{drift}"));
}

/// Every permission a role grants exists: `serve` would refuse to start.
#[test]
fn the_roles_grant_only_permissions_that_exist() {
    example_dividends::app()
        .check_permissions()
        .unwrap_or_else(|error| panic!("{error:#}"));
}

/// Each resource's routes, OpenAPI paths and schemas, reviewed one resource
/// at a time (`cargo insta review`).
#[test]
fn api_snapshots() {
    fw::assert_api_snapshots!(example_dividends::app());
}

/// utoipa's typed model reads the served document: every path and operation
/// is in it, with the same responses.
#[test]
fn utoipa_reads_the_document() {
    let api = example_dividends::api::api();
    let document = api.openapi().unwrap_or_else(|error| panic!("{error}"));
    let served = api.openapi_json();
    let served_paths = served["paths"].as_object().expect("paths");
    assert_eq!(document.paths.paths.len(), served_paths.len());
    for (path, item) in served_paths {
        let typed = serde_json::to_value(&document.paths.paths[path]).expect("a path item");
        for (method, operation) in item.as_object().expect("a path item") {
            assert_eq!(
                typed[method]["responses"]
                    .as_object()
                    .map(|responses| responses.keys().collect::<Vec<_>>()),
                operation["responses"]
                    .as_object()
                    .map(|responses| responses.keys().collect::<Vec<_>>()),
                "{method} {path}"
            );
        }
    }
}

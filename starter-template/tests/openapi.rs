//! The committed `openapi.json` is exactly what the application serves, so every
//! change to the API shows up in review. After a deliberate change, regenerate it
//! with `FW_UPDATE_OPENAPI=1 cargo test --test openapi` and commit the diff.

use std::path::Path;

#[test]
fn the_committed_openapi_document_matches_the_application() {
    let app = app::app();
    let api = app.api_spec().expect("the application has an API");
    let generated = serde_json::to_string_pretty(&api.openapi_json()).expect("JSON") + "\n";
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("FW_UPDATE_OPENAPI").is_some() {
        std::fs::write(&committed_path, &generated).expect("write openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json differs from the API the application serves; if the change is \
         deliberate, run `FW_UPDATE_OPENAPI=1 cargo test --test openapi`, review the \
         diff and commit it"
    );
}

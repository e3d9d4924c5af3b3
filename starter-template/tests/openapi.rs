//! The committed `openapi.json` is exactly the API the application serves, so
//! every API change is a reviewed diff; `fw openapi` regenerates it.

#[test]
fn openapi_json_is_committed() {
    fw::openapi::check_committed(&app::app()).unwrap_or_else(|drift| panic!("{drift}"));
}

//! The application's REST API: what each model looks like over HTTP, which
//! operations it offers, and how lists filter and sort. The OpenAPI document at
//! `/openapi.json` (committed as `openapi.json`) is generated from these.
//! Declare each resource here with `#[fw::resource]` and add it to the API in
//! `src/lib.rs`. README.md shows one.

//! The application's data: declare each model here with `#[fw::model]` and
//! register it in `src/lib.rs`, then run `fw makemigrations` to write the
//! migration and `fw migrate` to apply it. README.md shows one.

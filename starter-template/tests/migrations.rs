//! The committed migrations match the models: fails when a model changed and
//! `fw makemigrations` was not run (CI runs this with every `cargo test`).

use std::process::ExitCode;

#[tokio::test]
async fn migrations_match_the_models() {
    let code = app::app()
        .run_with(["app", "makemigrations", "--check"])
        .await;
    assert_eq!(
        code,
        ExitCode::SUCCESS,
        "the models changed without a migration: run `fw makemigrations`, review the \
         new file under migrations/, and commit it"
    );
}

//! The committed OpenAPI document: the `openapi` command writes it, `--check`
//! and [`fw::openapi::check_committed`] fail when it drifts, and a breaking
//! change is only written when acknowledged, with a record for reviewers.

#[allow(dead_code)]
#[path = "rest/models.rs"]
mod models;

use std::path::Path;
use std::process::ExitCode;

use serde_json::Value as Json;

fn app(dir: &Path) -> fw::App {
    fw::App::new("openapi_test", dir).api(models::api())
}

async fn run(dir: &Path, args: &[&str]) -> ExitCode {
    let mut line = vec!["openapi_test"];
    line.extend_from_slice(args);
    app(dir).run_with(line).await
}

fn edit_committed(dir: &Path, edit: impl FnOnce(&mut Json)) {
    let path = dir.join("openapi.json");
    let mut document: Json =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    edit(&mut document);
    std::fs::write(&path, fw::openapi::render(&document)).expect("write");
}

#[tokio::test]
async fn write_check_and_acknowledge_a_breaking_change() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();

    let missing = fw::openapi::check_committed(&app(dir)).expect_err("nothing is committed yet");
    assert!(
        missing
            .to_string()
            .contains("does not exist; run `fw openapi`"),
        "{missing}"
    );
    assert_eq!(run(dir, &["openapi", "--check"]).await, ExitCode::FAILURE);

    assert_eq!(run(dir, &["openapi"]).await, ExitCode::SUCCESS);
    let written = std::fs::read_to_string(dir.join("openapi.json")).expect("written");
    assert!(written.ends_with("}\n"));
    assert_eq!(written, fw::openapi::render(&models::api().openapi_json()));
    fw::openapi::check_committed(&app(dir)).expect("the written document matches");
    assert_eq!(run(dir, &["openapi", "--check"]).await, ExitCode::SUCCESS);
    assert!(
        !dir.join("openapi-changes.md").exists(),
        "a first write records no changes"
    );

    // The committed document promised a path the application no longer serves:
    // that breaks clients, so it is refused until acknowledged.
    edit_committed(dir, |document| {
        document["paths"]["/legacy"] = serde_json::json!({"get": {"responses": {}}});
    });
    let drift = fw::openapi::check_committed(&app(dir)).expect_err("the document drifted");
    assert!(drift.is_breaking());
    let text = drift.to_string();
    assert!(text.contains("/legacy: path removed (GET)"), "{text}");
    assert!(
        text.contains("-    \"/legacy\": {"),
        "the text diff: {text}"
    );
    assert!(text.contains("--accept-breaking"), "{text}");
    assert_eq!(run(dir, &["openapi", "--check"]).await, ExitCode::FAILURE);
    assert_eq!(run(dir, &["openapi"]).await, ExitCode::FAILURE);
    assert!(
        fw::openapi::check_committed(&app(dir)).is_err(),
        "nothing was written"
    );

    let reason = "no client calls /legacy (30 days of access logs)";
    assert_eq!(
        run(dir, &["openapi", "--accept-breaking", reason]).await,
        ExitCode::SUCCESS
    );
    fw::openapi::check_committed(&app(dir)).expect("accepted");
    let record = std::fs::read_to_string(dir.join("openapi-changes.md")).expect("recorded");
    assert!(record.starts_with("# API changes\n"), "{record}");
    assert!(record.contains(": BREAKING\n"), "{record}");
    assert!(
        record.contains(&format!("Accepted because: {reason}")),
        "{record}"
    );
    assert!(record.contains("- /legacy: path removed (GET)"), "{record}");

    // A compatible change (the committed document lacks an operation the
    // application serves) is written without acknowledgement, and recorded.
    edit_committed(dir, |document| {
        document["paths"]
            .as_object_mut()
            .expect("paths")
            .remove("/notes/{id}");
    });
    let drift = fw::openapi::check_committed(&app(dir)).expect_err("drifted");
    assert!(!drift.is_breaking(), "{drift}");
    assert_eq!(run(dir, &["openapi"]).await, ExitCode::SUCCESS);
    fw::openapi::check_committed(&app(dir)).expect("written");
    let record = std::fs::read_to_string(dir.join("openapi-changes.md")).expect("recorded");
    let compatible = record
        .find("/notes/{id}: path added")
        .expect("the new entry");
    let breaking = record.find("/legacy").expect("the old entry");
    assert!(compatible < breaking, "newest entry first: {record}");
}

#[tokio::test]
async fn check_and_accept_breaking_are_exclusive() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    assert_eq!(
        run(
            dir.path(),
            &["openapi", "--check", "--accept-breaking", "x"]
        )
        .await,
        ExitCode::from(2)
    );
}

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
    run_app(app(dir), args).await
}

/// Runs `app` with the command line `args`.
async fn run_app(app: fw::App, args: &[&str]) -> ExitCode {
    let mut line = vec!["openapi_test"];
    line.extend_from_slice(args);
    app.run_with(line).await
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

/// A model and a resource over all its fields, as released.
mod released {
    #[derive(Clone, PartialEq)]
    #[fw::model]
    pub(crate) struct Memo {
        pub(crate) id: i64,
        #[field(max_length = 100)]
        pub(crate) text: String,
        #[field(version)]
        pub(crate) version: i64,
    }

    /// A memo.
    #[fw::resource(
        model = Memo,
        path = "/memos",
        fields = all,
        actions(retrieve, create, update, partial_update),
        permissions(model)
    )]
    pub(crate) struct MemoResource;
}

/// The same, with a nullable field and one with a default added to the model.
mod grown {
    #[derive(Clone, PartialEq)]
    #[fw::model]
    pub(crate) struct Memo {
        pub(crate) id: i64,
        #[field(max_length = 100)]
        pub(crate) text: String,
        #[field(max_length = 100)]
        pub(crate) note: Option<String>,
        #[field(default = false)]
        pub(crate) pinned: bool,
        #[field(version)]
        pub(crate) version: i64,
    }

    /// A memo.
    #[fw::resource(
        model = Memo,
        path = "/memos",
        fields = all,
        actions(retrieve, create, update, partial_update),
        permissions(model)
    )]
    pub(crate) struct MemoResource;
}

/// Adding a nullable field, or one with a default, to a model whose resource
/// offers PUT is a compatible change: such a field may be left out of a PUT
/// (and keeps its value), so no request an old client sends is refused.
#[tokio::test]
async fn adding_a_nullable_or_defaulted_field_is_compatible() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let app = |api: fw::Api| fw::App::new("openapi_test", dir).api(api);
    let released = || app(fw::Api::new("Memos", "1.0.0").resource::<released::MemoResource>());
    let grown = || app(fw::Api::new("Memos", "1.0.0").resource::<grown::MemoResource>());
    assert_eq!(run_app(released(), &["openapi"]).await, ExitCode::SUCCESS);

    let drift = fw::openapi::check_committed(&grown()).expect_err("the document changed");
    assert!(!drift.is_breaking(), "{drift}");
    let changes: Vec<String> = drift.changes().iter().map(ToString::to_string).collect();
    for field in ["note", "pinned"] {
        assert!(
            changes
                .iter()
                .any(|change| change.starts_with("PUT /memos/{id}") && change.contains(field)),
            "{changes:#?}"
        );
    }
    assert_eq!(
        run_app(grown(), &["openapi", "--check"]).await,
        ExitCode::FAILURE
    );
    assert_eq!(
        run_app(grown(), &["openapi"]).await,
        ExitCode::SUCCESS,
        "written without `--accept-breaking`"
    );
}

/// The memo once more, its `text` renamed `body` (a breaking change).
mod renamed {
    #[derive(Clone, PartialEq)]
    #[fw::model]
    pub(crate) struct Memo {
        pub(crate) id: i64,
        #[field(max_length = 100)]
        pub(crate) body: String,
        #[field(version)]
        pub(crate) version: i64,
    }

    /// A memo.
    #[fw::resource(
        model = Memo,
        path = "/memos",
        fields = all,
        actions(retrieve, create, update, partial_update),
        permissions(model)
    )]
    pub(crate) struct MemoResource;
}

/// The renamed memo with a field added (compatible in every version).
mod renamed_grown {
    #[derive(Clone, PartialEq)]
    #[fw::model]
    pub(crate) struct Memo {
        pub(crate) id: i64,
        #[field(max_length = 100)]
        pub(crate) body: String,
        #[field(default = false)]
        pub(crate) pinned: bool,
        #[field(version)]
        pub(crate) version: i64,
    }

    /// A memo.
    #[fw::resource(
        model = Memo,
        path = "/memos",
        fields = all,
        actions(retrieve, create, update, partial_update),
        permissions(model)
    )]
    pub(crate) struct MemoResource;
}

const FIRST: fw::Version = fw::Version::first("2026-06-01", "The first release.");

/// The versions of the renamed memo: `body` was `was` before 2026-12-01.
macro_rules! renamed_versions {
    ($was:literal) => {
        renamed_versions!(renamed, $was)
    };
    ($module:ident, $was:literal) => {{
        const VERSIONS: fw::Versions = fw::Versions::new(&[
            fw::Version::new(
                "2026-12-01",
                "A memo's text is its `body`.",
                &[fw::VersionChange::new(
                    "`text` is `body`.",
                    &[fw::Edit::renamed(
                        fw::field!($module::MemoResource, body),
                        $was,
                    )],
                )],
            ),
            FIRST,
        ]);
        VERSIONS
    }};
}

/// With versions, a released version's document never breaks: a breaking
/// change to the newest version is refused (acknowledged or not) until a new
/// version keeps the old document, which `openapi` then records beside the
/// new one; a new version whose changes do not give back the old document is
/// refused, and a recorded document edited later fails the check.
#[tokio::test]
async fn a_breaking_change_needs_a_version_that_keeps_the_old_document() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let app = |api: fw::Api| fw::App::new("openapi_test", dir).api(api);
    let first = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<released::MemoResource>()
            .versions(const { fw::Versions::new(&[FIRST]) }))
    };
    let broken = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<renamed::MemoResource>()
            .versions(const { fw::Versions::new(&[FIRST]) }))
    };
    let wrong = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<renamed::MemoResource>()
            .versions(renamed_versions!("content")))
    };
    let kept = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<renamed::MemoResource>()
            .versions(renamed_versions!("text")))
    };
    assert_eq!(run_app(first(), &["openapi"]).await, ExitCode::SUCCESS);
    let released = std::fs::read_to_string(dir.join("openapi.json")).expect("written");
    assert!(released.contains("\"version\": \"2026-06-01\""));

    for args in [
        &["openapi"][..],
        &["openapi", "--accept-breaking", "why not"],
    ] {
        assert_eq!(run_app(broken(), args).await, ExitCode::FAILURE, "{args:?}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("openapi.json")).expect("kept"),
        released
    );

    assert_eq!(run_app(wrong(), &["openapi"]).await, ExitCode::FAILURE);
    assert!(!dir.join("openapi").exists(), "nothing was written");

    let drift = fw::openapi::check_committed(&kept()).expect_err("not recorded yet");
    assert!(
        drift.to_string().contains("2026-06-01.json does not exist"),
        "{drift}"
    );
    assert_eq!(run_app(kept(), &["openapi"]).await, ExitCode::SUCCESS);
    let recorded = dir.join("openapi").join("2026-06-01.json");
    assert_eq!(
        std::fs::read_to_string(&recorded).expect("recorded"),
        released,
        "the old version's document is the one its clients were given"
    );
    let newest = std::fs::read_to_string(dir.join("openapi.json")).expect("written");
    assert!(newest.contains("\"body\"") && newest.contains("\"version\": \"2026-12-01\""));
    fw::openapi::check_committed(&kept()).expect("both documents are committed");

    // A field added to the newest version reaches the older one too, a
    // compatible change its document takes, recorded.
    let grown = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<renamed_grown::MemoResource>()
            .versions(renamed_versions!(renamed_grown, "text")))
    };
    let drift = fw::openapi::check_committed(&grown()).expect_err("both documents grew");
    assert!(!drift.is_breaking(), "{drift}");
    assert_eq!(run_app(grown(), &["openapi"]).await, ExitCode::SUCCESS);
    let old = std::fs::read_to_string(&recorded).expect("rewritten");
    assert!(
        old.contains("\"pinned\"") && old.contains("\"text\""),
        "{old}"
    );
    let record = std::fs::read_to_string(dir.join("openapi-changes.md")).expect("recorded");
    assert!(record.contains("version 2026-06-01\n"), "{record}");
    fw::openapi::check_committed(&grown()).expect("written");
    assert_eq!(
        run_app(kept(), &["openapi"]).await,
        ExitCode::FAILURE,
        "a field removed breaks"
    );
    let released = old;

    std::fs::write(&recorded, released.replace("\"text\"", "\"words\"")).expect("edit");
    let drift = fw::openapi::check_committed(&grown()).expect_err("the old document changed");
    assert!(
        drift
            .to_string()
            .contains("version 2026-06-01's document, differs from what the application serves"),
        "{drift}"
    );
    assert_eq!(run_app(grown(), &["openapi"]).await, ExitCode::FAILURE);
}

/// An unreleased newest version may still break its document, acknowledged.
#[tokio::test]
async fn an_unreleased_version_may_still_break() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir = dir.path();
    let app = |api: fw::Api| fw::App::new("openapi_test", dir).api(api);
    const DRAFT: fw::Versions =
        fw::Versions::new(&[fw::Version::first("2026-06-01", "Draft.").unreleased()]);
    let before = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<released::MemoResource>()
            .versions(DRAFT))
    };
    let after = || {
        app(fw::Api::new("Memos", "1.0.0")
            .resource::<renamed::MemoResource>()
            .versions(DRAFT))
    };
    assert_eq!(run_app(before(), &["openapi"]).await, ExitCode::SUCCESS);
    assert_eq!(run_app(after(), &["openapi"]).await, ExitCode::FAILURE);
    assert_eq!(
        run_app(
            after(),
            &["openapi", "--accept-breaking", "not released yet"]
        )
        .await,
        ExitCode::SUCCESS
    );
    fw::openapi::check_committed(&after()).expect("written");
}

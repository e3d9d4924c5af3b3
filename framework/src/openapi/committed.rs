//! The committed OpenAPI document: `<crate>/openapi.json`, written by the
//! `openapi` command and compared with what the application serves by
//! `openapi --check` and by [`check_committed`] in the application's tests, so
//! every API change is a reviewed diff. Accepted changes are recorded, newest
//! first, in `<crate>/openapi-changes.md`.

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value as Json};

use super::diff::{Change, Severity, diff};
use crate::app::App;

/// The committed document's file name, in the application's crate directory.
pub const SPEC_FILE: &str = "openapi.json";
/// The record of accepted API changes, beside [`SPEC_FILE`].
pub const CHANGES_FILE: &str = "openapi-changes.md";
/// Where an API with dated versions commits each older version's document,
/// `openapi/<date>.json`, beside [`SPEC_FILE`] (the newest version's).
pub const VERSIONS_DIR: &str = "openapi";

/// How many lines of the text diff a report shows; the classified list above
/// it already names every change.
const DIFF_LINES: usize = 60;

/// The arguments of the `openapi` command.
#[derive(Debug, clap::Args)]
pub(crate) struct OpenapiArgs {
    /// Write nothing; exit non-zero and print the classified changes when the
    /// committed `openapi.json` differs from the API the application serves.
    #[arg(long, conflicts_with = "accept_breaking")]
    check: bool,
    /// Write `openapi.json` even though the API changed in a way that breaks
    /// existing clients, recording the changes and REASON in `openapi-changes.md`.
    #[arg(long, value_name = "REASON")]
    accept_breaking: Option<String>,
}

/// A document as committed: keys in sorted order, two-space indentation, a
/// trailing newline, so regenerating an unchanged API rewrites identical bytes.
pub fn render(document: &Json) -> String {
    fn sorted(value: &Json) -> Json {
        match value {
            Json::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Json::Object(
                    keys.into_iter()
                        .map(|key| (key.clone(), sorted(&map[key])))
                        .collect::<Map<String, Json>>(),
                )
            }
            Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    let mut text = serde_json::to_string_pretty(&sorted(document)).unwrap_or_default();
    text.push('\n');
    text
}

/// The committed `openapi.json` differs from the API the application serves.
///
/// Its `Display` is the report: every change classified as breaking or
/// compatible, a text diff, and the command that accepts the change.
#[derive(Debug)]
pub struct SpecDrift {
    path: PathBuf,
    committed: Option<String>,
    generated: Option<String>,
    changes: Vec<Change>,
    /// Older versions whose served document is not their committed one.
    released: Vec<ReleasedDrift>,
}

/// An older API version whose document, as the application serves it, is
/// not the one committed for it, or has none committed.
#[derive(Debug)]
pub struct ReleasedDrift {
    date: &'static str,
    /// Where the version's document is committed.
    path: PathBuf,
    /// The document it is compared with, and the file that holds it: its
    /// own, or `openapi.json` when the version was the newest until now.
    committed: Option<(PathBuf, String)>,
    served: String,
}

impl ReleasedDrift {
    /// Every change from the committed document to the served one.
    pub fn changes(&self) -> Vec<Change> {
        let Some((_, committed)) = &self.committed else {
            return Vec::new();
        };
        let old = serde_json::from_str::<Json>(committed).unwrap_or(Json::Null);
        let new = serde_json::from_str::<Json>(&self.served).unwrap_or(Json::Null);
        diff(&old, &new)
    }

    /// Whether some change can break the version's clients.
    pub fn is_breaking(&self) -> bool {
        self.changes()
            .iter()
            .any(|change| change.severity == Severity::Breaking)
    }
}

impl fmt::Display for ReleasedDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        let Some((compared, committed)) = &self.committed else {
            return write!(
                f,
                "{path} does not exist: version {}'s document is not recorded; run `fw \
                 openapi` (or `cargo run -- openapi`) to write it, and commit it",
                self.date
            );
        };
        let fix = if self.is_breaking() {
            "A released version's document changes only in ways its clients cope with: \
             the changes declared by the versions after it must turn today's API back \
             into it"
        } else {
            "The changes are compatible: run `fw openapi` (or `cargo run -- openapi`) to \
             write it, and commit it"
        };
        write!(
            f,
            "{path}, version {}'s document, differs from what the application serves in \
             that version. {fix}. From the committed document ({}) to the served one:\n\n\
             {}\n{}",
            self.date,
            compared.display(),
            report(&self.changes()),
            text_diff(committed, &self.served)
        )
    }
}

impl SpecDrift {
    /// Every change from the committed document to the served one, breaking first.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether some change can break an existing client.
    pub fn is_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|change| change.severity == Severity::Breaking)
    }

    fn fix(&self) -> String {
        if self.is_breaking() {
            "if the break is deliberate, run `fw openapi --accept-breaking \"<why clients \
             can cope>\"` (or `cargo run -- openapi --accept-breaking ...`) and commit \
             `openapi.json` and `openapi-changes.md`; otherwise change the code back"
                .to_owned()
        } else {
            "if the change is deliberate, run `fw openapi` (or `cargo run -- openapi`) and \
             commit `openapi.json` and `openapi-changes.md`"
                .to_owned()
        }
    }
}

impl fmt::Display for SpecDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for released in &self.released {
            writeln!(f, "{released}\n")?;
        }
        if self.committed == self.generated {
            return Ok(());
        }
        let path = self.path.display();
        match (&self.committed, &self.generated) {
            (None, Some(_)) => {
                return write!(
                    f,
                    "{path} does not exist; run `fw openapi` (or `cargo run -- openapi`) to \
                     write it, and commit it"
                );
            }
            (Some(_), None) => {
                return write!(
                    f,
                    "{path} is committed but the application has no API; delete it, or \
                     register the API with `App::api`"
                );
            }
            _ => {}
        }
        writeln!(
            f,
            "{path} differs from the API the application serves:\n\n{}",
            report(&self.changes)
        )?;
        if let (Some(committed), Some(generated)) = (&self.committed, &self.generated) {
            writeln!(f, "{}", text_diff(committed, generated))?;
        }
        write!(f, "To accept it: {}.", self.fix())
    }
}

impl std::error::Error for SpecDrift {}

/// The classified list of `changes`: a count, then breaking and compatible ones.
pub fn report(changes: &[Change]) -> String {
    let breaking: Vec<&Change> = changes
        .iter()
        .filter(|change| change.severity == Severity::Breaking)
        .collect();
    let compatible: Vec<&Change> = changes
        .iter()
        .filter(|change| change.severity == Severity::Compatible)
        .collect();
    let mut text = format!(
        "{} breaking change{}, {} compatible change{}.\n",
        breaking.len(),
        if breaking.len() == 1 { "" } else { "s" },
        compatible.len(),
        if compatible.len() == 1 { "" } else { "s" },
    );
    for (title, group) in [
        ("Breaking (existing clients may fail)", &breaking),
        ("Compatible", &compatible),
    ] {
        if !group.is_empty() {
            text.push_str(&format!("\n{title}:\n"));
            for change in group.iter() {
                text.push_str(&format!("  - {change}\n"));
            }
        }
    }
    text
}

fn text_diff(committed: &str, generated: &str) -> String {
    let diff = similar::TextDiff::from_lines(committed, generated);
    let unified = diff
        .unified_diff()
        .context_radius(2)
        .header("openapi.json (committed)", "openapi.json (served)")
        .to_string();
    let lines: Vec<&str> = unified.lines().collect();
    if lines.len() <= DIFF_LINES {
        return unified;
    }
    format!(
        "{}\n... {} more lines of diff\n",
        lines[..DIFF_LINES].join("\n"),
        lines.len() - DIFF_LINES
    )
}

fn served(app: &App) -> Option<Json> {
    app.api_spec().map(crate::Api::openapi_json)
}

/// Every older version's document as served, against its committed file.
fn released_drift(app: &App) -> Vec<ReleasedDrift> {
    let Some(api) = app.api_spec() else {
        return Vec::new();
    };
    let Some(versions) = api.api_versions() else {
        return Vec::new();
    };
    versions
        .all()
        .iter()
        .skip(1)
        .filter_map(|version| {
            let path = app
                .crate_dir()
                .join(VERSIONS_DIR)
                .join(format!("{}.json", version.date));
            let committed = std::fs::read_to_string(&path).ok();
            let served = render(&api.openapi_json_of(version.date)?);
            (committed.as_deref() != Some(served.as_str())).then(|| ReleasedDrift {
                date: version.date,
                committed: committed.map(|text| (path.clone(), text)),
                path,
                served,
            })
        })
        .collect()
}

/// Compares the committed documents with what `app` serves, byte for byte:
/// the newest version's, and each older version's.
fn compare(app: &App) -> Result<(), SpecDrift> {
    let path = app.crate_dir().join(SPEC_FILE);
    let committed = std::fs::read_to_string(&path).ok();
    let generated = served(app).map(|document| render(&document));
    let released = released_drift(app);
    if committed == generated {
        if released.is_empty() {
            return Ok(());
        }
        return Err(SpecDrift {
            path,
            committed,
            generated,
            changes: Vec::new(),
            released,
        });
    }
    let changes = match (&committed, &generated) {
        (Some(committed), Some(generated)) => {
            let old = serde_json::from_str::<Json>(committed).unwrap_or(Json::Null);
            let new = serde_json::from_str::<Json>(generated).unwrap_or(Json::Null);
            let mut changes = diff(&old, &new);
            if changes.is_empty() {
                changes.push(Change {
                    severity: Severity::Compatible,
                    location: "document".to_owned(),
                    message: "formatting only (the file was edited by hand)".to_owned(),
                });
            }
            changes
        }
        _ => Vec::new(),
    };
    Err(SpecDrift {
        path,
        committed,
        generated,
        changes,
        released,
    })
}

/// Checks that the application's committed `openapi.json` is exactly the
/// document it serves: call it from a test, so `cargo test` fails when an API
/// change was not regenerated, reviewed and committed.
///
/// ```no_run
/// # fn app() -> fw::App { fw::app!() }
/// #[test]
/// fn openapi_json_is_committed() {
///     fw::openapi::check_committed(&app()).unwrap_or_else(|drift| panic!("{drift}"));
/// }
/// ```
///
/// # Errors
///
/// A [`SpecDrift`] whose `Display` lists each change, classified as breaking
/// or compatible, and how to accept it.
pub fn check_committed(app: &App) -> Result<(), SpecDrift> {
    compare(app)
}

/// The `info.version` of a rendered document.
fn document_version(text: &str) -> Option<String> {
    serde_json::from_str::<Json>(text)
        .ok()?
        .pointer("/info/version")?
        .as_str()
        .map(str::to_owned)
}

/// The `openapi` command. It checks everything before it writes anything:
/// older versions' documents first, then the newest's.
pub(crate) fn run_command(app: &App, args: OpenapiArgs) -> anyhow::Result<ExitCode> {
    let Some(document) = served(app) else {
        anyhow::bail!(
            "the application has no API to document; register resources with `App::api` \
             or `App::resource`"
        );
    };
    let mut drift = match compare(app) {
        Ok(()) => {
            println!("{SPEC_FILE} is up to date.");
            return Ok(ExitCode::SUCCESS);
        }
        Err(drift) => drift,
    };
    if args.check {
        println!("{drift}");
        return Ok(ExitCode::FAILURE);
    }
    let versions = app.api_spec().and_then(crate::Api::api_versions);
    // An older version's document changes only compatibly. One not yet
    // recorded is compared with what `openapi.json` held while it was the
    // newest.
    for released in &mut drift.released {
        if released.committed.is_none()
            && let Some(previous) = &drift.committed
            && document_version(previous).as_deref() == Some(released.date)
        {
            released.committed = Some((drift.path.clone(), previous.clone()));
        }
        if released.is_breaking() {
            println!("{released}\nNothing was written.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let latest = versions.map(|versions| versions.latest());
    let new_version = latest.is_some_and(|latest| {
        drift
            .committed
            .as_deref()
            .and_then(document_version)
            .as_deref()
            != Some(latest.date)
    });
    let changed = drift.committed != drift.generated;
    if changed && drift.is_breaking() && !new_version {
        if let Some(latest) = latest.filter(|latest| !latest.unreleased) {
            println!(
                "{}\nNothing was written: version {} is released, and these changes break \
                 its clients. Declare a new version whose changes keep {} as it was (see \
                 `fw::docs::versions`), or, if {} has not been released, mark it \
                 `.unreleased()`.",
                report(drift.changes()),
                latest.date,
                latest.date,
                latest.date
            );
            return Ok(ExitCode::FAILURE);
        }
        if args.accept_breaking.is_none() {
            println!(
                "{}\nNothing was written: these changes break existing clients. To accept \
                 them: {}.",
                report(drift.changes()),
                drift.fix()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    for released in &drift.released {
        if let Some(dir) = released.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", dir.display()))?;
        }
        std::fs::write(&released.path, &released.served).map_err(|error| {
            anyhow::anyhow!("cannot write {}: {error}", released.path.display())
        })?;
        let changes = released.changes();
        if changes.is_empty() {
            println!(
                "Recorded version {}'s document in {}; commit it.",
                released.date,
                released.path.display()
            );
            continue;
        }
        let served = serde_json::from_str::<Json>(&released.served).unwrap_or(Json::Null);
        record_changes(app, &served, &changes, None)?;
        println!(
            "{}\nWrote version {}'s document, {}, and recorded the changes in \
             {CHANGES_FILE}; commit both.",
            report(&changes),
            released.date,
            released.path.display()
        );
    }
    if !changed {
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&drift.path, render(&document))
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", drift.path.display()))?;
    if drift.committed.is_none() {
        println!("Wrote {}; commit it.", drift.path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let changes_path = record_changes(
        app,
        &document,
        drift.changes(),
        args.accept_breaking.as_deref(),
    )?;
    println!(
        "{}\nWrote {} and recorded the changes in {}; commit both.",
        report(drift.changes()),
        drift.path.display(),
        changes_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Records `changes` to `document` (accepted for `reason` when breaking) in
/// the application's [`CHANGES_FILE`], newest first: its path.
fn record_changes(
    app: &App,
    document: &Json,
    changes: &[Change],
    reason: Option<&str>,
) -> anyhow::Result<PathBuf> {
    let changes_path = app.crate_dir().join(CHANGES_FILE);
    let entry = changes_entry(
        &chrono::Utc::now().date_naive().to_string(),
        document,
        changes,
        reason,
    );
    let existing = std::fs::read_to_string(&changes_path).ok();
    std::fs::write(&changes_path, record_entry(existing.as_deref(), &entry))
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", changes_path.display()))?;
    Ok(changes_path)
}

const CHANGES_HEADER: &str = "# API changes\n\n\
Every change to `openapi.json`, newest first, written by the `openapi` command.\n\
Breaking changes are written only with `openapi --accept-breaking \"<reason>\"`,\n\
and the reason is recorded with them.\n";

/// One entry of `openapi-changes.md`.
fn changes_entry(date: &str, document: &Json, changes: &[Change], reason: Option<&str>) -> String {
    let version = document
        .pointer("/info/version")
        .and_then(Json::as_str)
        .unwrap_or("?");
    let breaking = changes
        .iter()
        .any(|change| change.severity == Severity::Breaking);
    let mut entry = format!(
        "## {date}, version {version}{}\n\n",
        if breaking { ": BREAKING" } else { "" }
    );
    if let Some(reason) = reason {
        entry.push_str(&format!("Accepted because: {}\n\n", reason.trim()));
    }
    for (severity, title) in [
        (Severity::Breaking, "Breaking"),
        (Severity::Compatible, "Compatible"),
    ] {
        let group: Vec<&Change> = changes
            .iter()
            .filter(|change| change.severity == severity)
            .collect();
        if !group.is_empty() {
            entry.push_str(&format!("{title}:\n\n"));
            for change in group {
                entry.push_str(&format!("- {}: {}\n", change.location, change.message));
            }
            entry.push('\n');
        }
    }
    entry
}

/// `existing` (or a new file's header) with `entry` first after the header.
fn record_entry(existing: Option<&str>, entry: &str) -> String {
    let existing = existing.unwrap_or(CHANGES_HEADER);
    match existing.find("\n## ") {
        // `existing[..=index]` already ends with the blank line before the newest entry.
        Some(index) => format!("{}{entry}{}", &existing[..=index], &existing[index + 1..]),
        None => format!(
            "{}\n{entry}",
            existing.trim_end_matches('\n').to_owned() + "\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_newest_first_under_the_header() {
        let first = record_entry(None, "## 2025-01-01, version 1\n\n- a\n\n");
        assert!(first.starts_with("# API changes\n"));
        let second = record_entry(Some(&first), "## 2025-02-01, version 2\n\n- b\n\n");
        let newest = second.find("2025-02-01").unwrap_or(usize::MAX);
        let oldest = second.find("2025-01-01").unwrap_or(0);
        assert!(newest < oldest, "{second}");
        assert!(second.starts_with(CHANGES_HEADER), "{second}");
        assert!(
            !second.contains("\n\n\n"),
            "one blank line between entries: {second}"
        );
    }

    #[test]
    fn render_sorts_keys_and_ends_with_a_newline() {
        let text = render(&serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}}));
        assert_eq!(
            text,
            "{\n  \"a\": {\n    \"c\": 3,\n    \"d\": 2\n  },\n  \"b\": 1\n}\n"
        );
    }
}

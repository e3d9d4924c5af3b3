//! The starter template's deployment files, checked where no container engine
//! or systemd runs: the Dockerfile's instructions and stages, and the unit's
//! sections and keys, parse; both run commands every fw app has; the image
//! runs as a user without privileges; systemd waits out fw's drain.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

fn template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../starter-template")
}

fn read(relative: &str) -> String {
    let path = template().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Dockerfile instructions as (line number, keyword, arguments), comments
/// dropped and `\` continuations joined.
fn instructions(text: &str) -> Vec<(usize, String, String)> {
    let mut parsed = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if pending.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let (start, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        if let Some(continued) = trimmed.strip_suffix('\\') {
            joined.push_str(continued);
            joined.push(' ');
            pending = Some((start, joined));
            continue;
        }
        joined.push_str(trimmed);
        let (keyword, arguments) = joined.split_once(' ').unwrap_or((&joined, ""));
        parsed.push((start, keyword.to_owned(), arguments.trim().to_owned()));
    }
    assert!(
        pending.is_none(),
        "the Dockerfile ends inside a continuation"
    );
    parsed
}

/// An exec-form argument list (`["a", "b"]`), which Docker reads as JSON.
fn exec_form(line: usize, arguments: &str) -> Vec<String> {
    let inner = arguments
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or_else(|| panic!("line {line}: `{arguments}` is not the exec form"));
    inner
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
                .unwrap_or_else(|| panic!("line {line}: `{item}` is not a quoted string"))
                .to_owned()
        })
        .collect()
}

/// Whether an fw app's command line accepts `command` (its `--help` succeeds;
/// an unknown command exits 2).
async fn app_accepts(command: &str) -> bool {
    let app = fw::App::new("app", template());
    app.run_with(["app", command, "--help"]).await == ExitCode::SUCCESS
}

#[tokio::test]
async fn the_dockerfile_builds_in_stages_and_runs_the_app_unprivileged() {
    const KEYWORDS: [&str; 9] = [
        "ARG",
        "FROM",
        "WORKDIR",
        "COPY",
        "RUN",
        "ENV",
        "EXPOSE",
        "USER",
        "ENTRYPOINT",
    ];
    let text = read("Dockerfile");
    let instructions = instructions(&text);
    let mut stages: Vec<String> = Vec::new();
    let mut user_of_last_stage = None;
    let mut entrypoint = Vec::new();
    let mut command = Vec::new();
    for (line, keyword, arguments) in &instructions {
        assert!(
            KEYWORDS.contains(&keyword.as_str()) || keyword == "CMD",
            "line {line}: unknown instruction `{keyword}`"
        );
        match keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = arguments.split_whitespace().collect();
                match words.as_slice() {
                    [_image] => stages.push(String::new()),
                    [_image, as_, name] if as_.eq_ignore_ascii_case("as") => {
                        stages.push((*name).to_owned());
                    }
                    _ => panic!("line {line}: FROM `{arguments}`"),
                }
                user_of_last_stage = None;
            }
            "COPY" => {
                if let Some(stage) = arguments
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix("--from="))
                {
                    assert!(
                        stages[..stages.len() - 1].iter().any(|name| name == stage),
                        "line {line}: COPY from `{stage}`, no earlier stage of that name"
                    );
                } else {
                    let words: Vec<&str> = arguments.split_whitespace().collect();
                    for source in &words[..words.len() - 1] {
                        assert!(
                            *source == "."
                                || *source == "Cargo.lock"
                                || template().join(source).exists(),
                            "line {line}: COPY of `{source}`, which the template lacks"
                        );
                    }
                }
            }
            "USER" => user_of_last_stage = Some(arguments.clone()),
            "ENTRYPOINT" => entrypoint = exec_form(*line, arguments),
            "CMD" => command = exec_form(*line, arguments),
            _ => {}
        }
        assert!(
            !stages.is_empty() || keyword == "ARG",
            "line {line}: `{keyword}` before FROM"
        );
    }
    assert!(stages.len() >= 2, "a build stage and a runtime stage");
    let user = user_of_last_stage.expect("the runtime stage sets USER");
    assert!(
        !["root", "0"].contains(&user.split(':').next().unwrap_or_default()),
        "the image runs as {user}"
    );
    assert_eq!(entrypoint, ["/usr/local/bin/app"]);
    assert_eq!(command, ["serve"]);
    // The migration step the file's header shows, and what it serves with.
    assert!(text.contains(" app migrate"), "{text}");
    for command in ["serve", "migrate"] {
        assert!(app_accepts(command).await, "fw apps have `{command}`");
    }
    assert!(!app_accepts("no-such-command").await);
    // What the build copies is not kept out of the context.
    let ignored = read(".dockerignore");
    for kept in ["Cargo.toml", "Cargo.lock", "src", "migrations", ".cargo"] {
        assert!(
            !ignored
                .lines()
                .any(|line| line.trim_end_matches('/') == kept),
            ".dockerignore excludes {kept}"
        );
    }
}

#[tokio::test]
async fn the_systemd_unit_is_well_formed_and_outwaits_the_drain() {
    const SECTIONS: [&str; 3] = ["[Unit]", "[Service]", "[Install]"];
    let text = read("deploy/app.service");
    let mut section = None;
    let mut service = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            assert!(
                SECTIONS.contains(&line),
                "line {}: section {line}",
                index + 1
            );
            section = Some(line);
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: `{line}` is not Key=Value", index + 1));
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()),
            "line {}: key `{key}`",
            index + 1
        );
        assert!(
            section.is_some(),
            "line {}: a key outside a section",
            index + 1
        );
        if section == Some("[Service]") {
            service.push((key.to_owned(), value.to_owned()));
        }
    }
    let value = |key: &str| {
        service
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .unwrap_or_else(|| panic!("[Service] has no {key}"))
    };
    for key in ["ExecStart", "ExecStartPre"] {
        let words: Vec<&str> = value(key).split_whitespace().collect();
        assert_eq!(words[0], "/usr/local/bin/app", "{key}");
        assert!(app_accepts(words[1]).await, "{key} runs `{}`", words[1]);
    }
    assert_eq!(value("KillSignal"), "SIGTERM");
    let stop: u64 = value("TimeoutStopSec")
        .strip_suffix('s')
        .and_then(|seconds| seconds.parse().ok())
        .expect("TimeoutStopSec in seconds");
    assert!(
        Duration::from_secs(stop) > fw::HttpLimits::default().drain_timeout,
        "systemd would kill the process before fw's drain ends"
    );
    assert_eq!(value("DynamicUser"), "yes");
    assert_eq!(value("NoNewPrivileges"), "yes");
}

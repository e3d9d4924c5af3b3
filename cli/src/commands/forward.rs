//! Forwards application commands to the application in the current directory, so
//! users never need to remember `cargo run --`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// Runs `cargo run --quiet --manifest-path <app>/Cargo.toml -- <args>` for the
/// nearest enclosing application and returns its exit code.
pub(crate) fn run(args: &[OsString]) -> anyhow::Result<ExitCode> {
    cargo(&["run", "--quiet"], Passed::ToTheApp, args)
}

/// Runs `cargo test --manifest-path <app>/Cargo.toml <args>` for the nearest
/// enclosing application and returns its exit code.
pub(crate) fn test(args: &[OsString]) -> anyhow::Result<ExitCode> {
    cargo(&["test"], Passed::ToCargo, args)
}

/// Who the user's arguments are for.
enum Passed {
    /// The application's binary: they go after `--`.
    ToTheApp,
    /// Cargo itself (which passes what follows its own `--` to the tests).
    ToCargo,
}

/// Runs `cargo <command> --manifest-path <app>/Cargo.toml` with `args`.
fn cargo(command: &[&str], passed: Passed, args: &[OsString]) -> anyhow::Result<ExitCode> {
    let current = std::env::current_dir().context("cannot read the current directory")?;
    let manifest = find_manifest(&current)?;
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.args(command).arg("--manifest-path").arg(&manifest);
    if let Passed::ToTheApp = passed {
        cargo.arg("--");
    }
    cargo.args(args);
    let status = cargo
        .status()
        .context("cannot run cargo; is the Rust toolchain installed and on PATH?")?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

/// The `Cargo.toml` of the package containing `start`: the nearest one with a
/// `[package]` section, walking up.
fn find_manifest(start: &Path) -> anyhow::Result<PathBuf> {
    for dir in start.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&manifest)
            && text.lines().any(|line| line.trim() == "[package]")
        {
            return Ok(manifest);
        }
    }
    bail!(
        "no fw application here: no Cargo.toml with a [package] in {} or above; \
         run this inside an application created with `fw new`",
        start.display()
    )
}

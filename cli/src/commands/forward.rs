//! Forwards application commands to the application in the current directory, so
//! users never need to remember `cargo run --`.
//!
//! The application is built with cargo's progress shown, on standard error:
//! its first build compiles a few hundred crates for minutes, and without it a
//! command would look hung. It then runs quietly, so a command's output is its
//! own, without cargo's `Running ...` line or, when it fails, cargo's report of
//! its exit status.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

/// Builds the nearest enclosing application, then runs
/// `cargo run --quiet --manifest-path <app>/Cargo.toml -- <args>` and returns
/// its exit code.
pub(crate) fn run(args: &[impl AsRef<OsStr>]) -> anyhow::Result<ExitCode> {
    run_app(&current_manifest()?, None, args)
}

/// As [`run`], for the application in directory `dir`, with cargo running
/// there so that the application's `.cargo/config.toml` applies as it does to
/// the user's own commands.
pub(crate) fn run_in(dir: &Path, args: &[impl AsRef<OsStr>]) -> anyhow::Result<ExitCode> {
    // Named relative to `dir`, where cargo runs.
    run_app(Path::new("Cargo.toml"), Some(dir), args)
}

/// Runs `cargo test --manifest-path <app>/Cargo.toml <args>` for the nearest
/// enclosing application and returns its exit code.
pub(crate) fn test(args: &[impl AsRef<OsStr>]) -> anyhow::Result<ExitCode> {
    let mut test = cargo(&current_manifest()?, None, "test");
    test.args(args);
    exit_code(test)
}

fn run_app(
    manifest: &Path,
    dir: Option<&Path>,
    args: &[impl AsRef<OsStr>],
) -> anyhow::Result<ExitCode> {
    let built = exit_code(cargo(manifest, dir, "build"))?;
    if built != ExitCode::SUCCESS {
        return Ok(built);
    }
    let mut run = cargo(manifest, dir, "run");
    run.arg("--quiet").arg("--").args(args);
    exit_code(run)
}

/// `cargo <command> --manifest-path <manifest>`, run in `dir` if given.
fn cargo(manifest: &Path, dir: Option<&Path>, command: &str) -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.arg(command).arg("--manifest-path").arg(manifest);
    if let Some(dir) = dir {
        cargo.current_dir(dir);
    }
    cargo
}

/// Runs `cargo` and returns its exit code.
fn exit_code(mut cargo: Command) -> anyhow::Result<ExitCode> {
    let status = cargo
        .status()
        .context("cannot run cargo; is the Rust toolchain installed and on PATH?")?;
    Ok(match status.code() {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

/// The manifest of the application in the current directory.
fn current_manifest() -> anyhow::Result<PathBuf> {
    let current = std::env::current_dir().context("cannot read the current directory")?;
    find_manifest(&current)
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

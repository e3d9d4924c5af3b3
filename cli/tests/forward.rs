//! `fw <command>` runs the command in the application in the current directory.

use std::path::Path;
use std::process::Command;

fn fw(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fw"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run fw")
}

#[test]
fn app_commands_are_forwarded_to_the_application() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dividends");
    let output = fw(&example.join("src"), &["makemigrations", "--check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("No changes detected"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Finished"),
        "cargo's progress is shown, not hidden with `--quiet`: {stderr}"
    );
}

#[test]
fn the_application_exit_status_is_passed_through() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dividends");
    let output = fw(&example, &["no-such-command"]);
    assert_eq!(output.status.code(), Some(2), "clap's usage error status");
}

#[test]
fn outside_an_application_it_says_where_it_looked() {
    let dir = std::env::temp_dir();
    let output = fw(&dir, &["migrate"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no fw application here"), "{stderr}");
}

#[test]
fn fw_test_runs_the_applications_tests() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/dividends");
    let output = fw(
        &example,
        &["test", "--test", "openapi", "--", "--test-threads=1"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("test result: ok"), "{stdout}");
}

//! What the end-to-end tests share: the example's executable, a free port,
//! and waiting for a server to listen.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The workspace's directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The example's binary, built by `cargo test --workspace --all-targets` (built
/// here if missing).
pub(crate) fn example_binary() -> PathBuf {
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "-p",
            "example-dividends",
            "--bin",
            "example-dividends",
        ])
        .current_dir(workspace_root())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building the example failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join("example-dividends")
}

/// A loopback port no one listens on.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Waits until a server listens on `port` (at most a minute).
pub(crate) fn wait_for(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An API token of a new superuser `username` of the example on
/// `database_url`, made as an operator makes one, with the example's
/// `createuser` and `createtoken` commands. The database must be migrated (a
/// server started on it has migrated it).
pub(crate) fn superuser_token(database_url: &str, username: &str) -> String {
    let binary = example_binary();
    let example = |args: &[&str]| {
        let output = Command::new(&binary)
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LOG", "warn")
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run the example");
        assert!(
            output.status.success(),
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    example(&["createuser", username, "--superuser", "--no-password"]);
    let token = example(&["createtoken", username, "--name", "tests"]);
    token.trim().to_owned()
}

/// The Redis server of the test: `FW_TEST_REDIS_URL`, by default the one on
/// 127.0.0.1:6379.
pub(crate) fn redis_url() -> String {
    let url = std::env::var("FW_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let address = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .and_then(|authority| authority.rsplit('@').next())
        .expect("FW_TEST_REDIS_URL is redis://host:port")
        .to_owned();
    let answers = address
        .parse()
        .is_ok_and(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok());
    assert!(
        answers,
        "no Redis answers at {url}: start one with `redis-server --daemonize yes --port 6379 \
         --save \"\"`, or set FW_TEST_REDIS_URL"
    );
    url
}

//! The README's main command, end to end: the dividends example migrates a fresh
//! SQLite database, loads its sample data, serves over real HTTP, and stops
//! cleanly on SIGTERM; and a write retried with its `Idempotency-Key` across a
//! killed server is made once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The example's binary, built by `cargo test --workspace --all-targets` (built
/// here if missing).
fn example_binary() -> PathBuf {
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn get(port: u16, path: &str) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    Ok((status, body.to_owned()))
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(database_dir: &Path) -> Server {
        let port = free_port();
        let child = Command::new(example_binary())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/dividends.db", database_dir.display()),
            )
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "info")
            .current_dir(database_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the example");
        let server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the example did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|status| status.success()), "send SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the example") {
                let mut logs = String::new();
                if let Some(stderr) = self.child.stderr.take() {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        logs.push_str(&line);
                        logs.push('\n');
                    }
                }
                return (status, logs);
            }
            assert!(
                Instant::now() < deadline,
                "the example did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn the_example_migrates_serves_and_stops_gracefully() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(dir.path());
    let (status, _) = get(server.port, "/no-such-page").expect("an HTTP response");
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");

    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status}; logs:\n{logs}");
    assert!(logs.contains("Applied 0001_initial"), "{logs}");
    assert!(logs.contains("imported a sample file"), "{logs}");
    assert!(logs.contains("created the demo account"), "{logs}");
    assert!(logs.contains("serving"), "{logs}");
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(
        dir.path().join("dividends.db").exists(),
        "the database was created on first run"
    );
}

/// One HTTP/1.1 request with `headers` and `body`; the response's head and body.
fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    )?;
    for (name, value) in headers {
        write!(stream, "{name}: {value}\r\n")?;
    }
    write!(stream, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Ok((head.to_owned(), body.to_owned()))
}

/// A client that got no answer retries with its `Idempotency-Key`: the key and
/// the answer live in the database, so after the server is killed (SIGKILL) and
/// started again the retry gets the first answer, and the write happened once.
#[test]
fn a_retried_write_is_made_once_across_a_killed_server() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let create = |port| {
        send(
            port,
            "POST",
            "/securities",
            &[
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "7c0f3a52-retry"),
            ],
            r#"{"symbol": "RETRY", "cusip": "RETRY0001", "name": "Retry Corp"}"#,
        )
        .expect("an HTTP response")
    };
    let mut server = Server::start(dir.path());
    let (head, first) = create(server.port);
    assert!(head.starts_with("HTTP/1.1 201"), "{head}\n{first}");
    server.child.kill().expect("kill the example");
    server.child.wait().expect("wait for the example");

    let server = Server::start(dir.path());
    let (head, again) = create(server.port);
    assert!(head.starts_with("HTTP/1.1 201"), "{head}\n{again}");
    assert!(
        head.to_ascii_lowercase()
            .contains("idempotent-replayed: true"),
        "{head}"
    );
    assert_eq!(again, first);
    let (status, listed) = get(server.port, "/securities?symbol=RETRY").expect("a list");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(listed.matches("\"RETRY\"").count(), 1, "{listed}");
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status}; logs:\n{logs}");
}

//! The dividends example as deployed, when the database makes it wait: the
//! README's daily workflow under load (`import-dividends` while the server
//! serves the same SQLite database), and the setting that bounds the wait.

use std::io::{Read, Write};
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

/// The example's binary (built here if missing).
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

/// The status line and headers of a `POST` of `body` to `path`.
fn post(port: u16, path: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map_or(response.as_str(), |(head, _)| head)
        .to_owned())
}

/// A valid daily file of `records` new announcements, over the securities of
/// the sample file (whose CUSIPs carry valid check digits).
fn large_file(dir: &Path, records: usize) -> PathBuf {
    let sample = std::fs::read_to_string(
        workspace_root().join("examples/dividends/samples/2026-03-16-normal.txt"),
    )
    .expect("the sample file");
    let details: Vec<&str> = sample
        .lines()
        .filter(|line| line.starts_with("DTL|"))
        .collect();
    let path = dir.join("large.txt");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    writeln!(out, "HDR|DIVANN|1|20260317|NBCLEAR|000413").expect("write");
    for index in 0..records {
        let detail = details[index % details.len()];
        let rest = detail.splitn(3, '|').nth(2).expect("a detail record");
        writeln!(out, "DTL|LOAD{index:012}|{rest}").expect("write");
    }
    writeln!(out, "TRL|{records}").expect("write");
    out.flush().expect("flush");
    path
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The import holds the write lock for its writes; the server's writers wait
/// at most `FW_DATABASE_WAIT_TIMEOUT` and then answer 503 with `Retry-After`,
/// never a 500 ("database is locked"), and write again once the import has
/// committed.
#[test]
fn writes_during_an_import_wait_a_bounded_time_and_never_fail_with_500() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let binary = example_binary();
    let database_url = format!("sqlite://{}/dividends.db", dir.path().display());
    let port = free_port();
    let server = Running(
        Command::new(&binary)
            .env("DATABASE_URL", &database_url)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "warn")
            .env("FW_DATABASE_WAIT_TIMEOUT", "1")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }

    let file = large_file(dir.path(), 20_000);
    let mut import = Running(
        Command::new(&binary)
            .arg("import-dividends")
            .arg(&file)
            .env("DATABASE_URL", &database_url)
            .env("FW_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the import"),
    );
    let mut answers = Vec::new();
    let import_status = loop {
        if let Some(status) = import.0.try_wait().expect("wait for the import") {
            break status;
        }
        let symbol = format!("W{}", answers.len());
        let started = Instant::now();
        let head = post(
            port,
            "/securities",
            &format!(r#"{{"symbol": "{symbol}", "cusip": "{symbol:0>9}", "name": "Writer"}}"#),
        )
        .expect("an answer");
        let status = head.lines().next().unwrap_or_default().to_owned();
        assert!(
            status.starts_with("HTTP/1.1 201") || status.starts_with("HTTP/1.1 503"),
            "a write during the import got {head}"
        );
        if status.starts_with("HTTP/1.1 503") {
            let head = head.to_lowercase();
            assert!(head.contains("\r\nretry-after: "), "{head}");
            assert!(
                head.contains("content-type: application/problem+json"),
                "{head}"
            );
        }
        // Queueing for the writer, then for the file's lock: twice the bound at
        // most, with room for a loaded machine.
        assert!(started.elapsed() < Duration::from_secs(10), "{head}");
        answers.push(status);
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut import_errors = String::new();
    if let Some(mut stderr) = import.0.stderr.take() {
        stderr.read_to_string(&mut import_errors).ok();
    }
    assert!(
        import_status.success(),
        "the import failed: {import_errors}"
    );
    assert!(
        answers
            .iter()
            .any(|status| status.starts_with("HTTP/1.1 503")),
        "the import held the lock for longer than the bound, so some writes waited it out: {answers:?}"
    );

    let head = post(
        port,
        "/securities",
        r#"{"symbol": "AFTER", "cusip": "AFTER0000", "name": "Writer"}"#,
    )
    .expect("an answer");
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    drop(server);
}

#[test]
fn a_bad_wait_timeout_stops_the_app_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = Command::new(example_binary())
        .arg("migrate")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/dividends.db", dir.path().display()),
        )
        .env("FW_DATABASE_WAIT_TIMEOUT", "5s")
        .current_dir(dir.path())
        .output()
        .expect("run the example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("FW_DATABASE_WAIT_TIMEOUT=`5s` is not a whole number of seconds"),
        "{stderr}"
    );
}

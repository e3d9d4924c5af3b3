//! The dividends example as deployed, when the database makes it wait or goes
//! away: the README's daily workflow under load (`import-dividends` while the
//! server serves the same SQLite database), a PostgreSQL outage, and the
//! setting that bounds the wait.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{example_binary, free_port, superuser_token, wait_for, workspace_root};

mod support;

/// The status line and headers of a `POST` of `body` to `path` with the API
/// token `token`.
fn post(port: u16, token: &str, path: &str, body: &str) -> std::io::Result<String> {
    request(port, token, "POST", path, body)
}

/// The status line and headers of a request with the API token `token`.
fn request(
    port: u16,
    token: &str,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "warn")
            .env("FW_DATABASE_WAIT_TIMEOUT", "1")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    wait_for(port);
    let token = superuser_token(&database_url, "tester");

    let file = large_file(dir.path(), 20_000);
    let mut import = Running(
        Command::new(&binary)
            .arg("import-dividends")
            .arg(&file)
            .args(["--operator", "tester"])
            .env("DATABASE_URL", &database_url)
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
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
            &token,
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
        &token,
        "/securities",
        r#"{"symbol": "AFTER", "cusip": "AFTER0000", "name": "Writer"}"#,
    )
    .expect("an answer");
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    drop(server);
}

/// A TCP relay between the server and PostgreSQL, to take the database away
/// and bring it back while the server runs.
struct Relay {
    address: std::net::SocketAddr,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(address: std::net::SocketAddr, upstream: std::net::SocketAddr) -> Relay {
        let listener = TcpListener::bind(address).expect("bind the relay");
        let address = listener.local_addr().expect("address");
        let relay = Relay {
            address,
            stopped: Default::default(),
            connections: Default::default(),
        };
        let (stopped, connections) = (relay.stopped.clone(), relay.connections.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let (Ok(client), Ok(server)) = (client, TcpStream::connect(upstream)) else {
                    continue;
                };
                let mut open = connections.lock().expect("connections");
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (
                        server.try_clone().expect("clone"),
                        client.try_clone().expect("clone"),
                    ),
                ] {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                open.extend([client, server]);
            }
        });
        relay
    }

    /// Stops accepting and cuts every relayed connection, as a database that
    /// crashed would.
    fn stop(self) {
        self.stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accepting thread, which then sees `stopped` and ends.
        let _ = TcpStream::connect(self.address);
        for connection in self.connections.lock().expect("connections").drain(..) {
            let _ = connection.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The `host:port` of a PostgreSQL URL, and the address it resolves to.
fn postgres_address(url: &str) -> (String, std::net::SocketAddr) {
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("host:port in the test URL")
        .to_owned();
    let address = std::net::ToSocketAddrs::to_socket_addrs(&host_port)
        .expect("resolve")
        .next()
        .expect("an address");
    (host_port, address)
}

/// The database going away while the server runs answers requests with a
/// prompt 503 and `Retry-After`, not a hang and a 500, and the server serves
/// again by itself once the database is back.
#[test]
fn a_database_outage_is_a_prompt_503_and_the_server_recovers() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let test_db = runtime.block_on(fw::testing::TestDb::postgres());
    let url = test_db.url();
    let (host_port, upstream) = postgres_address(&url);
    let relay = Relay::start(([127, 0, 0, 1], 0).into(), upstream);
    let address = relay.address;
    let dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let server = Running(
        Command::new(example_binary())
            .env(
                "DATABASE_URL",
                url.replacen(&host_port, &address.to_string(), 1),
            )
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "warn")
            .env("FW_DATABASE_WAIT_TIMEOUT", "1")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    wait_for(port);
    let token = superuser_token(&url, "tester");
    let head = request(port, &token, "GET", "/securities", "").expect("an answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    relay.stop();
    for (method, body) in [
        ("GET", ""),
        (
            "POST",
            r#"{"symbol": "DOWN", "cusip": "DOWN00000", "name": "Outage"}"#,
        ),
    ] {
        let started = Instant::now();
        let head = request(port, &token, method, "/securities", body).expect("an answer");
        assert!(head.starts_with("HTTP/1.1 503"), "{method}: {head}");
        let head = head.to_lowercase();
        assert!(head.contains("\r\nretry-after: "), "{head}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{head}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{method} was answered after {:?}, not promptly",
            started.elapsed()
        );
    }

    let relay = Relay::start(address, upstream);
    let head = request(port, &token, "GET", "/securities", "").expect("an answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    relay.stop();
    drop(server);
    drop(test_db);
}

/// A full disk is a 503 with `Retry-After`, never a 500, and once space is
/// freed the same server writes again, without a restart (the SQLite writer
/// left inside its failed transaction is replaced). The database lives on a
/// 4 MiB tmpfs mounted in a user and mount namespace of the server's own
/// (`unshare`, `nsenter`), so no privilege on the machine is needed.
#[test]
fn a_full_disk_is_a_503_and_the_server_writes_again_once_space_is_freed() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).expect("create the mount point");
    let port = free_port();
    let server = Running(
        Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs -o size=4m tmpfs "$0" && exec "$1" serve --migrate"#)
            .arg(&disk)
            .arg(example_binary())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/dividends.db", disk.display()),
            )
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "off")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server in namespaces of its own (util-linux's `unshare`)"),
    );
    wait_for(port);
    let in_server_namespace = |script: &str| {
        Command::new("nsenter")
            .args(["--target", &server.0.id().to_string()])
            .args(["--user", "--mount", "--preserve-credentials", "sh", "-c"])
            .arg(script)
            .arg(&disk)
            .status()
            .expect("run a command beside the server (util-linux's `nsenter`)")
    };
    // The database is on the server's own disk: the user and the token are
    // made there, with the example's commands run beside the server.
    let example = |command: &str| {
        let output = Command::new("nsenter")
            .args(["--target", &server.0.id().to_string()])
            .args(["--user", "--mount", "--preserve-credentials", "sh", "-c"])
            .arg(format!(
                r#"DATABASE_URL="sqlite://$0/dividends.db" FW_SECRET_KEYS="$2" FW_LOG=off "$1" {command}"#
            ))
            .arg(&disk)
            .arg(example_binary())
            .arg(fw::testing::TEST_SECRET_KEYS)
            .output()
            .expect("run the example beside the server (util-linux's `nsenter`)");
        assert!(
            output.status.success(),
            "`{command}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    example("createuser tester --superuser --no-password");
    let token = example("createtoken tester --name tests");
    let token = token.trim();
    let create = |n: usize| {
        post(
            port,
            token,
            "/securities",
            &format!(
                r#"{{"symbol": "F{n}", "cusip": "{n:0>9}", "name": "{}"}}"#,
                "n".repeat(100)
            ),
        )
        .expect("an answer")
    };

    // Fills the disk (`head` fails when it is full, as it should).
    in_server_namespace(r#"head -c 16777216 /dev/zero > "$0/filler""#);
    let mut refused = None;
    for n in 0..200 {
        let head = create(n);
        if head.starts_with("HTTP/1.1 503") {
            refused = Some(head);
            break;
        }
        assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    }
    let refused = refused.expect("a write on a full disk is refused");
    assert!(
        refused.to_ascii_lowercase().contains("retry-after: "),
        "{refused}"
    );
    assert!(refused.contains("application/problem+json"), "{refused}");

    let freed = in_server_namespace(r#"rm "$0/filler""#);
    assert!(freed.success(), "free the space");
    let head = create(1000);
    assert!(head.starts_with("HTTP/1.1 201"), "{head}");
}

/// `changes tail --follow` as a process, through a database outage: it keeps
/// retrying, and once the database is back it prints the changes made
/// meanwhile and goes on, none missed and none twice.
#[test]
fn a_follow_tail_rides_out_a_database_outage() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let test_db = runtime.block_on(fw::testing::TestDb::postgres());
    let url = test_db.url();
    let (host_port, upstream) = postgres_address(&url);
    let dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    // The server reaches the database directly; only the tail goes through
    // the relay that is cut.
    let _server = Running(
        Command::new(example_binary())
            .env("DATABASE_URL", &url)
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "warn")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server"),
    );
    wait_for(port);
    let token = superuser_token(&url, "tester");
    let create = |symbol: &str| {
        let head = post(
            port,
            &token,
            "/securities",
            &format!(r#"{{"symbol": "{symbol}", "cusip": "{symbol:0>9}", "name": "Tail"}}"#),
        )
        .expect("an answer");
        assert!(head.starts_with("HTTP/1.1 201"), "{head}");
    };
    create("TAIL1");

    let relay = Relay::start(([127, 0, 0, 1], 0).into(), upstream);
    let address = relay.address;
    let mut tail = Running(
        Command::new(example_binary())
            .args(["changes", "tail", "--follow"])
            .env(
                "DATABASE_URL",
                url.replacen(&host_port, &address.to_string(), 1),
            )
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LOG", "warn")
            .env("FW_DATABASE_WAIT_TIMEOUT", "1")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the tail"),
    );
    let (lines, printed) = std::sync::mpsc::channel();
    let stdout = tail.0.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut read_until = |symbol: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !seen.iter().any(|line: &String| line.contains(symbol)) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = printed
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the tail printed no change of {symbol}"));
            seen.push(line);
        }
    };
    read_until("TAIL1");

    relay.stop();
    create("TAIL2");
    create("TAIL3");
    // Long enough for the tail to fail a read or two and back off.
    std::thread::sleep(Duration::from_secs(2));
    let relay = Relay::start(address, upstream);
    read_until("TAIL3");
    create("TAIL4");
    read_until("TAIL4");

    let seqs: Vec<i64> = seen
        .iter()
        .map(|line| {
            line.strip_prefix("{\"seq\":")
                .and_then(|rest| rest.split(',').next())
                .and_then(|seq| seq.parse().ok())
                .unwrap_or_else(|| panic!("a change as a JSON line: {line}"))
        })
        .collect();
    let dense: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, dense, "every change once, in order");
    assert!(seen.iter().any(|line| line.contains("TAIL2")));
    relay.stop();
    drop(tail);
    drop(test_db);
}

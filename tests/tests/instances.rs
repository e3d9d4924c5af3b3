//! Three instances of the dividends example on one PostgreSQL database, as a
//! deployment runs them: writes spread across the three, every instance's live
//! change-log tail sees every change in one order (not only its own process's
//! writes), a browser session made on one instance works on the others and
//! its logout ends it on all of them, and one rate-limit budget holds across
//! them through Redis.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{example_binary, free_port, redis_url, wait_for};

mod support;

/// A server process, killed when dropped.
struct Instance {
    process: Child,
    port: u16,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A response: the status code, the head's lines, the body.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (field, value) = line.split_once(':')?;
            field.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// Sends a request with `headers` (each `Name: value`) and a JSON `body`.
fn request(port: u16, method: &str, path: &str, headers: &[String], body: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    write!(stream, "{head}\r\n{body}").expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .expect("a status");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Runs one of the example's commands on `database_url`, with `input` on
/// its standard input, and returns what it printed.
fn example(database_url: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(example_binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
        .env("FW_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the example");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .expect("write standard input");
    let output = child.wait_with_output().expect("the command ends");
    assert!(
        output.status.success(),
        "`{}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// Starts an instance serving `database_url` with `environment` added.
fn start(database_url: &str, environment: &[(&str, String)]) -> Instance {
    let port = free_port();
    let mut command = Command::new(example_binary());
    command
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
        .env("FW_LISTEN", format!("127.0.0.1:{port}"))
        .env("FW_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in environment {
        command.env(name, value);
    }
    let instance = Instance {
        process: command.spawn().expect("start an instance"),
        port,
    };
    wait_for(port);
    instance
}

/// The sequence numbers of the changes an instance's live tail
/// (`GET /changes/stream`) sends, as they arrive.
fn live_tail(port: u16, token: &str) -> mpsc::Receiver<i64> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET /changes/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("send");
    let (sent, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(seq) = line
                .strip_prefix("id:")
                .and_then(|id| id.trim().parse().ok())
                && sent.send(seq).is_err()
            {
                break;
            }
        }
    });
    received
}

#[test]
fn three_instances_share_the_change_log_sessions_and_rate_limits() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let test_db = runtime.block_on(fw::testing::TestDb::postgres());
    let url = test_db.url();
    example(&url, &["migrate"], "");
    example(
        &url,
        &["createuser", "operator", "--superuser"],
        "correct horse battery\ncorrect horse battery\n",
    );
    let token = example(&url, &["createtoken", "operator", "--name", "tests"], "")
        .trim()
        .to_owned();
    // One write budget for the token, across the three, through Redis: a
    // key prefix of this test's own, so parallel tests share nothing.
    const WRITES_ALLOWED: usize = 16;
    let shared_limits = [
        ("FW_REDIS_URL", redis_url()),
        (
            "FW_REDIS_KEY_PREFIX",
            format!("fw-test-instances:{}:{}:", std::process::id(), free_port()),
        ),
        ("FW_RATE_LIMIT_WRITES", format!("{WRITES_ALLOWED}/hour")),
    ];
    let instances: Vec<Instance> = (0..3).map(|_| start(&url, &shared_limits)).collect();
    let bearer = format!("Authorization: Bearer {token}");

    // Every instance's live tail, opened before the writes.
    let tails: Vec<mpsc::Receiver<i64>> = instances
        .iter()
        .map(|instance| live_tail(instance.port, &token))
        .collect();
    // Writes spread over the three instances.
    const WRITES: usize = 12;
    for index in 0..WRITES {
        let instance = &instances[index % instances.len()];
        let symbol = format!("INST{index}");
        let reply = request(
            instance.port,
            "POST",
            "/securities",
            std::slice::from_ref(&bearer),
            &format!(r#"{{"symbol": "{symbol}", "cusip": "{symbol:0>9}", "name": "Spread"}}"#),
        );
        assert_eq!(reply.status, 201, "{}\n{}", reply.head, reply.body);
    }
    let mut orders = Vec::new();
    for (number, tail) in tails.iter().enumerate() {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while seen.len() < WRITES {
            let left = deadline.saturating_duration_since(Instant::now());
            let seq = tail.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "instance {number}'s tail saw {} of {WRITES} changes",
                    seen.len()
                )
            });
            seen.push(seq);
        }
        assert!(
            seen.windows(2).all(|pair| pair[0] < pair[1]),
            "instance {number}: {seen:?}"
        );
        orders.push(seen);
    }
    assert!(
        orders.iter().all(|order| *order == orders[0]),
        "every tail sees the same changes in the same order: {orders:?}"
    );

    // The writes above used 12 of the token's 16 on all three together; the
    // rest go on any instance, and then every instance refuses the next.
    for index in WRITES..WRITES_ALLOWED {
        let reply = request(
            instances[index % instances.len()].port,
            "DELETE",
            "/securities/999999",
            std::slice::from_ref(&bearer),
            "",
        );
        assert_eq!(reply.status, 404, "{}\n{}", reply.head, reply.body);
    }
    for instance in &instances {
        let reply = request(
            instance.port,
            "DELETE",
            "/securities/999999",
            std::slice::from_ref(&bearer),
            "",
        );
        assert_eq!(reply.status, 429, "{}\n{}", reply.head, reply.body);
        assert!(reply.header("retry-after").is_some(), "{}", reply.head);
    }

    // A browser session made on one instance is good on the others, and
    // logging out on one ends it everywhere.
    let login = request(
        instances[0].port,
        "POST",
        "/auth/login",
        &[],
        r#"{"username": "operator", "password": "correct horse battery"}"#,
    );
    assert_eq!(login.status, 200, "{}\n{}", login.head, login.body);
    let cookie = login
        .header("set-cookie")
        .and_then(|cookie| cookie.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let with_cookie = || vec![format!("Cookie: {cookie}")];
    for instance in &instances[1..] {
        let me = request(instance.port, "GET", "/auth/me", &with_cookie(), "");
        assert_eq!(me.status, 200, "{}\n{}", me.head, me.body);
        assert!(me.body.contains("\"operator\""), "{}", me.body);
    }
    let port = instances[2].port;
    let mut logout_headers = with_cookie();
    logout_headers.push(format!("Origin: http://127.0.0.1:{port}"));
    let logout = request(port, "POST", "/auth/logout", &logout_headers, "");
    assert!(
        (200..300).contains(&logout.status),
        "{}\n{}",
        logout.head,
        logout.body
    );
    for instance in &instances {
        let me = request(instance.port, "GET", "/auth/me", &with_cookie(), "");
        assert_eq!(me.status, 401, "{}\n{}", me.head, me.body);
    }
}

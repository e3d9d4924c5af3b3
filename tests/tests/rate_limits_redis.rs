//! Rate limits held across instances: two served processes of the example,
//! each with its own memory, share every caller's budget through one Redis.
//! Needs a Redis server (`FW_TEST_REDIS_URL`, default 127.0.0.1:6379); fails,
//! saying how to start one, when none answers.

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::{example_binary, free_port, redis_url, superuser_token, wait_for};

/// A served example, killed when dropped.
struct Instance {
    child: Child,
    port: u16,
}

impl Instance {
    /// Serves the example on the SQLite database in `dir`, sharing rate
    /// limits through Redis under `key_prefix`.
    fn start(dir: &Path, redis_url: &str, key_prefix: &str) -> Instance {
        let port = free_port();
        let child = Command::new(example_binary())
            .args(["serve", "--migrate"])
            .env("DATABASE_URL", database_url(dir))
            .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FW_LOG", "warn")
            .env("FW_RATE_LIMIT_READS", "6/minute")
            .env("FW_REDIS_URL", redis_url)
            .env("FW_REDIS_KEY_PREFIX", key_prefix)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the example");
        wait_for(port);
        Instance { child, port }
    }

    /// The response to `GET path` with the extra header lines `headers`.
    fn get(&self, path: &str, headers: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .write_all(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example's database in `dir`.
fn database_url(dir: &Path) -> String {
    format!("sqlite://{}/dividends.db", dir.display())
}

/// The head's value of `name`, lowercase, if there.
fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|line| {
        let (field, value) = line.split_once(':')?;
        field.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Requests to two instances in turn spend one budget: the seventh, on
/// either, is a 429 with `Retry-After` and the `RateLimit` headers. A token
/// sent from the same address has a budget of its own, shared too.
#[test]
fn two_served_instances_share_a_caller_s_limit_through_redis() {
    let redis_url = redis_url();
    let key_prefix = format!("fw-test:{}:{}:", std::process::id(), free_port());
    let dir = tempfile::tempdir().unwrap();
    // One after the other: the first migrates the database they share.
    let first = Instance::start(dir.path(), &redis_url, &key_prefix);
    let second = Instance::start(dir.path(), &redis_url, &key_prefix);
    for (request, remaining) in (0..6).zip((0..6).rev()) {
        let instance = if request % 2 == 0 { &first } else { &second };
        let response = instance.get("/openapi.json", "");
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "request {request}: {response:.300}"
        );
        assert_eq!(
            header(&response, "ratelimit-policy"),
            Some("\"reads\";q=6;w=60")
        );
        let limit = header(&response, "ratelimit").unwrap_or_default();
        assert!(
            limit.starts_with(&format!("\"reads\";r={remaining};")),
            "{limit}"
        );
    }
    for instance in [&first, &second] {
        let refused = instance.get("/openapi.json", "");
        assert!(refused.starts_with("HTTP/1.1 429"), "{refused:.300}");
        assert_eq!(
            header(&refused, "content-type"),
            Some("application/problem+json")
        );
        // One request more every 10 seconds, less the time the six took.
        let retry_after = header(&refused, "retry-after").unwrap_or_default();
        assert!(
            retry_after
                .parse::<u64>()
                .is_ok_and(|seconds| (1..=10).contains(&seconds)),
            "{refused:.300}"
        );
        let limit = format!("\"reads\";r=0;t={retry_after}");
        assert_eq!(header(&refused, "ratelimit"), Some(limit.as_str()));
        assert!(refused.contains("rate-limit group `reads`"), "{refused}");
    }
    let token = superuser_token(&database_url(dir.path()), "limited");
    let authorization = format!("Authorization: Bearer {token}\r\n");
    for (instance, remaining) in [(&first, 5), (&second, 4)] {
        let response = instance.get("/dividends", &authorization);
        assert!(response.starts_with("HTTP/1.1 200"), "{response:.300}");
        let limit = header(&response, "ratelimit").unwrap_or_default();
        assert!(
            limit.starts_with(&format!("\"reads\";r={remaining};")),
            "{limit}"
        );
    }
}

//! `fw new`, end to end, as a new user meets it: the new application builds
//! against this checkout, its own tests pass, it serves its API, OpenAPI document
//! and docs over real HTTP, and after
//! a field is added to its model `fw makemigrations` writes the next migration and
//! `fw migrate` applies it. Plus the refusals, which must write nothing.
//!
//! The application is built with this workspace's target directory, so only the
//! application itself is compiled, not fw and its dependencies again.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A command for a child that builds or runs the new application: this
/// workspace's target directory, and none of the settings a developer's shell
/// might carry that would change what the application does.
fn command(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("DATABASE_URL")
        .env_remove("FW_LISTEN")
        .env_remove("FW_LOG")
        .env_remove("RUST_LOG");
    command
}

fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// The `fw` binary, built from this checkout.
fn fw_binary() -> PathBuf {
    let status = Command::new(cargo())
        .args(["build", "--quiet", "-p", "fw-cli", "--bin", "fw"])
        .current_dir(workspace_root())
        .status()
        .expect("run cargo build");
    assert!(status.success(), "building fw failed");
    target_dir().join("debug").join("fw")
}

fn run(mut command: Command) -> Output {
    let output = command.output().expect("run the command");
    eprintln!(
        "$ {command:?}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Sends one HTTP/1.1 request, with `Authorization: Bearer <token>` when
/// given, and returns the status line and the body.
fn request(
    port: u16,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("set a read timeout");
    let body = body.unwrap_or_default();
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n{authorization}\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// The application's binary, running until dropped or terminated.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(binary: &Path, app_dir: &Path) -> Server {
        let port = free_port();
        let child = command(binary, app_dir)
            .env("FW_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the application");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().expect("poll the application") {
                panic!("the application exited ({status}):\n{}", server.logs());
            }
            assert!(Instant::now() < deadline, "the application did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn logs(&mut self) -> String {
        let mut logs = String::new();
        if let Some(stderr) = self.child.stderr.take() {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                logs.push_str(&line);
                logs.push('\n');
            }
        }
        logs
    }

    /// Sends SIGTERM and returns the exit status and the logs.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|status| status.success()), "send SIGTERM");
        let status = self.child.wait().expect("wait for the application");
        (status, self.logs())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn migration_files(app_dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(app_dir.join("migrations"))
        .expect("the migrations directory")
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_new_application_builds_passes_its_tests_serves_and_migrates_a_changed_model() {
    let fw = fw_binary();
    let temp = tempfile::tempdir().expect("temporary directory");
    let app_dir = temp.path().join("notebook");

    let created = run({
        let mut fw_new = command(&fw, temp.path());
        fw_new.args(["new", "notebook"]);
        fw_new
    });
    assert_success(&created, "fw new");
    let manifest = std::fs::read_to_string(app_dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("name = \"notebook\""), "{manifest}");
    assert!(manifest.contains("[workspace]"), "{manifest}");
    let framework = workspace_root()
        .join("framework")
        .canonicalize()
        .expect("framework");
    assert!(
        manifest.contains(&format!("path = \"{}\"", framework.display())),
        "the default dependency is this checkout:\n{manifest}"
    );

    // Building and testing the application: its tests include the HTTP tests and
    // the `makemigrations --check` test.
    let started = Instant::now();
    let tested = run({
        let mut cargo_test = command(cargo(), &app_dir);
        cargo_test.args(["test", "--quiet"]);
        cargo_test
    });
    assert_success(&tested, "cargo test in the new application");
    eprintln!(
        "building and testing the new application took {:?}",
        started.elapsed()
    );

    // Served over real HTTP with no set-up: the first run migrates a SQLite
    // database under data/.
    let binary = target_dir().join("debug").join("notebook");
    let server = Server::start(&binary, &app_dir);
    let port = server.port;
    // Nothing is public: a user with the template's role, and their token,
    // made with the application's commands as its README's tour does.
    let (status, body) = request(port, None, "GET", "/notes", None);
    assert!(status.starts_with("HTTP/1.1 401"), "{status}\n{body}");
    let created = run({
        let mut createuser = command(&binary, &app_dir);
        createuser.args(["createuser", "alice", "--no-password", "--role", "editor"]);
        createuser
    });
    assert_success(&created, "createuser");
    let made = run({
        let mut createtoken = command(&binary, &app_dir);
        createtoken.args(["createtoken", "alice", "--name", "test"]);
        createtoken
    });
    assert_success(&made, "createtoken");
    let token = String::from_utf8(made.stdout).expect("UTF-8");
    let token = Some(token.trim());
    let (status, body) = request(
        port,
        token,
        "POST",
        "/notes",
        Some(r#"{"title": "Groceries", "body": "eggs, milk"}"#),
    );
    assert!(status.starts_with("HTTP/1.1 201"), "{status}\n{body}");
    assert!(body.contains(r#""title":"Groceries""#), "{body}");
    let (status, body) = request(port, token, "GET", "/notes?search=grocer", None);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}\n{body}");
    assert!(body.contains(r#""body":"eggs, milk""#), "{body}");
    let (status, body) = request(port, token, "POST", "/notes", Some(r#"{"title": ""}"#));
    assert!(status.starts_with("HTTP/1.1 422"), "{status}\n{body}");
    assert!(body.contains(r#""pointer":"/title""#), "{body}");
    let (status, body) = request(port, None, "GET", "/openapi.json", None);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let committed = std::fs::read_to_string(app_dir.join("openapi.json")).expect("openapi.json");
    assert_eq!(
        body.trim_end(),
        committed.trim_end(),
        "the served document is the committed one"
    );
    let (status, _) = request(port, None, "GET", "/docs", None);
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status}; logs:\n{logs}");
    assert!(
        app_dir.join("data").join("notebook.db").exists(),
        "the database was created on first run"
    );

    // A new field, on the model alone (its resource takes every model field):
    // `fw makemigrations` (forwarded to the application) writes the next
    // migration, and `fw migrate` applies it to the database served above.
    let anchor = "    /// When the note was created.\n";
    let path = app_dir.join("src").join("models.rs");
    let source = std::fs::read_to_string(&path).expect("read the source");
    assert!(
        source.contains(anchor),
        "the template's models.rs changed:\n{source}"
    );
    let field = "    #[field(default = false)]\n    pub pinned: bool,\n";
    let source = source.replacen(anchor, &format!("    /// Shown first.\n{field}{anchor}"), 1);
    std::fs::write(&path, source).expect("write the source");

    let made = run({
        let mut makemigrations = command(&fw, &app_dir.join("src"));
        makemigrations.arg("makemigrations");
        makemigrations
    });
    assert_success(&made, "fw makemigrations");
    let files = migration_files(&app_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[1].starts_with("0002_"), "{files:?}");
    let migration =
        std::fs::read_to_string(app_dir.join("migrations").join(&files[1])).expect("0002");
    assert!(migration.contains("pinned"), "{migration}");

    let migrated = run({
        let mut migrate = command(&fw, &app_dir);
        migrate.arg("migrate");
        migrate
    });
    assert_success(&migrated, "fw migrate");
    let stdout = String::from_utf8_lossy(&migrated.stdout);
    assert!(
        stdout.contains(files[1].trim_end_matches(".toml")),
        "{stdout}"
    );

    let checked = run({
        let mut check = command(&fw, &app_dir);
        check.arg("check");
        check
    });
    assert_success(&checked, "fw check after migrating");

    // The rebuilt application serves the new field from the migrated database.
    let server = Server::start(&binary, &app_dir);
    let (status, body) = request(
        server.port,
        token,
        "POST",
        "/notes",
        Some(r#"{"title": "Call the bank", "body": "", "pinned": true}"#),
    );
    assert!(status.starts_with("HTTP/1.1 201"), "{status}\n{body}");
    assert!(body.contains(r#""pinned":true"#), "{body}");
    let (status, body) = request(server.port, token, "GET", "/notes?search=groceries", None);
    assert!(body.contains(r#""pinned":false"#), "{status}\n{body}");
}

/// `fw new --no-sample`: no sample model, and a first migration and OpenAPI
/// document the application wrote itself, with fw's own tables and endpoints
/// only and no history; its tests pass as they stand.
#[test]
fn without_the_sample_the_first_migration_and_document_are_written_fresh() {
    let fw = fw_binary();
    let temp = tempfile::tempdir().expect("temporary directory");
    let app_dir = temp.path().join("ledger");

    let created = run({
        let mut fw_new = command(&fw, temp.path());
        fw_new.args(["new", "ledger", "--no-sample"]);
        fw_new
    });
    assert_success(&created, "fw new --no-sample");
    let stderr = String::from_utf8_lossy(&created.stderr);
    assert!(
        stderr.contains("Compiling ledger"),
        "cargo's progress: {stderr}"
    );

    assert_eq!(migration_files(&app_dir), ["0001_initial.toml"]);
    let migration = std::fs::read_to_string(app_dir.join("migrations/0001_initial.toml"))
        .expect("the first migration");
    assert!(migration.contains("table = \"fw_user\""), "{migration}");
    assert!(!migration.contains("table = \"note\""), "{migration}");
    let document = std::fs::read_to_string(app_dir.join("openapi.json")).expect("openapi.json");
    assert!(document.contains("/auth/me"), "{document}");
    assert!(!document.contains("/notes"), "{document}");
    assert!(
        !app_dir.join("openapi-changes.md").exists(),
        "a first document has no history"
    );
    let models = std::fs::read_to_string(app_dir.join("src/models.rs")).expect("models.rs");
    assert!(!models.contains("Note"), "{models}");

    let tested = run({
        let mut cargo_test = command(cargo(), &app_dir);
        cargo_test.args(["test", "--quiet"]);
        cargo_test
    });
    assert_success(&tested, "cargo test in the application without the sample");
}

#[test]
fn fw_new_refuses_an_existing_directory_and_writes_nothing() {
    let fw = fw_binary();
    let temp = tempfile::tempdir().expect("temporary directory");
    let existing = temp.path().join("notebook");
    std::fs::create_dir(&existing).expect("create the directory");
    std::fs::write(existing.join("keep.txt"), "mine").expect("write a file");

    let refused = run({
        let mut fw_new = command(&fw, temp.path());
        fw_new.args(["new", "notebook"]);
        fw_new
    });
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    let entries: Vec<_> = std::fs::read_dir(&existing)
        .expect("read the directory")
        .collect();
    assert_eq!(entries.len(), 1, "only the user's own file");
}

#[test]
fn fw_new_rejects_names_that_are_not_crate_names_and_writes_nothing() {
    let fw = fw_binary();
    let temp = tempfile::tempdir().expect("temporary directory");
    for (name, reason) in [
        ("My App", "must start with a lowercase letter"),
        ("my.app", "`.` is not allowed"),
        ("fn", "Rust keyword"),
    ] {
        let refused = run({
            let mut fw_new = command(&fw, temp.path());
            fw_new.args(["new", name]);
            fw_new
        });
        assert_eq!(refused.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains("not a valid application name"), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
    }
    let entries: Vec<_> = std::fs::read_dir(temp.path())
        .expect("read the directory")
        .collect();
    assert!(entries.is_empty(), "nothing was written");
}

//! Backend-agnostic cases for the example's change log: what an import of the
//! daily file records, read in code, over HTTP and with `changes tail`;
//! `changes_sqlite.rs` and `changes_postgres.rs` run each against their own
//! migrated database.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use example_dividends::models::{Dividend, Security};
use fw::auth::User;
use fw::changes::{self, Change, Operation};
use fw::testing::TestDb;
use fw::{Db, Model};
use serde_json::Value;
use tower::ServiceExt as _;

const NORMAL_DAY: &str = "2026-03-16-normal.txt";
const CORRECTIONS_DAY: &str = "2026-03-17-corrections.txt";
/// How long the tests wait for a line of `changes tail --follow` or for it to exit.
const TIMEOUT: Duration = Duration::from_secs(20);

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// The operator every import here runs as.
const OPERATOR: &str = "olivia";

/// A fresh database set up as a deployment sets one up: `migrate` (the
/// example's migrations and its declared roles), then `createuser` for an
/// operator with the `operations` role.
async fn migrated_with_operator(test_db: TestDb) -> TestDb {
    let commands: [&[&str]; 2] = [
        &["migrate"],
        &[
            "createuser",
            OPERATOR,
            "--no-password",
            "--role",
            "operations",
        ],
    ];
    for args in commands {
        let code = example_dividends::app()
            .default_database_url(test_db.url())
            .secret_keys(fw::testing::test_keyring())
            .run_with(std::iter::once("example-dividends").chain(args.iter().copied()))
            .await;
        assert_eq!(code, ExitCode::SUCCESS, "`{}`", args.join(" "));
    }
    test_db
}

/// The change log's actor of an import by [`OPERATOR`].
async fn operator_actor(db: &Db) -> String {
    let operator = User::query()
        .filter(User::USERNAME.eq(OPERATOR))
        .first(db)
        .await
        .expect("query")
        .expect("the operator");
    format!("user:{}/command:import-dividends", operator.id)
}

/// Runs `import-dividends` in-process, as the command line would.
async fn import_with_command(test_db: &TestDb, name: &str) {
    let code = example_dividends::app()
        .default_database_url(test_db.url())
        .secret_keys(fw::testing::test_keyring())
        .run_with([
            "example-dividends".into(),
            "import-dividends".into(),
            sample(name).into_os_string(),
            "--operator".into(),
            OPERATOR.into(),
        ])
        .await;
    assert_eq!(code, ExitCode::SUCCESS, "importing {name}");
}

async fn log_after(db: &Db, seq: i64) -> Vec<Change> {
    changes::after(seq)
        .fetch(db)
        .await
        .expect("read the change log")
}

/// Each change in one line: the model, the row by its business key, and what
/// happened to it (every changed field but the timestamp, old -> new).
async fn what_changed(db: &Db, log: &[Change]) -> Vec<String> {
    let announcements: HashMap<String, String> = Dividend::query()
        .all(db)
        .await
        .expect("list dividends")
        .into_iter()
        .map(|dividend| (dividend.id.to_string(), dividend.announcement_id))
        .collect();
    let symbols: HashMap<String, String> = Security::query()
        .all(db)
        .await
        .expect("list securities")
        .into_iter()
        .map(|security| (security.id.to_string(), security.symbol))
        .collect();
    log.iter()
        .map(|change| {
            let names = if change.model == Dividend::TABLE {
                &announcements
            } else {
                &symbols
            };
            let row = &names[&change.key];
            let what = match change.operation {
                Operation::Insert => "new".to_owned(),
                Operation::Delete => "deleted".to_owned(),
                Operation::Update => change
                    .fields
                    .iter()
                    .filter(|field| field.field != "updated_at")
                    .map(|field| {
                        let value = |value: &Option<Value>| value.clone().unwrap_or_default();
                        format!(
                            "{} {} -> {}",
                            field.field,
                            value(&field.old),
                            value(&field.new)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("{} {row}: {what}", change.model)
        })
        .collect()
}

pub(crate) async fn an_import_shows_up_in_the_log_as_what_changed(test_db: TestDb) {
    let db = test_db.db();
    import_with_command(&test_db, NORMAL_DAY).await;
    let first_day = log_after(db, 0).await;
    assert_eq!(first_day.len(), 24, "12 securities and 12 announcements");
    assert!(
        first_day
            .iter()
            .all(|change| change.operation == Operation::Insert)
    );
    let first_run = first_day[0].request_id.clone();
    assert!(first_run.is_some(), "a command run has a request id");
    let actor = operator_actor(db).await;
    for change in &first_day {
        assert_eq!(
            change.actor.as_ref(),
            Some(&actor),
            "the operator who imported"
        );
        assert_eq!(change.request_id, first_run, "one id for the whole run");
    }

    let end_of_first_day = first_day.last().expect("changes").seq;
    import_with_command(&test_db, CORRECTIONS_DAY).await;
    let second_day = log_after(db, end_of_first_day).await;
    assert_eq!(
        what_changed(db, &second_day).await,
        [
            r#"security JPM: name "JPMorgan Chase & Co" -> "JPMorgan Chase & Co.""#,
            "security CVX: new",
            "security HD: new",
            r#"dividend DV2026031600005: rate "0.51" -> "0.53", status "announced" -> "changed""#,
            r#"dividend DV2026031600008: pay_date "2026-03-31" -> "2026-04-15", status "announced" -> "changed""#,
            r#"dividend DV2026031600009: status "announced" -> "cancelled""#,
            r#"dividend DV2026031600011: status "announced" -> "cancelled""#,
            "dividend DV2026031700001: new",
            "dividend DV2026031700002: new",
            "dividend DV2026031700003: new",
        ],
        "the day's corrections, cancellations and new announcements, and nothing else"
    );
    let second_run = second_day[0].request_id.clone();
    assert_ne!(second_run, first_run, "each run has its own request id");
    assert!(
        second_day
            .iter()
            .all(|change| change.request_id == second_run)
    );

    // Importing the same file again changes nothing, so records nothing.
    import_with_command(&test_db, CORRECTIONS_DAY).await;
    let end_of_second_day = second_day.last().expect("changes").seq;
    assert_eq!(log_after(db, end_of_second_day).await, []);

    // The application serves the same list at `/changes`.
    let uri = format!("/changes?after={end_of_first_day}&model=dividend");
    let response = example_dividends::app()
        .router(test_db.context())
        .oneshot(
            Request::get(uri)
                .extension(fw::testing::superuser())
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    let dividend_changes: Vec<&Change> = second_day
        .iter()
        .filter(|change| change.model == "dividend")
        .collect();
    assert_eq!(
        body["results"],
        serde_json::to_value(&dividend_changes).expect("JSON")
    );
    assert_eq!(body["next"], Value::Null);
}

/// `DELETE /securities/{id}` removes the security's dividends with it (their
/// foreign key cascades), and the log shows each removed dividend before the
/// security, so a consumer's copy keeps no dividend of a deleted security.
pub(crate) async fn deleting_a_security_records_the_dividends_removed_with_it(test_db: TestDb) {
    import_with_command(&test_db, NORMAL_DAY).await;
    let db = test_db.db();
    let dividends = Dividend::query().all(db).await.expect("dividends");
    let paying = dividends[0].security.key().to_owned();
    let mut removed: Vec<String> = dividends
        .iter()
        .filter(|dividend| *dividend.security.key() == paying)
        .map(|dividend| dividend.id.to_string())
        .collect();
    removed.sort_by_key(|id| id.parse::<i64>().expect("an integer key"));
    let before = log_after(db, 0)
        .await
        .last()
        .expect("the import's changes")
        .seq;

    let response = example_dividends::app()
        .router(test_db.context())
        .oneshot(
            Request::delete(format!("/securities/{paying}"))
                .extension(fw::testing::superuser())
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    let written: Vec<(String, Operation, String)> = log_after(db, before)
        .await
        .into_iter()
        .map(|change| (change.model, change.operation, change.key))
        .collect();
    let mut expected: Vec<(String, Operation, String)> = removed
        .into_iter()
        .map(|key| ("dividend".to_owned(), Operation::Delete, key))
        .collect();
    expected.push(("security".to_owned(), Operation::Delete, paying.to_string()));
    assert!(expected.len() > 1, "the security pays dividends");
    assert_eq!(written, expected);
}

/// The built binary, with the test's database.
fn example(test_db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_example-dividends"));
    command
        .env("DATABASE_URL", test_db.url())
        .env("FW_SECRET_KEYS", fw::testing::TEST_SECRET_KEYS)
        .env("FW_LOG", "warn")
        .current_dir(std::env::temp_dir());
    command
}

fn run(test_db: &TestDb, args: &[&str]) -> String {
    let output = example(test_db)
        .args(args)
        .output()
        .expect("run the example");
    assert!(
        output.status.success(),
        "`{}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

fn parse_lines(output: &str) -> Vec<Change> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is a change"))
        .collect()
}

pub(crate) async fn the_tail_command_prints_the_log_as_json_lines(test_db: TestDb) {
    let import = |name: &str| {
        run(
            &test_db,
            &[
                "import-dividends",
                &sample(name).to_string_lossy(),
                "--operator",
                OPERATOR,
            ],
        )
    };
    import(NORMAL_DAY);
    let everything = parse_lines(&run(&test_db, &["changes", "tail"]));
    assert_eq!(everything, log_after(test_db.db(), 0).await);
    let dividends = parse_lines(&run(&test_db, &["changes", "tail", "--model", "dividend"]));
    assert_eq!(dividends.len(), 12);
    assert!(dividends.iter().all(|change| change.model == "dividend"));
    let seqs = |changes: &[Change]| changes.iter().map(|c| c.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(&parse_lines(&run(
            &test_db,
            &["changes", "tail", "--after", "20"]
        ))),
        [21, 22, 23, 24]
    );

    // `--follow` prints changes as they commit, until SIGTERM.
    let mut tail = example(&test_db)
        .args(["changes", "tail", "--follow", "--after", "24"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start `changes tail --follow`");
    let stdout = tail.stdout.take().expect("piped stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    import(CORRECTIONS_DAY);
    let followed: Vec<Change> = (0..10)
        .map(|_| {
            let line = received
                .recv_timeout(TIMEOUT)
                .expect("the tail prints each new change");
            serde_json::from_str(&line).expect("a change")
        })
        .collect();
    assert_eq!(seqs(&followed), (25..=34).collect::<Vec<_>>());
    assert_eq!(followed, log_after(test_db.db(), 24).await);

    terminate(&tail);
    let status = wait_for_exit(&mut tail, "the tail");
    assert!(status.success(), "a stopped tail exits cleanly: {status}");
}

/// Waits for `child` to exit, at most [`TIMEOUT`].
fn wait_for_exit(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        assert!(started.elapsed() < TIMEOUT, "{what} stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(sent.success());
}

/// A graceful shutdown waits for open responses, and a live tail never ends by
/// itself: the server must end it, or SIGTERM would never stop the process.
pub(crate) async fn the_server_stops_on_sigterm_with_a_live_tail_open(test_db: TestDb) {
    run(
        &test_db,
        &[
            "createuser",
            "carol",
            "--no-password",
            "--role",
            "compliance",
        ],
    );
    let token = run(&test_db, &["createtoken", "carol", "--name", "tail"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let mut server = example(&test_db)
        .env("FW_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let started = Instant::now();
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if started.elapsed() < TIMEOUT => std::thread::sleep(Duration::from_millis(50)),
            Err(error) => panic!("the server does not listen: {error}"),
        }
    };
    stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let request = format!(
        "GET /changes/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\
         Authorization: Bearer {}\r\n\r\n",
        token.trim()
    );
    std::io::Write::write_all(&mut stream, request.as_bytes()).expect("send the request");
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("a response");
    assert!(status_line.contains(" 200 "), "{status_line}");
    // The sample data loaded at start-up is in the log: the first event arrives.
    let mut line = String::new();
    while !line.starts_with("id:") {
        line.clear();
        reader.read_line(&mut line).expect("an event");
    }
    assert_eq!(line.trim(), "id: 1");

    terminate(&server);
    let status = wait_for_exit(&mut server, "the server with a live tail open");
    assert!(status.success(), "a stopped server exits cleanly: {status}");
}

/// Runs `case` on a fresh database migrated with the example's migrations,
/// with an operator to import as.
async fn on_migrated(test_db: TestDb, case: impl AsyncFnOnce(TestDb)) {
    case(migrated_with_operator(test_db).await).await;
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    run: on_migrated,
    cases: [
        an_import_shows_up_in_the_log_as_what_changed,
        the_tail_command_prints_the_log_as_json_lines,
        the_server_stops_on_sigterm_with_a_live_tail_open,
        deleting_a_security_records_the_dividends_removed_with_it,
    ],
}

//! Backend-agnostic cases for what the perimeter's outermost layer observes:
//! each request's access-log line, captured by a tracing subscriber of the
//! test's own, and the metrics, scraped from `GET /metrics` and parsed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{Response, StatusCode};
use axum::routing::get;
use fw::testing::TestDb;
use fw::{AccessLog, App, Model as _};
use serde_json::Value as Json;
use tower::ServiceExt as _;

#[fw::model(changelog)]
pub(crate) struct Note {
    pub(crate) id: i64,
    #[field(max_length = 200)]
    pub(crate) text: String,
}

/// An app with identity on, a model that records changes and its change
/// log, `GET /items/{id}`, `GET /metered/{id}` (which only the metrics case
/// calls, as tests in one process share the metrics) and a route where a
/// health probe's would be.
/// The metrics recorder is one per process, and under `cargo test` the tests
/// of one binary run at once in one process: each test here holds its turn
/// while it sends requests, so the counts and gauges it reads are its own.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn app(test_db: &TestDb) -> App {
    let item = || get(|Path(id): Path<i64>| async move { format!("item {id}") });
    App::new("observed", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .model::<Note>()
        .change_log_api()
        .auth()
        .routes(move |app| {
            Router::new()
                .route("/items/{id}", item())
                .route("/metered/{id}", item())
                .route("/health/live", get(|| async { "live" }))
                .with_state(app)
        })
}

/// Creates [`app`]'s tables on `test_db`.
async fn create_tables(test_db: &TestDb) {
    fw::testing::create_tables(test_db.db(), app(test_db).models())
        .await
        .unwrap();
}

/// The router of [`app`] on `test_db`, its access log at `access_log`.
fn router(test_db: &TestDb, access_log: AccessLog) -> Router {
    let mut context = test_db.context();
    Arc::make_mut(&mut context.config).observe.access_log = access_log;
    app(test_db).router(context)
}

async fn send(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

/// What a test's own subscriber wrote: JSON lines, as `FW_LOG_FORMAT=json`
/// writes them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's events, `DEBUG` and up, until the guard drops.
    fn start() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// The access-log lines, in order.
    fn access_lines(&self) -> Vec<Json> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str::<Json>(line).unwrap())
            .filter(|line| line["target"] == "fw::access")
            .collect()
    }
}

/// One line per request, with its method, route template, status,
/// latency, bytes, request id and user (and token id), never a credential,
/// a cookie or the query string.
async fn each_request_has_one_access_line(test_db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    create_tables(&test_db).await;
    let router = router(&test_db, AccessLog::Info);
    let token = fw::testing::bearer(test_db.db(), "alice", &[]).await;
    let cookie = fw::testing::session_cookie(test_db.db(), "bob", &[]).await;
    let (captured, _guard) = Captured::start();

    let with_token = send(
        &router,
        "/items/7?q=query-secret-1",
        &[
            ("authorization", &token),
            ("cookie", "theme=cookie-secret-2"),
        ],
    )
    .await;
    assert_eq!(with_token.status(), StatusCode::OK);
    let with_session = send(&router, "/items/8", &[("cookie", &cookie)]).await;
    assert_eq!(with_session.status(), StatusCode::OK);
    let unmatched = send(&router, "/nowhere/9", &[("x-request-id", "req-42")]).await;
    assert_eq!(unmatched.status(), StatusCode::NOT_FOUND);

    let lines = captured.access_lines();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let first = &lines[0];
    assert_eq!(first["level"], "INFO");
    let fields = &first["fields"];
    assert_eq!(fields["message"], "request");
    assert_eq!(fields["method"], "GET");
    assert_eq!(fields["route"], "/items/{id}");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["bytes"], "item 7".len());
    let latency = fields["latency_ms"].as_f64().expect("a number");
    assert!((0.0..10_000.0).contains(&latency), "{latency}");
    assert_eq!(
        fields["request_id"],
        with_token.headers()["x-request-id"].to_str().unwrap()
    );
    assert_eq!(fields["user"], "alice");
    assert!(
        fields["token"].as_i64().is_some_and(|id| id > 0),
        "{fields}"
    );

    let fields = &lines[1]["fields"];
    assert_eq!(
        (&fields["route"], &fields["user"]),
        (&"/items/{id}".into(), &"bob".into())
    );
    assert!(
        fields.get("token").is_none(),
        "a session has no token: {fields}"
    );

    let fields = &lines[2]["fields"];
    assert_eq!(fields["route"], "unmatched");
    assert_eq!(fields["status"], 404);
    assert_eq!(fields["request_id"], "req-42");
    assert!(fields.get("user").is_none(), "anonymous: {fields}");

    let text = captured.text();
    let secret = token.trim_start_matches("Bearer ");
    let session = cookie.trim_start_matches("fw_session=");
    for never in [
        secret,
        session,
        "cookie-secret-2",
        "query-secret-1",
        "/items/7",
        "/nowhere/9",
    ] {
        assert!(!text.contains(never), "`{never}` logged:\n{text}");
    }
}

/// A health probe's line is at `DEBUG`; `FW_ACCESS_LOG=debug` puts every
/// line there, `off` logs none.
async fn the_access_log_has_a_level(test_db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    create_tables(&test_db).await;
    let levels = async |access_log: AccessLog| {
        let router = router(&test_db, access_log);
        let (captured, _guard) = Captured::start();
        for uri in ["/items/1", "/health/live"] {
            assert_eq!(send(&router, uri, &[]).await.status(), StatusCode::OK);
        }
        captured
            .access_lines()
            .iter()
            .map(|line| {
                let route = line["fields"]["route"].as_str().unwrap().to_owned();
                (route, line["level"].as_str().unwrap().to_owned())
            })
            .collect::<Vec<_>>()
    };
    let line = |route: &str, level: &str| (route.to_owned(), level.to_owned());
    assert_eq!(
        levels(AccessLog::Info).await,
        [line("/items/{id}", "INFO"), line("/health/live", "DEBUG")]
    );
    assert_eq!(
        levels(AccessLog::Debug).await,
        [line("/items/{id}", "DEBUG"), line("/health/live", "DEBUG")]
    );
    assert_eq!(levels(AccessLog::Off).await, []);
}

/// One sample of a scrape: a metric's name, its labels and its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of Prometheus' text format (comments skipped), each line
/// `name{label="value",...} value`, label values escaped with `\`.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a name");
        let name = line[..name_end].to_owned();
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(inside) = rest.strip_prefix('{') {
            let mut chars = inside.char_indices();
            let mut key = String::new();
            loop {
                let (at, c) = chars.next().expect("a closed label set");
                match c {
                    '}' => {
                        rest = &inside[at + 1..];
                        break;
                    }
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().expect("a closed value").1 {
                                '\\' => value.push(chars.next().expect("an escape").1),
                                '"' => break,
                                c => value.push(c),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    c => key.push(c),
                }
            }
        }
        let value = rest
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("a value: {line}"));
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    samples
}

/// The value of the sample `name` whose labels include `labels`, if any.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<&Sample> = samples
        .iter()
        .filter(|sample| {
            sample.name == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value))
        })
        .collect();
    assert!(matching.len() <= 1, "{name} {labels:?}: {matching:#?}");
    matching.first().map(|sample| sample.value)
}

/// `GET /metrics` with `headers`, parsed.
async fn scrape(router: &Router, authorization: &str) -> Vec<Sample> {
    let response = send(router, "/metrics", &[("authorization", authorization)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    parse(std::str::from_utf8(&body).unwrap())
}

/// Requests are counted by method, route template and status, and timed;
/// the pools, the change log's head, its pending records (PostgreSQL) and
/// its live tails are read at the scrape, which gives no record its
/// position; `/metrics` needs `view_metrics`.
async fn metrics_are_scraped(test_db: TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    create_tables(&test_db).await;
    let router = router(&test_db, AccessLog::Off);
    let ops = fw::testing::bearer(test_db.db(), "ops", &["view_metrics", "view_changes"]).await;
    let before = scrape(&router, &ops).await;
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    let unmatched_before = value(&before, "http_requests_total", &unmatched).unwrap_or(0.0);

    for uri in ["/metered/1", "/metered/2", "/metered/3?page=2", "/nowhere"] {
        send(&router, uri, &[]).await;
    }
    let post = Request::post("/metered/4").body(Body::empty()).unwrap();
    let not_allowed = router.clone().oneshot(post).await.unwrap();
    assert_eq!(not_allowed.status(), StatusCode::METHOD_NOT_ALLOWED);
    for text in ["one", "two"] {
        let new = NewNote {
            text: text.to_owned(),
        };
        Note::insert(test_db.db(), new).await.unwrap();
    }
    // Nothing has read the log, and this router runs no sequencer: on
    // PostgreSQL both changes wait for their positions, and a scrape counts
    // them without giving them any (on SQLite a change has its position as
    // it is written, and there is nothing pending to count).
    let (head, pending) = match crate::DATABASE {
        fw::Dialect::Sqlite => (2.0, None),
        fw::Dialect::Postgres => (0.0, Some(2.0)),
    };
    for _ in 0..2 {
        let unread = scrape(&router, &ops).await;
        assert_eq!(value(&unread, "change_log_head", &[]), Some(head));
        assert_eq!(value(&unread, "change_log_pending", &[]), pending);
    }
    // A reader gives them their positions.
    assert_eq!(
        fw::changes::after(0)
            .fetch(test_db.db())
            .await
            .unwrap()
            .len(),
        2
    );
    let stream = send(
        &router,
        "/changes/stream?after=1",
        &[("authorization", &ops)],
    )
    .await;
    assert_eq!(stream.status(), StatusCode::OK);

    let after = scrape(&router, &ops).await;
    let metered = [
        ("method", "GET"),
        ("route", "/metered/{id}"),
        ("status", "200"),
    ];
    assert_eq!(value(&after, "http_requests_total", &metered), Some(3.0));
    let refused = [
        ("method", "POST"),
        ("route", "/metered/{id}"),
        ("status", "405"),
    ];
    assert_eq!(value(&after, "http_requests_total", &refused), Some(1.0));
    assert_eq!(
        value(&after, "http_requests_total", &unmatched),
        Some(unmatched_before + 1.0)
    );
    assert_eq!(
        value(&after, "http_request_duration_seconds_count", &metered),
        Some(3.0)
    );
    let mut infinite = metered.to_vec();
    infinite.push(("le", "+Inf"));
    assert_eq!(
        value(&after, "http_request_duration_seconds_bucket", &infinite),
        Some(3.0)
    );
    let mut ten_seconds = metered.to_vec();
    ten_seconds.push(("le", "10"));
    assert_eq!(
        value(&after, "http_request_duration_seconds_bucket", &ten_seconds),
        Some(3.0)
    );
    assert!(
        after.iter().all(|sample| !sample
            .labels
            .values()
            .any(|label| label.contains("/metered/1"))),
        "a concrete path is never a label"
    );
    // This scrape is in flight while it renders.
    assert_eq!(value(&after, "http_requests_in_flight", &[]), Some(1.0));

    let pools: &[(&str, f64)] = match crate::DATABASE {
        fw::Dialect::Sqlite => &[
            (
                "read",
                std::thread::available_parallelism().map_or(4, |n| n.get().max(4)) as f64,
            ),
            ("write", 1.0),
        ],
        fw::Dialect::Postgres => &[("main", 16.0)],
    };
    for (pool, max) in pools {
        assert_eq!(
            value(&after, "db_pool_max_connections", &[("pool", pool)]),
            Some(*max),
            "{pool}"
        );
        let idle = value(
            &after,
            "db_pool_connections",
            &[("pool", pool), ("state", "idle")],
        );
        let in_use = value(
            &after,
            "db_pool_connections",
            &[("pool", pool), ("state", "in_use")],
        );
        let open = idle.expect("idle") + in_use.expect("in use");
        assert!((0.0..=*max).contains(&open), "{pool}: {open}");
    }

    assert_eq!(value(&after, "change_log_head", &[]), Some(2.0));
    assert_eq!(
        value(&after, "change_log_pending", &[]),
        pending.map(|_| 0.0)
    );
    assert_eq!(value(&after, "change_log_live_tails", &[]), Some(1.0));
    assert_eq!(value(&after, "change_log_slowest_tail_lag", &[]), Some(1.0));
    drop(stream);
    let closed = scrape(&router, &ops).await;
    assert_eq!(value(&closed, "change_log_live_tails", &[]), Some(0.0));
    assert_eq!(
        value(&closed, "change_log_slowest_tail_lag", &[]),
        Some(0.0)
    );

    let anonymous = send(&router, "/metrics", &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["content-type"],
        "application/problem+json"
    );
    let viewer = fw::testing::bearer(test_db.db(), "viewer", &[]).await;
    let forbidden = send(&router, "/metrics", &[("authorization", &viewer)]).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        forbidden.headers()["content-type"],
        "application/problem+json"
    );
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        each_request_has_one_access_line,
        the_access_log_has_a_level,
        metrics_are_scraped,
    ],
}

//! Backend-agnostic cases for what the perimeter's outermost layer observes:
//! each request's access-log line, captured by a tracing subscriber of the
//! test's own.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{Response, StatusCode};
use axum::routing::get;
use fw::testing::TestDb;
use fw::{AccessLog, App};
use serde_json::Value as Json;
use tower::ServiceExt as _;

/// An app with identity on, `GET /items/{id}` and a route where a health
/// probe's would be.
fn app(test_db: &TestDb) -> App {
    App::new("observed", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .auth()
        .routes(|app| {
            Router::new()
                .route(
                    "/items/{id}",
                    get(|Path(id): Path<i64>| async move { format!("item {id}") }),
                )
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

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        each_request_has_one_access_line,
        the_access_log_has_a_level,
    ],
}

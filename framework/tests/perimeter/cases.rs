//! Backend-agnostic cases for what stands between the network and an app's
//! routes: the application's own layers, CORS, health probes, security
//! headers, compression and the docs page, through an app's router in-process.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

use fw::testing::TestDb;
use fw::{App, AppContext, Dialect, EdgeConfig, Model};
use serde_json::Value as Json;
use tower::ServiceExt as _;

#[fw::model]
pub(crate) struct Note {
    pub(crate) id: i64,
    #[field(max_length = 200)]
    pub(crate) text: String,
}

#[fw::resource(
    model = Note,
    path = "/notes",
    actions(list, retrieve),
    permissions(public),
    read_only(id)
)]
pub(crate) struct NoteResource {
    pub(crate) id: i64,
    pub(crate) text: String,
}

/// A model a later release adds, whose migration the database lacks.
#[fw::model]
pub(crate) struct Tag {
    pub(crate) id: i64,
    #[field(max_length = 40)]
    pub(crate) name: String,
}

/// An app with identity on and `/notes` on its API.
fn app(test_db: &TestDb) -> App {
    App::new("perimeter", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .model::<Note>()
        .auth()
        .resource::<NoteResource>()
}

/// The router of `app` on `test_db` with `context`, its tables created.
async fn router_of(app: &App, test_db: &TestDb, context: AppContext) -> Router {
    fw::testing::create_tables(test_db.db(), app.models())
        .await
        .unwrap();
    app.router(context)
}

/// `test_db`'s context with the edge settings `vars` give, as if they were
/// the environment's.
fn context_with(test_db: &TestDb, vars: &[(&str, &str)]) -> AppContext {
    let mut context = test_db.context();
    let mut config = (*context.config).clone();
    config.edge = EdgeConfig::from_vars(|name| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .expect("valid settings");
    context.config = Arc::new(config);
    context
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }

    fn text(&self) -> String {
        String::from_utf8(self.bytes.clone()).unwrap()
    }

    fn has(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` in {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

/// Sends `method uri` with `headers` to `router`.
async fn send(router: &Router, method: &str, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost:8000");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        bytes: bytes.to_vec(),
    }
}

/// A layer added with `App::layer` sees every request fw serves: an API
/// route, an identity endpoint, the OpenAPI document and a 404.
async fn an_application_layer_wraps_every_route(test_db: TestDb) {
    let app = app(&test_db).layer(axum::middleware::map_response(
        |mut response: Response| async move {
            response.headers_mut().insert(
                HeaderName::from_static("x-served-by"),
                HeaderValue::from_static("perimeter-test"),
            );
            response
        },
    ));
    let router = router_of(&app, &test_db, test_db.context()).await;
    for (method, uri, status) in [
        ("GET", "/notes", StatusCode::OK),
        ("GET", "/auth/me", StatusCode::UNAUTHORIZED),
        ("GET", "/openapi.json", StatusCode::OK),
        ("GET", "/nothing-here", StatusCode::NOT_FOUND),
        ("DELETE", "/notes", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let reply = send(&router, method, uri, &[]).await;
        assert_eq!(reply.status, status, "{method} {uri}: {}", reply.text());
        assert_eq!(
            reply.header("x-served-by"),
            "perimeter-test",
            "{method} {uri}"
        );
    }
}

const APP_ORIGIN: &str = "https://app.example";

/// CORS is off by default: a preflight is a method the routes do not have.
async fn cors_is_off_by_default(test_db: TestDb) {
    let router = router_of(&app(&test_db), &test_db, test_db.context()).await;
    let preflight = [
        ("origin", APP_ORIGIN),
        ("access-control-request-method", "GET"),
    ];
    let reply = send(&router, "OPTIONS", "/notes", &preflight).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(!reply.has("access-control-allow-origin"), "{reply:?}");
}

/// With origins configured, a preflight from one of them is answered before
/// authentication with what it may send; one from another origin gets no
/// `Access-Control-Allow-Origin`; a simple request from an allowed origin
/// carries it and the headers the page may read.
async fn cors_answers_the_configured_origins(test_db: TestDb) {
    let context = context_with(
        &test_db,
        &[
            (
                "FW_CORS_ORIGINS",
                "https://app.example,http://localhost:3000",
            ),
            ("FW_CORS_CREDENTIALS", "true"),
        ],
    );
    let router = router_of(&app(&test_db), &test_db, context).await;
    let preflight = |origin| {
        [
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization,content-type,idempotency-key",
            ),
            // A bad credential would be a 401 past the preflight.
            ("authorization", "Bearer fw_not_a_token"),
        ]
    };
    let reply = send(&router, "OPTIONS", "/notes", &preflight(APP_ORIGIN)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("access-control-allow-origin"), APP_ORIGIN);
    assert_eq!(reply.header("access-control-allow-credentials"), "true");
    assert_eq!(reply.header("access-control-max-age"), "600");
    let methods = reply.header("access-control-allow-methods");
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(method), "{methods}");
    }
    assert_eq!(
        reply.header("access-control-allow-headers"),
        "authorization,content-type,if-match,if-none-match,idempotency-key,x-request-id"
    );

    let reply = send(
        &router,
        "OPTIONS",
        "/notes",
        &preflight("https://evil.example"),
    )
    .await;
    assert!(!reply.has("access-control-allow-origin"), "{reply:?}");
    assert!(!reply.has("access-control-allow-credentials"), "{reply:?}");

    let reply = send(&router, "GET", "/notes", &[("origin", APP_ORIGIN)]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("access-control-allow-origin"), APP_ORIGIN);
    assert_eq!(
        reply.header("access-control-expose-headers"),
        "etag,location,x-request-id,retry-after,ratelimit,ratelimit-policy"
    );
    assert!(reply.header("vary").contains("origin"), "{reply:?}");
    let reply = send(
        &router,
        "GET",
        "/notes",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.has("access-control-allow-origin"), "{reply:?}");
}

/// An app whose schema is made by its migrations, in `dir`, on `test_db`.
fn migrated_app(test_db: &TestDb, dir: &std::path::Path) -> App {
    App::new("perimeter", dir)
        .default_database_url(test_db.url())
        .model::<Note>()
        .auth()
        .resource::<NoteResource>()
}

async fn run(app: App, args: &[&str]) {
    let code = app
        .run_with(std::iter::once("perimeter").chain(args.iter().copied()))
        .await;
    assert_eq!(code, ExitCode::SUCCESS, "{args:?}");
}

/// Makes `test_db` unreachable to new and open connections, as a database
/// server going down or its file being moved away would.
async fn take_down(test_db: &TestDb) {
    match test_db.db().dialect() {
        Dialect::Sqlite => {
            let path = sqlite_path(test_db);
            std::fs::rename(&path, path.with_extension("away")).unwrap();
        }
        Dialect::Postgres => {
            postgres_admin(test_db, "ALLOW_CONNECTIONS false").await;
        }
    }
}

/// Undoes [`take_down`].
async fn bring_back(test_db: &TestDb) {
    match test_db.db().dialect() {
        Dialect::Sqlite => {
            let path = sqlite_path(test_db);
            std::fs::rename(path.with_extension("away"), &path).unwrap();
        }
        Dialect::Postgres => postgres_admin(test_db, "ALLOW_CONNECTIONS true").await,
    }
}

fn sqlite_path(test_db: &TestDb) -> std::path::PathBuf {
    std::path::PathBuf::from(test_db.url().strip_prefix("sqlite://").unwrap())
}

/// Sets `setting` on the test database and ends its connections.
async fn postgres_admin(test_db: &TestDb, setting: &str) {
    let name = test_db.url().rsplit('/').next().unwrap().to_owned();
    let admin = fw::Db::connect(&fw::testing::postgres_admin_url())
        .await
        .unwrap();
    admin
        .execute_raw(&format!("ALTER DATABASE \"{name}\" WITH {setting}"))
        .await
        .unwrap();
    admin
        .execute_raw(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    admin.close().await;
}

/// Liveness is always 200; readiness is 200 with every check while the
/// database answers and is migrated, 503 naming `database` while it is down,
/// 200 again once it is back, and 503 naming `migrations` (and the missing
/// one) for a release whose migration was not applied. The probes answer
/// before authentication and the application's layers.
async fn readiness_follows_the_database(test_db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    run(migrated_app(&test_db, dir.path()), &["makemigrations"]).await;
    run(migrated_app(&test_db, dir.path()), &["migrate"]).await;
    let context = context_with(&test_db, &[("FW_READY_TIMEOUT", "1")]);
    let app = migrated_app(&test_db, dir.path()).layer(axum::middleware::map_response(
        |mut response: Response| async move {
            response.headers_mut().insert(
                HeaderName::from_static("x-served-by"),
                HeaderValue::from_static("perimeter-test"),
            );
            response
        },
    ));
    let router = app.router(context.clone());
    let bad_token = [("authorization", "Bearer fw_not_a_token")];

    for method in ["POST", "TRACE", "OPTIONS"] {
        let refused = send(&router, method, "/health/ready", &[]).await;
        assert_eq!(refused.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(refused.header("allow"), "GET, HEAD", "{method}");
    }
    let live = send(&router, "GET", "/health/live", &bad_token).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.json(), serde_json::json!({"status": "live"}));
    let ready = send(&router, "GET", "/health/ready", &bad_token).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
    assert_eq!(
        ready.json(),
        serde_json::json!({"status": "ready", "checks": {"database": "ok", "pool": "ok", "migrations": "ok"}})
    );
    assert!(!ready.has("x-served-by"), "{ready:?}");

    take_down(&test_db).await;
    let down = send(&router, "GET", "/health/ready", &[]).await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.text()
    );
    assert_eq!(down.header("content-type"), "application/problem+json");
    assert_eq!(down.json()["check"], "database", "{}", down.text());
    let live = send(&router, "GET", "/health/live", &[]).await;
    assert_eq!(live.status, StatusCode::OK);

    bring_back(&test_db).await;
    let back = send(&router, "GET", "/health/ready", &[]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text());

    // The next release adds a model; its migration is written but not applied.
    let next = || migrated_app(&test_db, dir.path()).model::<Tag>();
    run(next(), &["makemigrations", "--name", "add_tag"]).await;
    let router = next().router(context);
    let behind = send(&router, "GET", "/health/ready", &[]).await;
    assert_eq!(
        behind.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        behind.text()
    );
    assert_eq!(behind.json()["check"], "migrations");
    let detail = behind.json()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("0002_add_tag"), "{detail}");
}

/// The probes are in the OpenAPI document, public.
async fn the_probes_are_documented(test_db: TestDb) {
    let document = app(&test_db).api_spec().unwrap().openapi_json();
    for path in ["/health/live", "/health/ready"] {
        let operation = &document["paths"][path]["get"];
        assert_eq!(operation["security"], serde_json::json!([]), "{path}");
        assert_eq!(operation["tags"], serde_json::json!(["health"]), "{path}");
        // Answered before the rate limit, so never a 429; `serve`'s own
        // limits still apply.
        let responses = &operation["responses"];
        assert!(responses.get("429").is_none(), "{path}: {responses}");
        assert!(responses.get("431").is_some(), "{path}: {responses}");
    }
    // Every other operation may be rate-limited.
    assert!(document["paths"]["/auth/me"]["get"]["responses"]["429"].is_object());
    let failing = &document["paths"]["/health/ready"]["get"]["responses"]["503"];
    assert!(
        failing["description"]
            .as_str()
            .unwrap()
            .contains("`migrations`")
    );
}

const API_HEADERS: [(&str, &str); 5] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
];

/// The security headers are on an API response, a problem and the docs
/// page (whose policy lets it run its own scripts only); HSTS only when
/// configured; none when turned off.
async fn responses_carry_security_headers(test_db: TestDb) {
    let router = router_of(&app(&test_db), &test_db, test_db.context()).await;
    for uri in ["/notes", "/nothing-here"] {
        let reply = send(&router, "GET", uri, &[]).await;
        for (name, value) in API_HEADERS {
            assert_eq!(reply.header(name), value, "{uri}");
        }
        assert!(!reply.has("strict-transport-security"), "{uri}");
    }
    let page = send(&router, "GET", "/docs", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").starts_with("text/html"));
    let policy = page.header("content-security-policy");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe-eval"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");

    let context = context_with(&test_db, &[("FW_HSTS_SECONDS", "31536000")]);
    let router = app(&test_db).router(context);
    let reply = send(&router, "GET", "/notes", &[]).await;
    assert_eq!(
        reply.header("strict-transport-security"),
        "max-age=31536000"
    );

    let context = context_with(&test_db, &[("FW_SECURITY_HEADERS", "false")]);
    let router = app(&test_db).router(context);
    let reply = send(&router, "GET", "/notes", &[]).await;
    for (name, _) in API_HEADERS {
        assert!(!reply.has(name), "{name}");
    }
}

/// A JSON body above the threshold is compressed with the encoding the
/// client asks for, and decompresses to the body sent uncompressed; a small
/// one, or any with compression off, is sent as is.
async fn large_responses_are_compressed(test_db: TestDb) {
    let app = app(&test_db);
    let router = router_of(&app, &test_db, test_db.context()).await;
    for n in 0..20 {
        let text = format!("note {n}: {}", "a dividend announcement ".repeat(4));
        Note::insert(test_db.db(), NewNote { text }).await.unwrap();
    }
    let plain = send(&router, "GET", "/notes", &[]).await;
    assert!(plain.bytes.len() > 1024, "{}", plain.bytes.len());
    assert!(!plain.has("content-encoding"));

    let brotli = send(&router, "GET", "/notes", &[("accept-encoding", "br")]).await;
    assert_eq!(brotli.header("content-encoding"), "br");
    assert!(brotli.bytes.len() < plain.bytes.len() / 2);
    let mut decoded = Vec::new();
    brotli::Decompressor::new(brotli.bytes.as_slice(), 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain.bytes);

    let gzip = send(&router, "GET", "/notes", &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.header("content-encoding"), "gzip");
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(gzip.bytes.as_slice())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain.bytes);
    for (name, value) in API_HEADERS {
        assert_eq!(gzip.header(name), value);
    }

    let small = send(
        &router,
        "GET",
        "/notes/1",
        &[("accept-encoding", "br, gzip")],
    )
    .await;
    assert_eq!(small.status, StatusCode::OK);
    assert!(small.bytes.len() < 1024);
    assert!(!small.has("content-encoding"), "{small:?}");

    let context = context_with(&test_db, &[("FW_COMPRESSION", "false")]);
    let router = app.router(context);
    let off = send(&router, "GET", "/notes", &[("accept-encoding", "br, gzip")]).await;
    assert!(!off.has("content-encoding"), "{off:?}");
    assert_eq!(off.bytes, plain.bytes);
}

/// The docs page is Swagger UI served from the executable: every file it
/// references is served here, none from another host; it reads
/// `/openapi.json` with "Try it out" on; a file it does not have is a 404.
async fn the_docs_page_is_served_whole(test_db: TestDb) {
    let router = router_of(&app(&test_db), &test_db, test_db.context()).await;
    let page = send(&router, "GET", "/docs", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("<title>perimeter: API documentation</title>"),
        "{html}"
    );
    assert!(html.contains(r#"<base href="/docs/">"#), "{html}");
    let mut references = Vec::new();
    let linked = html.replace(r#"<base href="/docs/">"#, "");
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in linked.match_indices(attribute) {
            let rest = &linked[start + attribute.len()..];
            references.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    let scripts = references.iter().filter(|r| r.ends_with(".js")).count();
    assert!(scripts >= 3 && references.len() >= 6, "{references:?}");
    for reference in &references {
        assert!(
            !reference.contains("//"),
            "{reference} is fetched from elsewhere"
        );
        let path = match reference.strip_prefix('/') {
            Some(_) => reference.clone(),
            None => format!("/docs/{}", reference.trim_start_matches("./")),
        };
        let file = send(&router, "GET", &path, &[]).await;
        assert_eq!(file.status, StatusCode::OK, "{path}");
        assert!(!file.bytes.is_empty(), "{path}");
        if path.ends_with(".js") {
            assert!(file.header("content-type").contains("javascript"), "{path}");
        }
    }
    let initializer = send(&router, "GET", "/docs/swagger-initializer.js", &[]).await;
    let script = initializer.text();
    assert!(script.contains(r#""url": "/openapi.json""#), "{script}");
    assert!(script.contains(r#""tryItOutEnabled": true"#), "{script}");
    assert!(script.contains(r#""validatorUrl": "none""#), "{script}");
    let bundle = send(
        &router,
        "GET",
        "/docs/swagger-ui-bundle.js",
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(bundle.header("content-encoding"), "br");
    let missing = send(&router, "GET", "/docs/nothing.js", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        an_application_layer_wraps_every_route,
        cors_is_off_by_default,
        cors_answers_the_configured_origins,
        readiness_follows_the_database,
        the_probes_are_documented,
        responses_carry_security_headers,
        large_responses_are_compressed,
        the_docs_page_is_served_whole,
    ],
}

//! Backend-agnostic cases for the change log over HTTP (`GET /changes`, the live
//! tail at `GET /changes/stream`, the actor and request id of requests), driven
//! in-process through `tower::ServiceExt::oneshot`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::routing::post;
use futures_util::StreamExt as _;
use fw::changes::{self, Actor};
use fw::{AppContext, Db, Model};
use serde_json::{Value as Json, json};
use tower::ServiceExt as _;

use super::models::*;

/// How long a test waits for an event of the live tail (which polls every 500 ms).
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

fn context(db: &Db) -> AppContext {
    AppContext {
        db: db.clone(),
        config: Arc::new(fw::Config {
            database_url: String::new(),
            listen: ([127, 0, 0, 1], 0).into(),
            log_filter: "warn".to_owned(),
            json_logs: false,
            http: fw::HttpLimits::default(),
            idempotency_key_ttl: fw::Config::DEFAULT_IDEMPOTENCY_KEY_TTL,
            database_wait_timeout: fw::ConnectOptions::DEFAULT_WAIT_TIMEOUT,
            session_idle_timeout: fw::Config::DEFAULT_SESSION_IDLE_TIMEOUT,
            session_max_age: fw::Config::DEFAULT_SESSION_MAX_AGE,
            edge: fw::EdgeConfig::default(),
            secret_keys: None,
            trusted_proxies: fw::TrustedProxies::default(),
            rate_limits: fw::RateLimits::default(),
            observe: fw::ObserveConfig::default(),
        }),
    }
}

/// The test models in an application that serves its change log and a
/// security's history, plus `POST /securities/{symbol}`, which inserts a security.
fn app(db: &Db) -> Router {
    super::models::app()
        .change_log_api()
        .resource::<SecurityResource>()
        .routes(|app| {
            Router::new()
                .route("/securities/{symbol}", post(insert_security))
                .with_state(app)
        })
        .router(context(db))
}

async fn insert_security(State(app): State<AppContext>, Path(symbol): Path<String>) -> StatusCode {
    match Security::insert(&app.db, new_security(&symbol)).await {
        Ok(_) => StatusCode::CREATED,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn new_security(symbol: &str) -> NewSecurity {
    NewSecurity {
        symbol: symbol.to_owned(),
        name: format!("{symbol} Corp"),
        note: None,
    }
}

async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Json) {
    let response = send(app, "GET", uri, headers).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Json::Null);
    (status, headers, body)
}

/// Sends a request as a user who may read the change log.
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> axum::response::Response {
    let reader = fw::testing::user(9, &[fw::auth::VIEW_CHANGES]);
    send_as(app, reader, method, uri, headers).await
}

/// Sends a request as `caller`, as authentication hands it over: an extension.
async fn send_as(
    app: &Router,
    caller: fw::Caller,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> axum::response::Response {
    let mut request = Request::builder().method(method).uri(uri).extension(caller);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

fn seqs(body: &Json) -> Vec<i64> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|change| change["seq"].as_i64().expect("seq"))
        .collect()
}

async fn write_some_changes(db: &Db) {
    for symbol in ["ACME", "BOLT", "CORE"] {
        Security::insert(db, new_security(symbol)).await.unwrap();
    }
    Account::insert(
        db,
        NewAccount {
            tax_id: "123-45-6789".to_owned(),
            nickname: "main".to_owned(),
        },
    )
    .await
    .unwrap();
    Security::delete(db, 1).await.unwrap();
}

pub(crate) async fn changes_are_served_in_pages_with_next_links(db: &Db) {
    let app = app(db);
    write_some_changes(db).await;

    let (status, headers, body) = get(&app, "/changes", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(seqs(&body), [1, 2, 3, 4, 5]);
    assert_eq!(body["next"], Json::Null);
    let logged = changes::after(0).fetch(db).await.unwrap();
    assert_eq!(
        body["results"],
        serde_json::to_value(&logged).unwrap(),
        "each result is a `Change` as the code API reads it"
    );
    let account = &body["results"][3];
    assert_eq!(account["model"], "account");
    assert_eq!(account["operation"], "insert");
    assert_eq!(
        account["fields"][1],
        json!({"field": "tax_id", "sensitive": true}),
        "sensitive values stay out of the API too"
    );

    // Following `next` visits every change once.
    let mut uri = "/changes?page_size=2".to_owned();
    let mut pages = Vec::new();
    loop {
        let (status, _, body) = get(&app, &uri, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages.push(seqs(&body));
        match body["next"].as_str() {
            Some(next) => uri = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, [vec![1, 2], vec![3, 4], vec![5]]);

    // `next` keeps the filter and the page size; the last page has none.
    let (_, _, body) = get(&app, "/changes?after=2&model=security&page_size=1", &[]).await;
    assert_eq!(seqs(&body), [3]);
    assert_eq!(body["next"], "/changes?after=3&model=security&page_size=1");
    let (_, _, body) = get(&app, "/changes?after=3&model=security&page_size=1", &[]).await;
    assert_eq!(seqs(&body), [5]);
    assert_eq!(body["next"], Json::Null);
    let (_, _, body) = get(&app, "/changes?after=5", &[]).await;
    assert_eq!(seqs(&body), Vec::<i64>::new());
    assert_eq!(body["next"], Json::Null);
    let (_, _, body) = get(&app, "/changes?model=account", &[]).await;
    assert_eq!(seqs(&body), [4]);
}

pub(crate) async fn bad_change_log_parameters_are_400_naming_them(db: &Db) {
    let app = app(db);
    for (uri, named) in [
        ("/changes?after=-1", "`after`"),
        ("/changes?after=ten", "`after`"),
        // The document's `integer` has no `+`; Rust's parser would take one.
        ("/changes?after=%2B5", "`after`"),
        ("/changes?page_size=%2B5", "`page_size=+5`"),
        ("/changes?page_size=0", "`page_size=0`"),
        ("/changes?page_size=501", "`page_size=501`"),
        ("/changes?page_size=many", "`page_size=many`"),
        ("/changes?model=securities", "`model=securities`"),
        ("/changes?model=note", "`model=note`"),
        ("/changes?cursor=abc", "`cursor`"),
        ("/changes?after=1&after=2", "`after`"),
        ("/changes/stream?after=x", "`after`"),
        ("/changes/stream?page_size=5", "`page_size`"),
    ] {
        let (status, headers, body) = get(&app, uri, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json", "{uri}");
        assert_eq!(body["status"], 400);
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(named), "{uri}: `{detail}` names {named}");
    }
    let (_, _, body) = get(&app, "/changes?model=note", &[]).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("one of `security`, `account`"),
        "the detail lists the accepted models: {body}"
    );
    let (status, _, _) = get(&app, "/changes/stream", &[("last-event-id", "abc")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The change log is read-only: other methods are problem+json 405s.
    for uri in ["/changes", "/changes/stream"] {
        let response = send(&app, "POST", uri, &[]).await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        assert_eq!(response.headers()["allow"], "GET,HEAD", "{uri}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{uri}"
        );
    }
}

/// The events of a server-sent event stream, read as they arrive.
struct Events {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Events {
    fn new(response: axum::response::Response) -> Events {
        Events {
            body: response.into_body().into_data_stream(),
            buffer: String::new(),
        }
    }

    /// The next event's id and data, skipping keep-alive comments.
    async fn next(&mut self) -> (i64, Json) {
        let next = async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let event: String = self.buffer.drain(..end + 2).collect();
                    let mut id = None;
                    let mut data = String::new();
                    for line in event.lines() {
                        if let Some(value) = line.strip_prefix("id:") {
                            id = Some(value.trim().parse::<i64>().expect("numeric id"));
                        } else if let Some(value) = line.strip_prefix("data:") {
                            data.push_str(value.trim_start());
                        }
                    }
                    if let Some(id) = id {
                        return (id, serde_json::from_str(&data).expect("JSON data"));
                    }
                    continue;
                }
                let chunk = self
                    .body
                    .next()
                    .await
                    .expect("the stream stays open")
                    .expect("body chunk");
                self.buffer
                    .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
            }
        };
        tokio::time::timeout(EVENT_TIMEOUT, next)
            .await
            .expect("an event arrives in time")
    }
}

pub(crate) async fn the_live_tail_streams_new_changes_and_resumes(db: &Db) {
    let app = app(db);
    write_some_changes(db).await;

    let response = send(&app, "GET", "/changes/stream?after=3", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut events = Events::new(response);
    let (id, data) = events.next().await;
    assert_eq!((id, data["seq"].as_i64()), (4, Some(4)));
    assert_eq!(data["model"], "account");
    assert_eq!(events.next().await.0, 5);

    // Changes committed while the client listens arrive as they commit.
    Security::insert(db, new_security("DYNA")).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    Security::insert(&mut tx, new_security("EPIC"))
        .await
        .unwrap();
    Security::insert(&mut tx, new_security("FLUX"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (id, data) = events.next().await;
    assert_eq!((id, data["operation"].as_str()), (6, Some("insert")));
    assert_eq!(data["fields"][1], json!({"field": "symbol", "new": "DYNA"}));
    assert_eq!(events.next().await.0, 7);
    assert_eq!(events.next().await.0, 8);

    // A reconnecting EventSource sends the original address and `Last-Event-ID`,
    // which wins.
    let response = send(
        &app,
        "GET",
        "/changes/stream?after=0&model=security",
        &[("last-event-id", "6")],
    )
    .await;
    let mut events = Events::new(response);
    assert_eq!(events.next().await.0, 7);
    assert_eq!(events.next().await.0, 8);
    let response = send(&app, "GET", "/changes/stream?model=account", &[]).await;
    assert_eq!(Events::new(response).next().await.0, 4);
}

/// Stands in for authentication: a layer around the application's router that
/// puts the caller in the request's extensions.
async fn authenticate(mut request: Request, next: Next) -> axum::response::Response {
    if let Some(user) = request
        .headers()
        .get("x-test-user")
        .and_then(|value| value.to_str().ok())
    {
        let actor = Actor(format!("user:{user}"));
        request.extensions_mut().insert(actor);
    }
    if let Some(user) = request
        .headers()
        .get("x-test-caller")
        .and_then(|value| value.to_str().ok()?.parse().ok())
    {
        request
            .extensions_mut()
            .insert(fw::testing::user(user, &[]));
    }
    next.run(request).await
}

pub(crate) async fn requests_record_their_actor_and_request_id(db: &Db) {
    let app = app(db).layer(axum::middleware::from_fn(authenticate));

    let response = send(
        &app,
        "POST",
        "/securities/ACME",
        &[("x-request-id", "req-7f3a"), ("x-test-user", "42")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["x-request-id"], "req-7f3a");

    let response = send_as(&app, fw::Caller::Anonymous, "POST", "/securities/BOLT", &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let generated = response.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        uuid::Uuid::parse_str(&generated).is_ok(),
        "a request without an id gets a new one: `{generated}`"
    );

    let log = changes::after(0).fetch(db).await.unwrap();
    let recorded: Vec<(Option<&str>, Option<&str>)> = log
        .iter()
        .map(|change| (change.actor.as_deref(), change.request_id.as_deref()))
        .collect();
    assert_eq!(
        recorded,
        [
            (Some("user:42"), Some("req-7f3a")),
            (None, Some(generated.as_str()))
        ]
    );
    // A read echoes the id it was sent; one that sent none is given one too,
    // which its access-log line names.
    let response = send(&app, "GET", "/changes", &[("x-request-id", "req-9b1c")]).await;
    assert_eq!(response.headers()["x-request-id"], "req-9b1c");
    let response = send(&app, "GET", "/changes", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let given = response.headers()["x-request-id"].to_str().expect("text");
    assert!(uuid::Uuid::parse_str(given).is_ok(), "`{given}`");
    // An id too long to keep is replaced by a new one, made for the change.
    let too_long = "r".repeat(201);
    let response = send(
        &app,
        "POST",
        "/securities/CRUX",
        &[("x-request-id", too_long.as_str())],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let replaced = response.headers()["x-request-id"].to_str().expect("text");
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "`{replaced}`");
    let log = changes::after(2).fetch(db).await.unwrap();
    assert_eq!(log[0].request_id.as_deref(), Some(replaced));
    // Without an explicit actor, the authenticated caller is the actor: its
    // user and the token it came with.
    let response = send(&app, "POST", "/securities/DUNE", &[("x-test-caller", "7")]).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let log = changes::after(3).fetch(db).await.unwrap();
    assert_eq!(log[0].actor.as_deref(), Some("user:7/token:7"));
}

/// `/changes` and its tail need `view_changes`, which no model permission
/// grants; a row's history needs its model's `view_<model>`.
pub(crate) async fn the_change_log_and_history_need_their_permissions(db: &Db) {
    let app = app(db);
    let security = Security::insert(db, new_security("ACME")).await.unwrap();
    let history = format!("/listed/{}/history", security.id);
    let viewer = fw::testing::user(1, &["view_security"]);
    for uri in ["/changes", "/changes/stream"] {
        let anonymous = send_as(&app, fw::Caller::Anonymous, "GET", uri, &[]).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
        let refused = send_as(&app, viewer.clone(), "GET", uri, &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{uri}");
    }
    let anonymous = send_as(&app, fw::Caller::Anonymous, "GET", &history, &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let reader = fw::testing::user(2, &[fw::auth::VIEW_CHANGES]);
    let refused = send_as(&app, reader, "GET", &history, &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let allowed = send_as(&app, viewer, "GET", &history, &[]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    let (_, _, document) = get(&app, "/openapi.json", &[]).await;
    for path in ["/changes", "/changes/stream"] {
        let operation = &document["paths"][path]["get"];
        assert_eq!(operation["x-fw-permission"], "view_changes", "{path}");
        assert!(operation["responses"]["403"].is_object(), "{path}");
    }
    assert_eq!(
        document["paths"]["/listed/{id}/history"]["get"]["x-fw-permission"],
        "view_security"
    );
}

pub(crate) async fn the_change_log_api_is_in_the_openapi_document(db: &Db) {
    let app = app(db);
    let (status, _, document) = get(&app, "/openapi.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let list = &document["paths"]["/changes"]["get"];
    let parameters: Vec<&str> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|parameter| parameter["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(parameters, ["after", "model", "page_size"]);
    use super::models::{Account, Alert, Lot, Quote, Security};
    use fw::Model as _;
    assert_eq!(
        list["parameters"][1]["schema"]["enum"],
        json!([
            Security::TABLE,
            Account::TABLE,
            Lot::TABLE,
            Quote::TABLE,
            Alert::TABLE
        ]),
        "`model=` lists the tables that record changes"
    );
    // A model registered after `change_log_api` is listed too.
    let later = fw::App::new("changes", env!("CARGO_MANIFEST_DIR"))
        .change_log_api()
        .model::<Security>();
    let later = later.api_spec().expect("an API").openapi_json();
    assert_eq!(
        later["paths"]["/changes"]["get"]["parameters"][1]["schema"]["enum"],
        json!([Security::TABLE])
    );
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["required"],
        json!(["next", "results"])
    );
    assert_eq!(
        list["responses"]["400"]["$ref"],
        "#/components/responses/400"
    );
    let stream = &document["paths"]["/changes/stream"]["get"];
    assert!(stream["responses"]["200"]["content"]["text/event-stream"].is_object());
}

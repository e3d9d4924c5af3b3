//! The REST API, driven in-process (no sockets), each test on a fresh database:
//! SQLite, or PostgreSQL when `FW_TEST_POSTGRES_URL` names a server.

use app::models::Note;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Every permission on notes: what the `editor` role grants.
const EDITOR: &[&str] = &["view_note", "add_note", "change_note", "delete_note"];

/// The application's router over a fresh database with its tables.
struct TestApp {
    router: axum::Router,
    db: fw::testing::TestDb,
}

impl TestApp {
    async fn new() -> TestApp {
        let app = app::app();
        let db = fw::testing::TestDb::from_env().await;
        fw::testing::create_tables(db.db(), app.models())
            .await
            .expect("create the tables");
        TestApp {
            router: app.router(db.context()),
            db,
        }
    }

    /// The `Authorization` header of user `username`, created if new, holding
    /// exactly `permissions`.
    async fn bearer(&self, username: &str, permissions: &[&str]) -> String {
        fw::testing::bearer(self.db.db(), username, permissions).await
    }

    /// Sends a request with the `Authorization` header `authorization` (none
    /// for an anonymous request) and returns the status, the `Location`
    /// header and the body as JSON (`null` when empty).
    async fn send(
        &self,
        authorization: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        let request = request
            .body(body.map_or_else(Body::empty, |body| Body::from(body.to_string())))
            .expect("a request");
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("a response");
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        (status, location, json)
    }
}

#[tokio::test]
async fn notes_are_created_listed_updated_and_deleted() {
    let app = TestApp::new().await;
    let alice = app.bearer("alice", EDITOR).await;
    let alice = Some(alice.as_str());
    let (status, location, created) = app
        .send(
            alice,
            "POST",
            "/notes",
            Some(json!({"title": "Groceries", "body": "eggs"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let location = location.expect("a Location header");
    assert_eq!(created["title"], "Groceries");
    assert_eq!(created["version"], 1);

    let (status, _, listed) = app.send(alice, "GET", "/notes?search=grocer", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["results"][0]["id"], created["id"], "{listed}");

    let (status, _, updated) = app
        .send(
            alice,
            "PATCH",
            &location,
            Some(json!({"body": "eggs, milk"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["body"], "eggs, milk");
    assert_eq!(updated["version"], 2);

    let (status, _, _) = app.send(alice, "DELETE", &location, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = app.send(alice, "GET", &location, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_input_is_a_422_naming_the_field() {
    let app = TestApp::new().await;
    let alice = app.bearer("alice", EDITOR).await;
    let (status, _, problem) = app
        .send(Some(&alice), "POST", "/notes", Some(json!({"title": ""})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/title", "{problem}");
}

#[tokio::test]
async fn a_request_without_credentials_is_a_401() {
    let app = TestApp::new().await;
    let (status, _, problem) = app.send(None, "GET", "/notes", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
}

#[tokio::test]
async fn a_user_without_the_permission_is_a_403() {
    let app = TestApp::new().await;
    let reader = app.bearer("reader", &["view_note"]).await;
    let (status, _, _) = app.send(Some(&reader), "GET", "/notes", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, problem) = app
        .send(
            Some(&reader),
            "POST",
            "/notes",
            Some(json!({"title": "No"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
}

#[tokio::test]
async fn search_finds_notes_by_title_and_body() {
    let app = TestApp::new().await;
    let db = app.db.db();
    // A valid note in one line; only what the test is about is spelled out.
    fw::testing::factory::<Note>()
        .set(Note::TITLE, "Groceries")
        .create(db)
        .await;
    fw::testing::factory::<Note>()
        .set(Note::BODY, "buy groceries")
        .create(db)
        .await;
    fw::testing::factory::<Note>().create(db).await;
    let reader = app.bearer("reader", &["view_note"]).await;
    let (status, _, listed) = app
        .send(Some(&reader), "GET", "/notes?search=grocer", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(
        listed["results"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
}

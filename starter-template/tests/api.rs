//! The REST API, driven in-process (no sockets), each test on a fresh database.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The application's router over a fresh SQLite database with its tables.
struct TestApp {
    router: axum::Router,
    _db: fw::testing::TestDb,
}

impl TestApp {
    async fn new() -> TestApp {
        let app = app::app();
        let db = fw::testing::TestDb::sqlite().await;
        fw::testing::create_tables(db.db(), app.models())
            .await
            .expect("create the tables");
        TestApp {
            router: app.router(db.context()),
            _db: db,
        }
    }

    /// Sends a request as a superuser (the caller authentication would hand
    /// the API) and returns the status, the `Location` header and the body as
    /// JSON (`null` when empty).
    async fn send(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Option<String>, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .extension(fw::testing::superuser())
            .header(header::CONTENT_TYPE, "application/json")
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
    let (status, location, created) = app
        .send(
            "POST",
            "/notes",
            Some(json!({"title": "Groceries", "body": "eggs"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let location = location.expect("a Location header");
    assert_eq!(created["title"], "Groceries");
    assert_eq!(created["version"], 1);

    let (status, _, listed) = app.send("GET", "/notes?search=grocer", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["results"][0]["id"], created["id"], "{listed}");

    let (status, _, updated) = app
        .send("PATCH", &location, Some(json!({"body": "eggs, milk"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["body"], "eggs, milk");
    assert_eq!(updated["version"], 2);

    let (status, _, _) = app.send("DELETE", &location, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = app.send("GET", &location, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_input_is_a_422_naming_the_field() {
    let app = TestApp::new().await;
    let (status, _, problem) = app.send("POST", "/notes", Some(json!({"title": ""}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/title", "{problem}");
}

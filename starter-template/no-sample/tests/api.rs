//! The REST API, driven in-process (no sockets), each test on a fresh database:
//! SQLite, or PostgreSQL when `FW_TEST_POSTGRES_URL` names a server.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// Sends `GET uri` as user `username` (through an API token; `None` for an
/// anonymous request) to the application over a fresh database with its
/// tables, and returns the status and the body as JSON.
async fn get(uri: &str, username: Option<&str>) -> (StatusCode, Value) {
    let app = app::app();
    let db = fw::testing::TestDb::from_env().await;
    fw::testing::create_tables(db.db(), app.models())
        .await
        .expect("create the tables");
    let mut request = Request::builder().uri(uri);
    if let Some(username) = username {
        let bearer = fw::testing::bearer(db.db(), username, &[]).await;
        request = request.header(header::AUTHORIZATION, bearer);
    }
    let request = request.body(Body::empty()).expect("a request");
    let response = app
        .router(db.context())
        .oneshot(request)
        .await
        .expect("a response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the body");
    (status, serde_json::from_slice(&bytes).expect("a JSON body"))
}

#[tokio::test]
async fn a_signed_in_user_is_told_who_they_are() {
    let (status, me) = get("/auth/me", Some("alice")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "alice", "{me}");
}

#[tokio::test]
async fn a_request_without_credentials_is_a_401() {
    let (status, problem) = get("/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
}

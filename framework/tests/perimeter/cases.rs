//! Backend-agnostic cases for what stands between the network and an app's
//! routes: the application's own layers, CORS, health probes, security
//! headers, compression and the docs page, through an app's router in-process.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use fw::testing::TestDb;
use fw::{App, AppContext};
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
        assert_eq!(reply.header("x-served-by"), "perimeter-test", "{method} {uri}");
    }
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        an_application_layer_wraps_every_route,
    ],
}

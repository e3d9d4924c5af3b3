//! Backend-agnostic cases for the identity endpoints (`/auth/login`,
//! `/auth/logout`, `/auth/me`, `/auth/tokens`), login throttling and the
//! CSRF check of cookie writes, through an app's router in-process.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use fw::auth::{User, UserPatch};
use fw::testing::TestDb;
use fw::{App, AppContext, Model};
use serde_json::{Value as Json, json};
use tower::ServiceExt as _;

#[fw::model]
pub(crate) struct Note {
    pub(crate) id: i64,
    #[field(max_length = 200)]
    pub(crate) text: String,
}

const PASSWORD: &str = "correct horse battery";

/// An app with identity on, `Note`, `POST /notes` (writes a note) and
/// `GET /ping`.
fn app(test_db: &TestDb) -> App {
    App::new("endpoints", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .model::<Note>()
        .auth()
        .routes(|app| {
            Router::new()
                .route("/notes", post(add_note))
                .route("/ping", get(|| async { "pong" }))
                .with_state(app)
        })
}

async fn add_note(State(app): State<AppContext>) -> StatusCode {
    let new = NewNote {
        text: "hello".to_owned(),
    };
    match Note::insert(&app.db, new).await {
        Ok(_) => StatusCode::CREATED,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The router of [`app`] on `test_db`, its tables created.
async fn router(test_db: &TestDb) -> Router {
    let app = app(test_db);
    fw::testing::create_tables(test_db.db(), app.models())
        .await
        .unwrap();
    app.router(test_db.context())
}

/// Creates user `username` with [`PASSWORD`], as an operator would.
async fn create_user(test_db: &TestDb, username: &str) {
    let args = ["endpoints", "createuser", username];
    let created = app(test_db)
        .run_with_input(args, format!("{PASSWORD}\n"))
        .await;
    assert_eq!(created, ExitCode::SUCCESS, "createuser {username}");
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` in {:?}", self.headers))
            .to_str()
            .unwrap()
    }

    /// The `fw_session=...` pair of the `Set-Cookie` header, to send back.
    fn session_cookie(&self) -> String {
        let set = self.header("set-cookie");
        let pair = set.split(';').next().unwrap().to_owned();
        assert!(pair.starts_with("fw_session=") && pair.len() > 20, "{set}");
        pair
    }

    fn assert_problem(&self, status: StatusCode) -> &Reply {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.header("content-type"), "application/problem+json");
        self
    }

    /// The `(pointer, code)` of each field error.
    fn pointers(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|error| {
                (
                    error["pointer"].as_str().unwrap().to_owned(),
                    error["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// A request for `router`; `body` is sent as JSON.
struct Call<'a> {
    method: &'a str,
    uri: &'a str,
    headers: Vec<(&'a str, String)>,
    body: Option<Json>,
    peer: Option<SocketAddr>,
}

fn call<'a>(method: &'a str, uri: &'a str) -> Call<'a> {
    Call {
        method,
        uri,
        headers: vec![("host", "localhost:8000".to_owned())],
        body: None,
        peer: None,
    }
}

impl<'a> Call<'a> {
    fn header(mut self, name: &'a str, value: impl Into<String>) -> Call<'a> {
        self.headers.retain(|(other, _)| *other != name);
        self.headers.push((name, value.into()));
        self
    }

    /// From a page of this site, as a browser says it.
    fn same_origin(self) -> Call<'a> {
        self.header("sec-fetch-site", "same-origin")
    }

    fn json(mut self, body: Json) -> Call<'a> {
        self.body = Some(body);
        self
    }

    fn sent_from(mut self, peer: &str) -> Call<'a> {
        self.peer = Some(peer.parse().unwrap());
        self
    }

    async fn send(self, router: &Router) -> Reply {
        let mut request = Request::builder().method(self.method).uri(self.uri);
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let body = match &self.body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(json).unwrap())
            }
            None => Body::empty(),
        };
        let mut request = request.body(body).unwrap();
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            headers,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}

fn login<'a>(username: &str, password: &str) -> Call<'a> {
    call("POST", "/auth/login").json(json!({"username": username, "password": password}))
}

/// A login answers with the user and a session cookie that identifies them
/// on `/auth/me`; the cookie is `Secure` except on a loopback name.
async fn a_login_starts_a_session(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    let reply = login("alice", PASSWORD).send(&router).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let set = reply.header("set-cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(set.contains(attribute), "{set} lacks {attribute}");
    }
    assert!(!set.contains("Secure"), "plain HTTP on localhost: {set}");
    assert_eq!(reply.header("cache-control"), "no-store");
    let logged_in = reply.json();
    assert_eq!(logged_in["username"], "alice");
    assert_eq!(logged_in["credential"]["type"], "session");
    assert!(!reply.text.contains(PASSWORD));

    let cookie = reply.session_cookie();
    let me = call("GET", "/auth/me")
        .header("cookie", &cookie)
        .send(&router)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json(), logged_in, "the login answers as /auth/me does");
    assert_eq!(me.json()["roles"], json!([]), "no roles given: {}", me.text);

    let remote = login("alice", PASSWORD)
        .header("host", "app.example.com")
        .send(&router)
        .await;
    assert!(remote.header("set-cookie").contains("; Secure"));

    call("GET", "/auth/me")
        .send(&router)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// Every login makes a new session and ends the one the browser sent, so a
/// cookie planted before the login, or kept from an earlier one, is worthless.
async fn a_login_rotates_the_session(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    let first = login("alice", PASSWORD)
        .send(&router)
        .await
        .session_cookie();
    let second = login("alice", PASSWORD)
        .header("cookie", &first)
        .same_origin()
        .send(&router)
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let second = second.session_cookie();
    assert_ne!(first, second);
    let me = |cookie: String| call("GET", "/auth/me").header("cookie", cookie);
    me(first.clone())
        .send(&router)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(me(second).send(&router).await.status, StatusCode::OK);

    let planted = format!("fw_session={}", "P".repeat(43));
    let reply = login("alice", PASSWORD)
        .header("cookie", &planted)
        .send(&router)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "a stale cookie does not stop a login"
    );
    assert_ne!(reply.session_cookie(), planted);
    let reply = login("alice", PASSWORD)
        .header("cookie", "fw_session=malformed")
        .send(&router)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// Logout ends the session on the server (its cookie is a 401 afterwards,
/// its row gone) and removes the cookie; without a session it is a 204 too.
async fn a_logout_ends_the_session_on_the_server(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    let cookie = login("alice", PASSWORD)
        .send(&router)
        .await
        .session_cookie();
    let reply = call("POST", "/auth/logout")
        .header("cookie", &cookie)
        .same_origin()
        .send(&router)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text);
    assert!(reply.header("set-cookie").contains("Max-Age=0"));
    let sessions: i64 = fw::sql("SELECT COUNT(*) FROM \"fw_session\"")
        .fetch_one(test_db.db(), |row| row.get(0))
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    call("GET", "/auth/me")
        .header("cookie", &cookie)
        .send(&router)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let again = call("POST", "/auth/logout").send(&router).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
}

/// A wrong password, an unknown user and an inactive user get the same
/// answer, so it tells nobody which usernames exist.
async fn failed_logins_all_look_the_same(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    create_user(&test_db, "bob").await;
    let bob = User::query()
        .filter(User::USERNAME.eq("bob"))
        .first(test_db.db())
        .await
        .unwrap()
        .unwrap();
    let inactive = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    User::patch(test_db.db(), bob.id, inactive).await.unwrap();

    let mut bodies = Vec::new();
    for (username, password) in [
        ("alice", "wrong password"),
        ("nobody", PASSWORD),
        ("bob", PASSWORD),
        ("not a username!", PASSWORD),
    ] {
        let reply = login(username, password).send(&router).await;
        reply.assert_problem(StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), "Bearer");
        assert!(reply.headers.get("set-cookie").is_none());
        bodies.push(reply.text);
    }
    assert!(bodies.iter().all(|body| *body == bodies[0]), "{bodies:#?}");

    let reply = call("POST", "/auth/login")
        .json(json!({"username": "a".repeat(151), "password": 7, "remember": true}))
        .send(&router)
        .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = reply.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            ("/password".to_owned(), "invalid".to_owned()),
            ("/remember".to_owned(), "unknown_field".to_owned()),
            ("/username".to_owned(), "max_length".to_owned()),
        ]
    );
    let long_password = "p".repeat(1025);
    login("alice", &long_password)
        .send(&router)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    call("POST", "/auth/login")
        .header("content-type", "application/json")
        .send(&router)
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
}

fn assert_throttled(reply: &Reply) {
    reply.assert_problem(StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = reply.header("retry-after").parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
}

/// After 5 failures an account is refused with 429 and `Retry-After`, even
/// with the right password; other accounts are not.
async fn failed_logins_are_throttled_per_account(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    create_user(&test_db, "bob").await;
    for _ in 0..5 {
        login("alice", "wrong password")
            .send(&router)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    assert_throttled(&login("alice", PASSWORD).send(&router).await);
    assert_eq!(
        login("bob", PASSWORD).send(&router).await.status,
        StatusCode::OK
    );
}

/// After 20 failures from one address, any login from it is refused with
/// 429, whichever the account; the same account from elsewhere is not. A
/// success takes its attempt back.
async fn failed_logins_are_throttled_per_address(test_db: TestDb) {
    let router = router(&test_db).await;
    create_user(&test_db, "alice").await;
    let attacker = "192.0.2.7:50000";
    assert_eq!(
        login("alice", PASSWORD)
            .sent_from(attacker)
            .send(&router)
            .await
            .status,
        StatusCode::OK
    );
    for index in 0..20 {
        login(&format!("guess{index}"), "wrong password")
            .sent_from(attacker)
            .send(&router)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }
    assert_throttled(
        &login("alice", PASSWORD)
            .sent_from(attacker)
            .send(&router)
            .await,
    );
    let reply = login("alice", PASSWORD)
        .sent_from("198.51.100.1:40000")
        .send(&router)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// A write with the session cookie must show it comes from this site; a
/// read, and a write with a bearer token, need nothing.
async fn cookie_writes_must_come_from_this_site(test_db: TestDb) {
    let router = router(&test_db).await;
    let db = test_db.db();
    let cookie = fw::testing::session_cookie(db, "carol", &["add_note"]).await;
    let host = ("host", "app.example.com");
    let post = || {
        call("POST", "/notes")
            .header(host.0, host.1)
            .header("cookie", &cookie)
    };
    for refused in [
        post(),
        post().header("origin", "https://evil.example"),
        post().header("origin", "null"),
        post().header("sec-fetch-site", "cross-site"),
        post()
            .header("sec-fetch-site", "same-site")
            .header("origin", "https://app.example.com"),
    ] {
        let reply = refused.send(&router).await;
        reply.assert_problem(StatusCode::FORBIDDEN);
        assert!(reply.text.contains("this site"), "{}", reply.text);
    }
    for allowed in [
        post().header("origin", "https://app.example.com"),
        post().same_origin(),
        post().header("sec-fetch-site", "none"),
    ] {
        assert_eq!(allowed.send(&router).await.status, StatusCode::CREATED);
    }
    let read = call("GET", "/ping")
        .header("cookie", &cookie)
        .send(&router)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let bearer = fw::testing::bearer(db, "carol", &[]).await;
    let reply = call("POST", "/notes")
        .header("authorization", bearer)
        .send(&router)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);

    let reply = call("POST", "/auth/logout")
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send(&router)
        .await;
    reply.assert_problem(StatusCode::FORBIDDEN);
    let still = call("GET", "/auth/me")
        .header("cookie", &cookie)
        .send(&router)
        .await;
    assert_eq!(
        still.status,
        StatusCode::OK,
        "another site cannot log carol out"
    );

    create_user(&test_db, "alice").await;
    login("alice", PASSWORD)
        .header("sec-fetch-site", "cross-site")
        .send(&router)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    login("alice", PASSWORD)
        .header("origin", "https://evil.example")
        .send(&router)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let from_this_site = login("alice", PASSWORD)
        .header("origin", "http://localhost:8000")
        .send(&router)
        .await;
    assert_eq!(from_this_site.status, StatusCode::OK);
}

/// What the database holds for token `id`: its name, prefix, hash and
/// scopes, in one line.
async fn stored_token(db: &fw::Db, id: i64) -> String {
    fw::sql(
        "SELECT \"name\" || ' ' || \"prefix\" || ' ' || \"token_hash\" || ' ' || \
         COALESCE(\"scopes\", '') FROM \"fw_api_token\" WHERE \"id\" = $1",
    )
    .bind(id)
    .fetch_one(db, |row| row.get(0))
    .await
    .unwrap()
}

/// A user makes a token (shown once, stored as a hash), lists their tokens
/// (never a secret), uses it, and revokes it, after which it is a 401.
async fn tokens_are_made_listed_and_revoked(test_db: TestDb) {
    let router = router(&test_db).await;
    let db = test_db.db();
    let cookie = fw::testing::session_cookie(db, "dave", &["view_note", "add_note"]).await;
    let create = |body: Json| {
        call("POST", "/auth/tokens")
            .header("cookie", &cookie)
            .same_origin()
            .json(body)
    };
    let reply = create(json!({"name": "ci", "scopes": ["view_note"], "expires_in_days": 30}))
        .send(&router)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), "no-store");
    let created = reply.json();
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();
    assert!(token.starts_with("fw_") && token.len() == 46, "{token}");
    assert_eq!(created["prefix"], token[..10]);
    assert_eq!(created["scopes"], json!(["view_note"]));
    assert!(created["expires_at"].is_string());
    let stored = stored_token(db, id).await;
    assert!(
        !stored.contains(&token[3..]),
        "the row holds no token: {stored}"
    );
    assert_eq!(stored.split(' ').nth(2).unwrap().len(), 64, "a SHA-256");

    let bearer = format!("Bearer {token}");
    let me = call("GET", "/auth/me")
        .header("authorization", &bearer)
        .send(&router)
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json()["permissions"], json!(["view_note"]));
    assert_eq!(me.json()["credential"], json!({"type": "token", "id": id}));

    let listed = call("GET", "/auth/tokens")
        .header("authorization", &bearer)
        .send(&router)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text.contains(&token[10..]), "{}", listed.text);
    let results = listed.json()["results"].as_array().unwrap().clone();
    assert!(results.iter().all(|token| token.get("token").is_none()));
    assert!(
        results
            .iter()
            .any(|token| token["id"] == id && token["name"] == "ci")
    );

    // A token made with the scoped token holds no more than it does.
    let child = call("POST", "/auth/tokens")
        .header("authorization", &bearer)
        .json(json!({"name": "child"}))
        .send(&router)
        .await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.text);
    assert_eq!(child.json()["scopes"], json!(["view_note"]));

    let erin = fw::testing::bearer(db, "erin", &["view_note"]).await;
    let others = call("DELETE", &format!("/auth/tokens/{id}"))
        .header("authorization", &erin)
        .send(&router)
        .await;
    others.assert_problem(StatusCode::NOT_FOUND);
    for missing in ["/auth/tokens/999999", "/auth/tokens/abc"] {
        call("DELETE", missing)
            .header("authorization", &erin)
            .send(&router)
            .await
            .assert_problem(StatusCode::NOT_FOUND);
    }
    let still = call("GET", "/auth/me").header("authorization", &bearer);
    assert_eq!(still.send(&router).await.status, StatusCode::OK);

    let revoked = call("DELETE", &format!("/auth/tokens/{id}"))
        .header("cookie", &cookie)
        .same_origin()
        .send(&router)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    call("GET", "/auth/me")
        .header("authorization", &bearer)
        .send(&router)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let listed = call("GET", "/auth/tokens")
        .header("cookie", &cookie)
        .send(&router)
        .await;
    let revoked_row = listed.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|token| token["id"] == id)
        .cloned()
        .unwrap();
    assert!(revoked_row["revoked_at"].is_string(), "{revoked_row}");
}

/// Token bodies are checked like resources' bodies: scopes the caller does
/// not hold, bad names and unknown fields are 422s with pointers.
async fn token_bodies_are_checked(test_db: TestDb) {
    let router = router(&test_db).await;
    let db = test_db.db();
    let bearer = fw::testing::bearer(db, "dave", &["view_note"]).await;
    let create = |body: Json| {
        call("POST", "/auth/tokens")
            .header("authorization", &bearer)
            .json(body)
    };
    let reply = create(json!({"name": "wide", "scopes": ["view_note", "delete_note"]}))
        .send(&router)
        .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        reply.pointers(),
        [("/scopes/1".to_owned(), "not_held".to_owned())]
    );
    let reply = create(json!({
        "name": "x".repeat(101),
        "scopes": ["Not A Name"],
        "expires_in_days": 0,
        "colour": "red",
    }))
    .send(&router)
    .await;
    reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut pointers = reply.pointers();
    pointers.sort();
    assert_eq!(
        pointers,
        [
            ("/colour".to_owned(), "unknown_field".to_owned()),
            ("/expires_in_days".to_owned(), "invalid".to_owned()),
            ("/name".to_owned(), "max_length".to_owned()),
            ("/scopes/0".to_owned(), "pattern".to_owned()),
        ]
    );
    let many: Vec<String> = (0..65).map(|index| format!("scope_{index}")).collect();
    let reply = create(json!({"name": "many", "scopes": many}))
        .send(&router)
        .await;
    assert_eq!(
        reply.pointers(),
        [("/scopes".to_owned(), "max_items".to_owned())]
    );
    let reply = create(json!({})).send(&router).await;
    assert_eq!(
        reply.pointers(),
        [("/name".to_owned(), "required".to_owned())]
    );
    let reply = create(json!({"name": "   "})).send(&router).await;
    assert_eq!(reply.pointers(), [("/name".to_owned(), "blank".to_owned())]);
    let tokens: i64 = fw::sql("SELECT COUNT(*) FROM \"fw_api_token\"")
        .fetch_one(db, |row| row.get(0))
        .await
        .unwrap();
    assert_eq!(tokens, 1, "only the test's own token");
    call("POST", "/auth/tokens")
        .json(json!({"name": "anonymous"}))
        .send(&router)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// A user has at most 100 working tokens made through the API; revoking one
/// makes room for another.
async fn working_tokens_are_bounded(test_db: TestDb) {
    let router = router(&test_db).await;
    let bearer = fw::testing::bearer(test_db.db(), "dave", &[]).await;
    let create = || {
        call("POST", "/auth/tokens")
            .header("authorization", &bearer)
            .json(json!({"name": "one of many"}))
    };
    let mut last = 0;
    for _ in 1..100 {
        let reply = create().send(&router).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        last = reply.json()["id"].as_i64().unwrap();
    }
    let refused = create().send(&router).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(refused.text.contains("revoke one"), "{}", refused.text);
    let revoked = call("DELETE", &format!("/auth/tokens/{last}"))
        .header("authorization", &bearer)
        .send(&router)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(create().send(&router).await.status, StatusCode::CREATED);
}

/// The endpoints are in the OpenAPI document under the tag `auth`.
async fn the_endpoints_are_documented(test_db: TestDb) {
    let app = app(&test_db);
    let document = app.api_spec().unwrap().openapi_json();
    for (path, method) in [
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/auth/me", "get"),
        ("/auth/tokens", "get"),
        ("/auth/tokens", "post"),
        ("/auth/tokens/{id}", "delete"),
    ] {
        let operation = &document["paths"][path][method];
        assert_eq!(operation["tags"], json!(["auth"]), "{method} {path}");
    }
    let login = &document["paths"]["/auth/login"]["post"]["responses"];
    assert!(login["429"]["headers"]["Retry-After"].is_object());
    assert!(login["401"].is_object() && login["403"].is_object());
    app.api_spec().unwrap().openapi().expect("a valid document");
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        a_login_starts_a_session,
        a_login_rotates_the_session,
        a_logout_ends_the_session_on_the_server,
        failed_logins_all_look_the_same,
        failed_logins_are_throttled_per_account,
        failed_logins_are_throttled_per_address,
        cookie_writes_must_come_from_this_site,
        tokens_are_made_listed_and_revoked,
        token_bodies_are_checked,
        working_tokens_are_bounded,
        the_endpoints_are_documented,
    ],
}

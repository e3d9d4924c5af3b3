//! Backend-agnostic cases for identity: requests with tokens and session
//! cookies through an app's router (in-process, `tower::ServiceExt::oneshot`),
//! the change log's actor, and the identity commands through
//! `App::run_with_input`.

use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use fw::auth::{User, UserPatch};
use fw::testing::TestDb;
use fw::{App, AppContext, Caller, Db, Model};
use tower::ServiceExt as _;

#[fw::model(changelog)]
pub(crate) struct Note {
    pub(crate) id: i64,
    #[field(max_length = 200)]
    pub(crate) text: String,
}

/// An app with identity on, `Note`, and three plain routes: `GET /whoami`
/// (the caller's username, or `anonymous`), `POST /notes` (writes a note)
/// and `GET /ping`.
fn app(auth: bool) -> App {
    let app = App::new("identity", env!("CARGO_MANIFEST_DIR")).model::<Note>();
    let app = if auth { app.auth() } else { app };
    app.routes(|app| {
        Router::new()
            .route("/whoami", get(whoami))
            .route("/notes", post(add_note))
            .route("/ping", get(|| async { "pong" }))
            .with_state(app)
    })
}

async fn whoami(caller: Caller) -> String {
    match caller.identity() {
        Some(identity) => identity.username.clone(),
        None => "anonymous".to_owned(),
    }
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
async fn router(test_db: &TestDb, auth: bool) -> Router {
    let app = app(auth);
    fw::testing::create_tables(test_db.db(), app.models())
        .await
        .unwrap();
    app.router(test_db.context())
}

async fn send(router: &Router, method: &str, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn assert_unauthenticated(response: &Response, what: &str) {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    let headers: &HeaderMap = response.headers();
    assert!(headers.contains_key("www-authenticate"), "{what}");
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{what}"
    );
    assert!(
        headers.contains_key("x-request-id"),
        "{what}: the 401 leads to its log"
    );
}

/// A request without credentials is anonymous; a token or a session cookie
/// of an active user is that user.
async fn tokens_and_sessions_identify_their_user(test_db: TestDb) {
    let router = router(&test_db, true).await;
    let db = test_db.db();
    let response = send(&router, "GET", "/whoami", &[]).await;
    assert_eq!(text(response).await, "anonymous");

    let bearer = fw::testing::bearer(db, "alice", &["view_note"]).await;
    let response = send(&router, "GET", "/whoami", &[("authorization", &bearer)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "alice");

    let cookie = fw::testing::session_cookie(db, "bob", &[]).await;
    let response = send(&router, "GET", "/whoami", &[("cookie", &cookie)]).await;
    assert_eq!(text(response).await, "bob");

    let both = [
        ("authorization", bearer.as_str()),
        ("cookie", cookie.as_str()),
    ];
    let response = send(&router, "GET", "/whoami", &both).await;
    assert_eq!(text(response).await, "alice", "the token wins");
}

/// Bad credentials are a 401 even on a public route, so the client learns
/// that its credential is bad; a bad session cookie is also removed.
async fn bad_credentials_are_refused_everywhere(test_db: TestDb) {
    let router = router(&test_db, true).await;
    let db = test_db.db();
    let unknown = format!("Bearer fw_{}", "A".repeat(43));
    let response = send(&router, "GET", "/ping", &[("authorization", &unknown)]).await;
    assert_unauthenticated(&response, "an unknown token");
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    let body = text(response).await;
    assert!(body.contains("\"status\":401"), "{body}");
    for malformed in ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer fw_tooshort"] {
        let response = send(&router, "GET", "/ping", &[("authorization", malformed)]).await;
        assert_unauthenticated(&response, malformed);
    }
    let long = format!("Bearer {}", "x".repeat(10_000));
    let response = send(&router, "GET", "/ping", &[("authorization", &long)]).await;
    assert_unauthenticated(&response, "a long header");

    let response = send(
        &router,
        "GET",
        "/ping",
        &[("cookie", "fw_session=nonsense")],
    )
    .await;
    assert_unauthenticated(&response, "a malformed cookie");
    let stale = format!("fw_session={}", "B".repeat(43));
    let response = send(
        &router,
        "GET",
        "/ping",
        &[("cookie", &stale), ("host", "app.example.com")],
    )
    .await;
    assert_unauthenticated(&response, "an unknown session");
    let cleared = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("fw_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(cleared.contains("Secure"), "{cleared}");

    let bearer = fw::testing::bearer(db, "alice", &[]).await;
    let cookie = fw::testing::session_cookie(db, "alice", &[]).await;
    let alice = User::query()
        .filter(User::USERNAME.eq("alice"))
        .first(db)
        .await
        .unwrap()
        .unwrap();
    let inactive = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    User::patch(db, alice.id, inactive).await.unwrap();
    let response = send(&router, "GET", "/ping", &[("authorization", &bearer)]).await;
    assert_unauthenticated(&response, "an inactive user's token");
    let response = send(&router, "GET", "/ping", &[("cookie", &cookie)]).await;
    assert_unauthenticated(&response, "an inactive user's session");
}

/// Without `App::auth`, credentials are not read: every request is anonymous.
async fn without_auth_every_request_is_anonymous(test_db: TestDb) {
    let router = router(&test_db, false).await;
    let token = format!("Bearer fw_{}", "A".repeat(43));
    let response = send(&router, "GET", "/whoami", &[("authorization", &token)]).await;
    assert_eq!(text(response).await, "anonymous");
}

/// A write made with a token is recorded with the token's actor; an
/// anonymous one with none.
async fn the_change_log_records_the_authenticated_actor(test_db: TestDb) {
    let router = router(&test_db, true).await;
    let db = test_db.db();
    let bearer = fw::testing::bearer(db, "alice", &["add_note"]).await;
    let response = send(
        &router,
        "POST",
        "/notes",
        &[("authorization", &bearer), ("x-request-id", "req-1")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = send(&router, "POST", "/notes", &[]).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let user: i64 = fw::sql("SELECT \"id\" FROM \"fw_user\" WHERE \"username\" = $1")
        .bind("alice".to_owned())
        .fetch_one(db, |row| row.get(0))
        .await
        .unwrap();
    let token: i64 = fw::sql("SELECT \"id\" FROM \"fw_api_token\"")
        .fetch_one(db, |row| row.get(0))
        .await
        .unwrap();
    let first = Note::history(db, 1).await.unwrap();
    assert_eq!(
        first[0].actor.as_deref(),
        Some(format!("user:{user}/token:{token}").as_str())
    );
    assert_eq!(first[0].request_id.as_deref(), Some("req-1"));
    let second = Note::history(db, 2).await.unwrap();
    assert_eq!(second[0].actor, None);
}

/// The app of the command cases, on `test_db`, with its migrations in `dir`.
fn command_app(test_db: &TestDb, dir: &std::path::Path) -> App {
    App::new("identity", dir)
        .default_database_url(test_db.url())
        .model::<Note>()
        .auth()
        .permission("import_notes", "Imports notes from a file.")
        .role("editor", "Writes notes.", &["add_note", "import_notes"])
}

async fn command(test_db: &TestDb, dir: &std::path::Path, args: &[&str], input: &str) -> ExitCode {
    let args = std::iter::once("identity").chain(args.iter().copied());
    command_app(test_db, dir)
        .run_with_input(args, input.to_owned())
        .await
}

async fn users(db: &Db) -> Vec<String> {
    User::query()
        .order_by(User::USERNAME.asc())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|user| user.username)
        .collect()
}

/// The identity tables come with `makemigrations`, roles with `migrate`;
/// the commands create users and tokens, and refuse bad input writing
/// nothing.
async fn the_commands_manage_users_and_tokens(test_db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let db = test_db.db();
    assert_eq!(
        command(&test_db, dir, &["makemigrations"], "").await,
        ExitCode::SUCCESS
    );
    let migration = std::fs::read_dir(dir.join("migrations"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect::<String>();
    for table in [
        "fw_user",
        "fw_role",
        "fw_role_permission",
        "fw_user_role",
        "fw_api_token",
        "fw_session",
    ] {
        assert!(
            migration.contains(&format!("\"{table}\"")),
            "{table} in {migration}"
        );
    }
    assert_eq!(
        command(&test_db, dir, &["migrate"], "").await,
        ExitCode::SUCCESS
    );
    assert_eq!(
        command(&test_db, dir, &["migrate"], "").await,
        ExitCode::SUCCESS
    );

    let create = [
        "createuser",
        "alice",
        "--role",
        "editor",
        "--email",
        "alice@example.com",
    ];
    assert_eq!(
        command(&test_db, dir, &create, "correct horse\n").await,
        ExitCode::SUCCESS
    );
    let alice = User::query().first(db).await.unwrap().unwrap();
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    let first_hash = alice.password_hash.clone().unwrap();
    assert!(first_hash.starts_with("$argon2id$"));

    let refused: [(&[&str], &str); 5] = [
        (&["createuser", "bob"], "short\n"),
        (&["createuser", "bob"], ""),
        (
            &["createuser", "bob", "--role", "edtior"],
            "correct horse\n",
        ),
        (&["createuser", "alice"], "correct horse\n"),
        (&["createuser", "not a name"], "correct horse\n"),
    ];
    for (args, input) in refused {
        assert_eq!(
            command(&test_db, dir, args, input).await,
            ExitCode::FAILURE,
            "{args:?}"
        );
    }
    assert_eq!(users(db).await, ["alice"], "refused commands write nothing");
    let bot = ["createuser", "bot", "--no-password", "--superuser"];
    assert_eq!(command(&test_db, dir, &bot, "").await, ExitCode::SUCCESS);

    let change = ["changepassword", "alice"];
    assert_eq!(
        command(&test_db, dir, &change, "battery staple\r\n").await,
        ExitCode::SUCCESS
    );
    let alice = User::get(db, alice.id).await.unwrap();
    assert_ne!(alice.password_hash.unwrap(), first_hash);
    let nobody = ["changepassword", "nobody"];
    assert_eq!(
        command(&test_db, dir, &nobody, "battery staple\n").await,
        ExitCode::FAILURE
    );

    let create_token = [
        "createtoken",
        "alice",
        "--name",
        "ci",
        "--scope",
        "import_notes",
        "--expires-in-days",
        "30",
    ];
    assert_eq!(
        command(&test_db, dir, &create_token, "").await,
        ExitCode::SUCCESS
    );
    let stored: (i64, Option<String>, String) =
        fw::sql("SELECT \"id\", \"scopes\", \"prefix\" FROM \"fw_api_token\"")
            .fetch_one(db, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .await
            .unwrap();
    assert_eq!(stored.1.as_deref(), Some("import_notes"));
    assert!(stored.2.starts_with("fw_"));
    let typo = [
        "createtoken",
        "alice",
        "--name",
        "x",
        "--scope",
        "imprt_notes",
    ];
    assert_eq!(command(&test_db, dir, &typo, "").await, ExitCode::FAILURE);
    let tokens = ["tokens", "alice"];
    assert_eq!(command(&test_db, dir, &tokens, "").await, ExitCode::SUCCESS);

    let id = stored.0.to_string();
    assert_eq!(
        command(&test_db, dir, &["revoketoken", &id], "").await,
        ExitCode::SUCCESS
    );
    let revoked: bool = fw::sql("SELECT \"revoked_at\" IS NOT NULL FROM \"fw_api_token\"")
        .fetch_one(db, |row| row.get(0))
        .await
        .unwrap();
    assert!(revoked);
    assert_eq!(
        command(&test_db, dir, &["revoketoken", "999"], "").await,
        ExitCode::FAILURE
    );
    assert_eq!(
        command(&test_db, dir, &["roles"], "").await,
        ExitCode::SUCCESS
    );
    let grants: Vec<String> =
        fw::sql("SELECT \"permission\" FROM \"fw_role_permission\" ORDER BY 1")
            .fetch_all(db, |row| row.get(0))
            .await
            .unwrap();
    assert_eq!(grants, ["add_note", "import_notes"]);
}

/// A command acting for a user reads what the user's roles grant: nothing
/// for an unknown or inactive user, everything for a superuser.
async fn commands_read_a_user_s_grants(test_db: TestDb) {
    let _ = router(&test_db, true).await;
    let db = test_db.db();
    fw::testing::bearer(db, "carol", &["add_note", "view_note"]).await;
    let carol = fw::auth::grants(db, "carol").await.unwrap().expect("carol");
    assert!(carol.has("add_note") && carol.has("view_note"));
    assert!(!carol.has("delete_note"));
    assert!(fw::auth::grants(db, "nobody").await.unwrap().is_none());

    let patch = UserPatch {
        is_superuser: Some(true),
        ..UserPatch::default()
    };
    User::patch(db, carol.user.id, patch).await.unwrap();
    let carol = fw::auth::grants(db, "carol").await.unwrap().expect("carol");
    assert!(
        carol.has("delete_note"),
        "a superuser holds every permission"
    );

    let patch = UserPatch {
        is_active: Some(false),
        ..UserPatch::default()
    };
    User::patch(db, carol.user.id, patch).await.unwrap();
    assert!(
        fw::auth::grants(db, "carol").await.unwrap().is_none(),
        "an inactive user acts for nobody"
    );
}

/// A role granting a permission that does not exist stops `check` and
/// `serve`, naming the closest one.
async fn an_unknown_permission_stops_the_app(test_db: TestDb) {
    let app = App::new("identity", env!("CARGO_MANIFEST_DIR"))
        .model::<Note>()
        .auth()
        .role("reader", "Reads notes.", &["veiw_note"]);
    let error = app.check_permissions().unwrap_err().to_string();
    assert!(error.contains("did you mean `view_note`?"), "{error}");
    let app = App::new("identity", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .model::<Note>()
        .auth()
        .role("reader", "Reads notes.", &["veiw_note"]);
    assert_eq!(app.run_with(["identity", "serve"]).await, ExitCode::FAILURE);
}

fw::testing::database_suite! {
    database: crate::DATABASE,
    cases: [
        tokens_and_sessions_identify_their_user,
        bad_credentials_are_refused_everywhere,
        without_auth_every_request_is_anonymous,
        the_change_log_records_the_authenticated_actor,
        the_commands_manage_users_and_tokens,
        an_unknown_permission_stops_the_app,
        commands_read_a_user_s_grants,
    ],
}

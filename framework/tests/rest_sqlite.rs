//! The REST layer over HTTP on SQLite: every case in `rest/cases.rs`.

#[path = "rest/cases.rs"]
mod cases;
#[path = "rest/models.rs"]
mod models;

/// The database every case in `rest/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Sqlite;

/// The OpenAPI document is a reviewed artifact: a change to a model or a
/// resource shows up as a snapshot diff. (It does not depend on the database.)
#[test]
fn openapi_document_snapshot() {
    insta::assert_json_snapshot!("rest_openapi", models::api().openapi_json());
}

/// The securities again, under the name `SecurityResource` already has.
#[fw::resource(
    model = models::Security,
    name = "Security",
    path = "/tickers",
    actions(list),
    permissions(public)
)]
struct TickerResource {
    id: i64,
    symbol: String,
}

/// Two resources of one name would share their schemas in the document:
/// registering the second is refused, naming both and the way out.
#[test]
#[should_panic(
    expected = "the resources at `/securities` and `/tickers` are both named `Security`"
)]
fn two_resources_of_one_name_are_refused() {
    let _ = fw::Api::new("Test API", "1.0.0")
        .resource::<models::SecurityResource>()
        .resource::<TickerResource>();
}

/// The test models' API over `test_db`, through a `Db` of its own that waits at
/// most `wait` for the database.
async fn app_waiting(test_db: &fw::testing::TestDb, wait: std::time::Duration) -> axum::Router {
    fw::testing::create_tables(test_db.db(), &models::all())
        .await
        .expect("create the test tables");
    let options = fw::ConnectOptions::default().wait_timeout(wait);
    let db = fw::Db::connect_with(&test_db.url(), options)
        .await
        .expect("connect");
    models::api().into_router(fw::AppContext {
        db,
        ..test_db.context()
    })
}

fn security(symbol: &str) -> Option<serde_json::Value> {
    Some(serde_json::json!({"symbol": symbol, "issuer": "Test Corp"}))
}

fn assert_unavailable(reply: &cases::Reply) {
    use axum::http::StatusCode;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry_after > 0);
}

/// A full disk fails the write with a 503, not a 500, and once there is space
/// again writes succeed without a restart: the writer connection that the
/// failure left inside a transaction is replaced. `max_page_count` on the
/// writer connection stands in for the full disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_503_and_writes_resume_once_there_is_space() {
    use axum::http::StatusCode;
    let test_db = fw::testing::TestDb::sqlite().await;
    let db = test_db.db();
    fw::testing::create_tables(db, &models::all())
        .await
        .expect("create the test tables");
    db.execute_raw("CREATE TABLE filler (data BLOB)")
        .await
        .expect("create the filler table");
    let app = models::api().into_router(test_db.context());
    // The pragma answers with the new limit, which is never below the pages in
    // use: asking for 1 caps the file where it is.
    db.execute_raw("PRAGMA max_page_count = 1")
        .await
        .expect("cap");
    let mut full = None;
    for n in 0..500 {
        let reply = cases::send(&app, "POST", "/securities", &[], security(&format!("F{n}"))).await;
        if reply.status != StatusCode::CREATED {
            full = Some(reply);
            break;
        }
    }
    let full = full.expect("the capped database fills up");
    assert_unavailable(&full);
    assert!(
        full.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no space"),
        "{}",
        full.body
    );
    // A one-row statement (no statement journal) that fails on a full disk makes
    // SQLite roll the whole transaction back, behind the driver's back: the
    // writer connection is left counting a transaction that no longer exists.
    let mut tx = db.begin().await.expect("begin");
    let filled = tx
        .execute_raw("INSERT INTO filler VALUES (randomblob(100000))")
        .await;
    assert!(
        matches!(
            filled,
            Err(fw::Error::Unavailable {
                cause: fw::Unavailable::Full,
                ..
            })
        ),
        "{filled:?}"
    );
    drop(tx);
    db.execute_raw("PRAGMA max_page_count = 1073741823")
        .await
        .expect("uncap");
    let reply = cases::send(&app, "POST", "/securities", &[], security("ROOM")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// Another process holding SQLite's write lock (an import, say) makes writers
/// wait at most the configured bound and then answers 503 with `Retry-After`,
/// never "database is locked" as a 500; reads go on, and writes resume when the
/// lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_by_another_process_is_a_prompt_503() {
    use axum::http::StatusCode;
    let test_db = fw::testing::TestDb::sqlite().await;
    let app = app_waiting(&test_db, std::time::Duration::from_secs(1)).await;
    let other_process = fw::Db::connect(&test_db.url()).await.expect("connect");
    let lock = other_process.begin().await.expect("take the write lock");

    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        cases::send(&app, "POST", "/securities", &[], security("LOCKED")),
    )
    .await
    .expect("the write waits at most the bound");
    assert_unavailable(&reply);
    let reply = cases::send(&app, "GET", "/securities", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    lock.rollback().await.expect("release the lock");
    let reply = cases::send(&app, "POST", "/securities", &[], security("FREE")).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

//! The perimeter through an app's router in-process: the client's address
//! behind trusted proxies, and rate limits per caller and group, in this
//! process and shared through Redis.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use fw::testing::TestDb;
use fw::{App, AppContext, ClientAddr, Rate, RateLimits, RedisSettings, TrustedProxies};
use serde_json::Value as Json;
use tower::ServiceExt as _;

/// An app with identity on, `GET`/`POST /ping`, `GET /whoami` (the client's
/// address) and `GET /imports/{id}`, in the rate-limit group `imports`.
fn app(test_db: &TestDb) -> App {
    App::new("limits", env!("CARGO_MANIFEST_DIR"))
        .default_database_url(test_db.url())
        .auth()
        .rate_limit("imports", "/imports", Rate::per_minute(2))
        .routes(|_| {
            Router::new()
                .route(
                    "/ping",
                    get(|| async { "pong" }).post(|| async { "posted" }),
                )
                .route(
                    "/whoami",
                    get(|client: Option<ClientAddr>| async move {
                        client.map_or_else(String::new, |ClientAddr(address)| address.to_string())
                    }),
                )
                .route("/imports/{id}", get(|| async { "imported" }))
        })
}

/// A database with [`app`]'s tables.
async fn test_db() -> TestDb {
    let test_db = TestDb::sqlite().await;
    fw::testing::create_tables(test_db.db(), app(&test_db).models())
        .await
        .unwrap();
    test_db
}

/// The router of [`app`] on `test_db` with `configure`d configuration.
async fn router(test_db: &TestDb, configure: impl FnOnce(&mut fw::Config)) -> Router {
    let app = app(test_db);
    let context = test_db.context();
    let mut config = (*context.config).clone();
    configure(&mut config);
    app.check_rate_limits(&config.rate_limits).unwrap();
    app.router(AppContext {
        db: context.db,
        config: Arc::new(config),
    })
}

/// Reads limited to `reads`, writes to 100 a minute.
fn reads(reads: Rate) -> impl FnOnce(&mut fw::Config) {
    move |config| {
        config.rate_limits.reads = Some(reads);
        config.rate_limits.writes = Some(Rate::per_minute(100));
    }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |value| value.to_str().unwrap())
    }
}

/// A request from the socket peer `peer`, with `headers`.
async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    peer: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    let peer = SocketAddr::new(peer.parse().unwrap(), 40000);
    request.extensions_mut().insert(ConnectInfo(peer));
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

async fn get_from(router: &Router, uri: &str, peer: &str) -> Reply {
    send(router, "GET", uri, peer, &[]).await
}

/// Asserts `reply` is the 429 of group `group`, retried after `retry_after`.
fn assert_limited(reply: &Reply, group: &str, retry_after: u64) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text
    );
    assert_eq!(reply.header("content-type"), "application/problem+json");
    assert_eq!(reply.header("retry-after"), retry_after.to_string());
    assert_eq!(
        reply.header("ratelimit"),
        format!("\"{group}\";r=0;t={retry_after}")
    );
    assert!(
        reply
            .header("ratelimit-policy")
            .starts_with(&format!("\"{group}\";q="))
    );
    let problem: Json = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(problem["status"], 429);
    assert_eq!(problem["title"], "Too Many Requests");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("rate-limit group `{group}`")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("retry after {retry_after} second")),
        "{detail}"
    );
}

/// The count-th request of a window is let through with the quota left in
/// its headers; the next is a 429 with `Retry-After`, the `RateLimit`
/// headers and a problem body. Another address, and the same address's
/// writes, have budgets of their own.
#[tokio::test]
async fn the_request_past_the_limit_is_a_429_and_callers_do_not_share_budgets() {
    let test_db = test_db().await;
    let router = router(&test_db, reads(Rate::per_minute(3))).await;
    for (remaining, reset) in [(2, 20), (1, 40), (0, 60)] {
        let reply = get_from(&router, "/ping", "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.header("ratelimit-policy"), "\"reads\";q=3;w=60");
        assert_eq!(
            reply.header("ratelimit"),
            format!("\"reads\";r={remaining};t={reset}")
        );
    }
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 20);
    // A refused request spends nothing: still 20 seconds.
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 20);

    let other = get_from(&router, "/ping", "192.0.2.2").await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.header("ratelimit"), "\"reads\";r=2;t=20");
    let same_network = get_from(&router, "/ping", "2001:db8:0:1::1").await;
    assert_eq!(same_network.status, StatusCode::OK);
    let write = send(&router, "POST", "/ping", "192.0.2.1", &[]).await;
    assert_eq!(write.status, StatusCode::OK, "{}", write.text);
    assert_eq!(write.header("ratelimit"), "\"writes\";r=99;t=1");
    assert_eq!(write.header("ratelimit-policy"), "\"writes\";q=100;w=60");
    // An IPv6 host is counted by its /64.
    for _ in 0..2 {
        assert_eq!(
            get_from(&router, "/ping", "2001:db8:0:1::2").await.status,
            StatusCode::OK
        );
    }
    assert_limited(
        &get_from(&router, "/ping", "2001:db8:0:1::3").await,
        "reads",
        20,
    );
}

/// An authenticated token spends its own budget, not its address's, and
/// another token has its own again.
#[tokio::test]
async fn a_token_does_not_share_the_anonymous_address_s_budget() {
    let test_db = test_db().await;
    let router = router(&test_db, reads(Rate::per_minute(2))).await;
    for _ in 0..2 {
        assert_eq!(
            get_from(&router, "/ping", "192.0.2.1").await.status,
            StatusCode::OK
        );
    }
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 30);
    let alice = fw::testing::bearer(test_db.db(), "alice", &[]).await;
    let bob = fw::testing::bearer(test_db.db(), "bob", &[]).await;
    let as_alice = [("authorization", alice.as_str())];
    for remaining in [1, 0] {
        let reply = send(&router, "GET", "/ping", "192.0.2.1", &as_alice).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.header("ratelimit"),
            format!("\"reads\";r={remaining};t={}", 30 * (2 - remaining))
        );
    }
    assert_limited(
        &send(&router, "GET", "/ping", "192.0.2.1", &as_alice).await,
        "reads",
        30,
    );
    let as_bob = [("authorization", bob.as_str())];
    let reply = send(&router, "GET", "/ping", "192.0.2.1", &as_bob).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// The application's named group has its own limit and budget: the reads
/// spent elsewhere leave it whole, and its requests leave the reads alone.
/// Configuration changes its limit.
#[tokio::test]
async fn a_named_group_has_its_own_budget() {
    let test_db = test_db().await;
    let router = router(&test_db, reads(Rate::per_minute(1))).await;
    assert_eq!(
        get_from(&router, "/ping", "192.0.2.1").await.status,
        StatusCode::OK
    );
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 60);
    for remaining in [1, 0] {
        let reply = get_from(&router, "/imports/7", "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(reply.header("ratelimit-policy"), "\"imports\";q=2;w=60");
        assert!(
            reply
                .header("ratelimit")
                .starts_with(&format!("\"imports\";r={remaining};"))
        );
    }
    assert_limited(
        &send(&router, "POST", "/imports/7", "192.0.2.1", &[]).await,
        "imports",
        30,
    );
    let fresh = get_from(&router, "/ping", "192.0.2.2").await;
    assert_eq!(
        fresh.status,
        StatusCode::OK,
        "its imports do not spend its reads"
    );

    let configured = router_with_imports(&test_db, Some(Rate::per_hour(1))).await;
    let reply = get_from(&configured, "/imports/7", "192.0.2.1").await;
    assert_eq!(reply.header("ratelimit-policy"), "\"imports\";q=1;w=3600");
    let off = router_with_imports(&test_db, None).await;
    for _ in 0..3 {
        let reply = get_from(&off, "/imports/7", "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.header("ratelimit"),
            "",
            "a group that is off sends no headers"
        );
    }
}

async fn router_with_imports(test_db: &TestDb, imports: Option<Rate>) -> Router {
    router(test_db, move |config| {
        config
            .rate_limits
            .groups
            .insert("imports".to_owned(), imports);
    })
    .await
}

/// A spent budget refills at the rate: one request per interval.
#[tokio::test]
async fn the_budget_refills() {
    let test_db = test_db().await;
    let router = router(&test_db, reads(Rate::per_second(2))).await;
    for _ in 0..2 {
        assert_eq!(
            get_from(&router, "/ping", "192.0.2.1").await.status,
            StatusCode::OK
        );
    }
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let refilled = get_from(&router, "/ping", "192.0.2.1").await;
    assert_eq!(
        refilled.status,
        StatusCode::OK,
        "one interval (500 ms) later"
    );
    assert_eq!(refilled.header("ratelimit"), "\"reads\";r=0;t=1");
    assert_eq!(
        get_from(&router, "/ping", "192.0.2.1").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// `FW_RATE_LIMIT=off` turns rate limiting off, headers and all.
#[tokio::test]
async fn rate_limiting_can_be_turned_off() {
    let test_db = test_db().await;
    let router = router(&test_db, |config| {
        config.rate_limits = RateLimits::default();
        config.rate_limits.enabled = false;
        config.rate_limits.reads = Some(Rate::per_minute(1));
    })
    .await;
    for _ in 0..3 {
        let reply = get_from(&router, "/ping", "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("ratelimit-policy"), "");
    }
}

/// Behind a trusted proxy each client has its own address, and budget; a
/// client that is not a trusted proxy cannot name another address.
#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_told_apart() {
    let test_db = test_db().await;
    let router = router(&test_db, |config| {
        config.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        config.rate_limits.reads = Some(Rate::per_minute(2));
    })
    .await;
    let via_proxy = |client: &'static str| [("x-forwarded-for", client)];
    let whoami = send(
        &router,
        "GET",
        "/whoami",
        "10.0.0.1",
        &via_proxy("192.0.2.7, 10.0.0.9"),
    )
    .await;
    assert_eq!(whoami.text, "192.0.2.7");
    let spoofed = send(
        &router,
        "GET",
        "/whoami",
        "203.0.113.9",
        &via_proxy("192.0.2.7"),
    )
    .await;
    assert_eq!(
        spoofed.text, "203.0.113.9",
        "not a trusted proxy: the header is ignored"
    );
    let malformed = send(
        &router,
        "GET",
        "/whoami",
        "10.0.0.1",
        &via_proxy("nonsense"),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::OK);
    assert_eq!(malformed.text, "10.0.0.1", "the proxy itself, never a 500");

    assert_eq!(
        send(&router, "GET", "/ping", "10.0.0.1", &via_proxy("192.0.2.7"))
            .await
            .status,
        StatusCode::OK
    );
    assert_limited(
        &send(&router, "GET", "/ping", "10.0.0.2", &via_proxy("192.0.2.7")).await,
        "reads",
        30,
    );
    let other = send(&router, "GET", "/ping", "10.0.0.1", &via_proxy("192.0.2.8")).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "another client of the same proxy"
    );
}

/// Login throttling counts failures by the client the trusted proxy
/// forwarded, not by the proxy: one client locked out leaves another alone.
#[tokio::test]
async fn login_throttling_counts_the_forwarded_client() {
    let test_db = test_db().await;
    let router = router(&test_db, |config| {
        config.trusted_proxies = TrustedProxies::parse("10.0.0.1").unwrap();
        config.rate_limits.writes = None;
    })
    .await;
    let login = |username: String, client: &'static str| {
        let router = router.clone();
        async move {
            let body = serde_json::json!({"username": username, "password": "wrong password"});
            let request = Request::post("/auth/login")
                .header("content-type", "application/json")
                .header("x-forwarded-for", client)
                .extension(ConnectInfo("10.0.0.1:40000".parse::<SocketAddr>().unwrap()))
                .body(Body::from(body.to_string()))
                .unwrap();
            router.oneshot(request).await.unwrap().status()
        }
    };
    let mut statuses = Vec::new();
    for attempt in 0..21 {
        statuses.push(login(format!("user{attempt}"), "192.0.2.7").await);
    }
    assert!(
        statuses[..20]
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[20], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        login("someone".to_owned(), "192.0.2.8").await,
        StatusCode::UNAUTHORIZED
    );
}

/// The Redis server the shared-limit tests use: `FW_TEST_REDIS_URL`, by
/// default the one on 127.0.0.1:6379. A test that needs it fails, saying how
/// to start one, when none answers.
fn redis_url() -> String {
    let url = std::env::var("FW_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let address = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap()
        .rsplit('@')
        .next()
        .unwrap()
        .to_owned();
    if std::net::TcpStream::connect_timeout(
        &address.parse().expect("FW_TEST_REDIS_URL names host:port"),
        Duration::from_secs(2),
    )
    .is_err()
    {
        panic!(
            "no Redis answers at {url}: start one with `redis-server --daemonize yes --port 6379 \
             --save \"\"`, or set FW_TEST_REDIS_URL"
        );
    }
    url
}

/// A key prefix no other test run uses, so tests run in parallel.
fn unique_prefix() -> String {
    format!("fw-test:{}:", uuid::Uuid::new_v4())
}

/// Two routers, each with its own in-process state, share one budget per
/// caller through Redis: their requests together hit the limit at the
/// configured count.
#[tokio::test]
async fn two_instances_share_limits_through_redis() {
    let test_db = test_db().await;
    let redis = RedisSettings::new(redis_url())
        .unwrap()
        .key_prefix(unique_prefix());
    let instance = || {
        let redis = redis.clone();
        router(&test_db, move |config| {
            config.rate_limits.reads = Some(Rate::per_minute(5));
            config.rate_limits.redis = Some(redis);
        })
    };
    let (first, second) = (instance().await, instance().await);
    for (request, remaining) in (0..5).zip([4, 3, 2, 1, 0]) {
        let router = if request % 2 == 0 { &first } else { &second };
        let reply = get_from(router, "/ping", "192.0.2.1").await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "request {request}: {}",
            reply.text
        );
        assert!(
            reply
                .header("ratelimit")
                .starts_with(&format!("\"reads\";r={remaining};")),
            "{}",
            reply.header("ratelimit")
        );
    }
    assert_limited(&get_from(&second, "/ping", "192.0.2.1").await, "reads", 12);
    assert_limited(&get_from(&first, "/ping", "192.0.2.1").await, "reads", 12);
    assert_eq!(
        get_from(&first, "/ping", "192.0.2.2").await.status,
        StatusCode::OK
    );
}

/// With Redis unreachable, requests are still answered, promptly, and
/// limited by each instance alone.
#[tokio::test]
async fn an_unreachable_redis_limits_per_instance() {
    let test_db = test_db().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let redis = RedisSettings::new(format!("redis://127.0.0.1:{port}")).unwrap();
    let router = router(&test_db, move |config| {
        config.rate_limits.reads = Some(Rate::per_minute(3));
        config.rate_limits.redis = Some(redis);
    })
    .await;
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(
            get_from(&router, "/ping", "192.0.2.1").await.status,
            StatusCode::OK
        );
    }
    assert_limited(&get_from(&router, "/ping", "192.0.2.1").await, "reads", 20);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

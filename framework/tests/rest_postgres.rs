//! The REST layer over HTTP on PostgreSQL: every case in `rest/cases.rs`.

#[path = "rest/cases.rs"]
mod cases;
#[path = "rest/models.rs"]
mod models;

/// The database every case in `rest/cases.rs` runs on.
const DATABASE: fw::Dialect = fw::Dialect::Postgres;

/// A TCP relay between the app and PostgreSQL, to take the database away and
/// bring it back while the app runs.
struct Relay {
    address: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Relays `address` (`127.0.0.1:0` for any free port) to `upstream`.
    async fn start(address: std::net::SocketAddr, upstream: std::net::SocketAddr) -> Relay {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket.bind(address).expect("bind the relay");
        let listener = socket.listen(64).expect("listen");
        let address = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Relay { address, task }
    }

    /// Stops accepting and cuts every relayed connection, as a database that
    /// crashed would.
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The database going away mid-run answers every request with a prompt 503
/// and `Retry-After`, not a hang and a 500, and the app recovers by itself when
/// the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_prompt_503_and_the_app_recovers() {
    use axum::http::StatusCode;
    use std::time::Duration;

    let test_db = fw::testing::TestDb::postgres().await;
    fw::testing::create_tables(test_db.db(), &models::all())
        .await
        .expect("create the test tables");
    let url = test_db.url();
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("host:port in the test URL");
    let upstream = tokio::net::lookup_host(host_port)
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let relay = Relay::start(([127, 0, 0, 1], 0).into(), upstream).await;
    let address = relay.address;
    let relayed_url = url.replacen(host_port, &address.to_string(), 1);
    let options = fw::ConnectOptions::default().wait_timeout(Duration::from_secs(1));
    let db = fw::Db::connect_with(&relayed_url, options)
        .await
        .expect("connect through the relay");
    let app = models::api().into_router(fw::AppContext {
        db,
        ..test_db.context()
    });
    let body = || Some(serde_json::json!({"symbol": "DOWN", "issuer": "Outage Corp"}));
    let reply = cases::send(&app, "GET", "/securities", &[], None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    relay.stop().await;
    for (method, body) in [("GET", None), ("POST", body())] {
        let reply = tokio::time::timeout(
            Duration::from_secs(10),
            cases::send(&app, method, "/securities", &[], body),
        )
        .await
        .expect("answered within the wait bound, not left hanging");
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method}: {}",
            reply.body
        );
        assert_eq!(reply.headers["content-type"], "application/problem+json");
        assert!(reply.headers.contains_key("retry-after"), "{method}");
    }

    let relay = Relay::start(address, upstream).await;
    let reply = cases::send(&app, "POST", "/securities", &[], body()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    relay.stop().await;
}

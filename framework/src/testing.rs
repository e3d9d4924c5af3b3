//! Test support: a fresh, private database per test, on SQLite or PostgreSQL;
//! and, with the `testing` feature, a snapshot of each resource of the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::db::Db;
use crate::{AppContext, Config};

/// The server tests use when `FW_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test and is removed when dropped.
///
/// Each one is private (its own SQLite file, or its own PostgreSQL database), so
/// tests run in parallel without sharing state.
///
/// ```no_run
/// # async fn example() {
/// let test_db = fw::testing::TestDb::sqlite().await;
/// let db = test_db.db();
/// # let _ = db;
/// # }
/// ```
#[derive(Debug)]
pub struct TestDb {
    db: Db,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    SqliteFile(std::path::PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A fresh SQLite database in a temporary file (a file rather than memory, so
    /// it behaves as in production: WAL, a writer and several readers).
    ///
    /// # Panics
    ///
    /// When the temporary directory is not writable.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("fw_test_{}.db", unique_suffix()));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {url}: {error}"));
        TestDb {
            db,
            cleanup: Cleanup::SqliteFile(path),
        }
    }

    /// A fresh PostgreSQL database on the server at `FW_TEST_POSTGRES_URL` (default
    /// [`DEFAULT_TEST_POSTGRES_URL`]), dropped afterwards.
    ///
    /// # Panics
    ///
    /// When no server answers, with a message saying how to start one. PostgreSQL
    /// tests never skip silently.
    pub async fn postgres() -> TestDb {
        let admin_url = postgres_admin_url();
        let admin = Db::connect(&admin_url).await.unwrap_or_else(|error| {
            panic!(
                "PostgreSQL tests need a server, and none answered at {}: {error}\n\
                 Run the tests with `.ci/test`, which starts a private server when none \
                 answers on 127.0.0.1:5432, or point FW_TEST_POSTGRES_URL at a server \
                 where this user may create databases.",
                crate::db::redact_url(&admin_url)
            )
        });
        let name = format!("fw_test_{}", unique_suffix());
        admin
            .execute_raw(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        admin.close().await;
        let url = database_url(&admin_url, &name);
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to test database {name}: {error}"));
        TestDb {
            db,
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The URL of the database, for code under test that connects by itself.
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => format!("sqlite://{}", path.display()),
            Cleanup::PostgresDatabase { admin_url, name } => database_url(admin_url, name),
        }
    }

    /// The application context a server on this database would have, to test
    /// an app through [`App::router`](crate::App::router) without serving it.
    ///
    /// ```no_run
    /// # async fn example(app: fw::App) {
    /// let test_db = fw::testing::TestDb::sqlite().await;
    /// let router = app.router(test_db.context());
    /// # let _ = router;
    /// # }
    /// ```
    pub fn context(&self) -> AppContext {
        AppContext {
            db: self.db.clone(),
            config: Arc::new(Config {
                database_url: self.url(),
                listen: ([127, 0, 0, 1], 0).into(),
                log_filter: "warn".to_owned(),
                json_logs: false,
                http: crate::HttpLimits::default(),
                idempotency_key_ttl: Config::DEFAULT_IDEMPOTENCY_KEY_TTL,
                database_wait_timeout: crate::db::ConnectOptions::DEFAULT_WAIT_TIMEOUT,
            }),
        }
    }
}

/// The PostgreSQL server test databases are created on: `FW_TEST_POSTGRES_URL`
/// when set and not empty, else [`DEFAULT_TEST_POSTGRES_URL`].
pub fn postgres_admin_url() -> String {
    std::env::var("FW_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

/// `admin_url` with its database name replaced by `name` (query parameters kept).
pub fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime, which cannot block on itself,
                // so the database is removed from a thread with its own runtime.
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(runtime) = runtime {
                        runtime.block_on(async {
                            if let Ok(admin) = Db::connect(&admin_url).await {
                                let _ = admin
                                    .execute_raw(&format!(
                                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                    ))
                                    .await;
                                admin.close().await;
                            }
                        });
                    }
                });
                let _ = dropped.join();
            }
        }
    }
}

/// Creates the tables of `models` directly from their schema, without migration
/// files: for tests of code that needs the tables, not the migration history.
///
/// # Errors
///
/// When the DDL cannot be rendered or fails to run.
pub async fn create_tables(
    db: &Db,
    models: &[&'static crate::schema::ModelSchema],
) -> Result<(), crate::migrate::MigrateError> {
    let ddl = crate::migrate::schema_sql(models, db.dialect())?;
    db.execute_raw(&ddl)
        .await
        .map_err(crate::migrate::MigrateError::from)?;
    Ok(())
}

/// Each piece of `app`'s API, named for a snapshot: see [`Api::snapshots`](crate::Api::snapshots).
/// Empty when the application has no API.
pub fn api_snapshots(app: &crate::App) -> Vec<(String, serde_json::Value)> {
    app.api_spec()
        .map(crate::Api::snapshots)
        .unwrap_or_default()
}

/// Snapshots every resource of an application's API with insta: its routes
/// (`METHOD path`), its OpenAPI path items and the schemas they use, one
/// snapshot per resource (`api_<resource>`) plus `api_handlers` for plain
/// handlers. A change to a model or resource then shows up as a snapshot diff
/// to review (`cargo insta review`), resource by resource.
///
/// Needs fw's `testing` feature, in the application's dev-dependencies:
/// `fw = { version = "...", features = ["testing"] }`.
///
/// ```ignore
/// #[test]
/// fn api_snapshots() {
///     fw::assert_api_snapshots!(my_app::app());
/// }
/// ```
#[cfg(feature = "testing")]
#[macro_export]
macro_rules! assert_api_snapshots {
    ($app:expr) => {{
        let app: &$crate::App = &$app;
        for (name, fragment) in $crate::testing::api_snapshots(app) {
            $crate::__private::insta::assert_json_snapshot!(name, fragment);
        }
    }};
}

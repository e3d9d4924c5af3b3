//! Test support: a fresh, private database per test, on SQLite or PostgreSQL
//! ([`TestDb::from_env`] picks the one the environment names);
//! [`database_suite!`] to run a list of cases on each; a valid row of any
//! model in one line ([`factory`]); callers to send requests as
//! ([`superuser`], [`user`], [`bearer`]); and, with the `testing` feature, a
//! snapshot of each resource of the API.

mod factory;

pub use factory::{Factory, factory};

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::auth::{Caller, Credential, Identity};
use crate::db::{Db, Dialect};
use crate::sensitive::Keyring;
use crate::{AppContext, Config};

/// A caller holding every permission, for tests of what an API does rather
/// than of who may do it: insert it as a request extension, as
/// authentication does for a signed-in request.
///
/// ```
/// let request = axum::http::Request::builder()
///     .uri("/dividends")
///     .extension(fw::testing::superuser())
///     .body(axum::body::Body::empty())
///     .unwrap();
/// assert!(request.extensions().get::<fw::Caller>().is_some());
/// ```
pub fn superuser() -> Caller {
    caller(0, "superuser", true, &[])
}

/// A signed-in caller, user `user_id`, holding exactly `permissions` (through
/// an API token): insert it as a request extension.
///
/// ```
/// let caller = fw::testing::user(7, &["view_dividend"]);
/// assert!(caller.require(fw::Access::Permission("view_dividend")).is_ok());
/// assert!(caller.require(fw::Access::Permission("add_dividend")).is_err());
/// ```
pub fn user(user_id: i64, permissions: &[&str]) -> Caller {
    caller(user_id, &format!("user{user_id}"), false, permissions)
}

fn caller(user_id: i64, username: &str, superuser: bool, permissions: &[&str]) -> Caller {
    Caller::User(Arc::new(Identity {
        api_version: None,
        user_id,
        username: username.to_owned(),
        superuser,
        credential: Credential::Token { id: user_id },
        permissions: permissions.iter().map(|name| (*name).to_owned()).collect(),
    }))
}

/// The server tests use when `FW_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_TEST_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The variable naming the PostgreSQL server tests create their databases on;
/// set, it also moves [`TestDb::from_env`] from SQLite to PostgreSQL.
const TEST_POSTGRES_URL_VARIABLE: &str = "FW_TEST_POSTGRES_URL";

/// The variable giving the start of every test database's name.
const TEST_DATABASE_PREFIX_VARIABLE: &str = "FW_TEST_DATABASE_PREFIX";

/// The start of every test database's name when `FW_TEST_DATABASE_PREFIX` is
/// not set.
pub const DEFAULT_TEST_DATABASE_PREFIX: &str = "fw_test";

/// The longest prefix: PostgreSQL's names have at most 63 bytes, and the part
/// that makes each name unique needs about 25 of them.
const MAX_TEST_DATABASE_PREFIX: usize = 30;

/// A database that exists for one test and is removed when dropped.
///
/// Each one is private (its own SQLite file, or its own PostgreSQL database), so
/// tests run in parallel without sharing state. Its name is
/// `<prefix>_<process>_<count>_<nanoseconds>`, the prefix being
/// `FW_TEST_DATABASE_PREFIX` (default `fw_test`): give each project or CI job
/// sharing a server its own, and what a killed run leaves behind is easy to
/// find and drop.
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

/// The keys every [`TestDb`] seals sensitive fields with: [`TEST_SECRET_KEYS`].
pub fn test_keyring() -> Arc<Keyring> {
    static KEYRING: OnceLock<Arc<Keyring>> = OnceLock::new();
    KEYRING
        .get_or_init(|| {
            Arc::new(Keyring::parse(TEST_SECRET_KEYS).expect("the test keys are well-formed"))
        })
        .clone()
}

/// The keys of [`test_keyring`], in `FW_SECRET_KEYS`'s form. For tests only:
/// published here, so anything sealed with them is as good as clear.
pub const TEST_SECRET_KEYS: &str = "test:dGVzdCBrZXk6IHB1YmxpYywgbmV2ZXIgZm9yIGRhdGE=";

/// A name for a new test database: the prefix, then what makes it unique.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!(
        "{}_{}_{}_{nanos}",
        test_database_prefix(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The start of every test database's name: `FW_TEST_DATABASE_PREFIX` when
/// set and not empty, else [`DEFAULT_TEST_DATABASE_PREFIX`].
///
/// # Panics
///
/// When the variable is set to something that cannot start a PostgreSQL
/// database name: lowercase ASCII letters, digits and `_`, starting with a
/// letter, at most 30 characters.
fn test_database_prefix() -> String {
    let Some(prefix) = std::env::var(TEST_DATABASE_PREFIX_VARIABLE)
        .ok()
        .filter(|prefix| !prefix.is_empty())
    else {
        return DEFAULT_TEST_DATABASE_PREFIX.to_owned();
    };
    assert!(
        is_database_prefix(&prefix),
        "{TEST_DATABASE_PREFIX_VARIABLE}={prefix:?} cannot start a database name: use lowercase \
         letters, digits and `_`, starting with a letter, at most {MAX_TEST_DATABASE_PREFIX} \
         characters, e.g. `notebook_test`"
    );
    prefix
}

fn is_database_prefix(prefix: &str) -> bool {
    prefix.len() <= MAX_TEST_DATABASE_PREFIX
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TestDb {
    /// A fresh SQLite database in a temporary file (a file rather than memory, so
    /// it behaves as in production: WAL, a writer and several readers).
    ///
    /// # Panics
    ///
    /// When the temporary directory is not writable.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("cannot create test database {url}: {error}"));
        TestDb {
            db: db.with_keyring(test_keyring()),
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
        let name = unique_name();
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
            db: db.with_keyring(test_keyring()),
            cleanup: Cleanup::PostgresDatabase { admin_url, name },
        }
    }

    /// A fresh database for an application's tests, on the database the
    /// environment names: PostgreSQL when `FW_TEST_POSTGRES_URL` is set (a
    /// database of its own on that server, as [`TestDb::postgres`] makes),
    /// else SQLite ([`TestDb::sqlite`]). One variable then runs the same tests
    /// on either:
    ///
    /// ```text
    /// cargo test                                                              # SQLite
    /// FW_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test  # PostgreSQL
    /// ```
    ///
    /// # Panics
    ///
    /// As [`TestDb::sqlite`] and [`TestDb::postgres`] do.
    pub async fn from_env() -> TestDb {
        match configured_postgres_url() {
            Some(_) => TestDb::postgres().await,
            None => TestDb::sqlite().await,
        }
    }

    /// A fresh database of `dialect`: [`TestDb::sqlite`] or [`TestDb::postgres`].
    ///
    /// # Panics
    ///
    /// As those do.
    pub async fn new(dialect: Dialect) -> TestDb {
        match dialect {
            Dialect::Sqlite => TestDb::sqlite().await,
            Dialect::Postgres => TestDb::postgres().await,
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
                session_idle_timeout: Config::DEFAULT_SESSION_IDLE_TIMEOUT,
                session_max_age: Config::DEFAULT_SESSION_MAX_AGE,
                edge: crate::EdgeConfig::default(),
                secret_keys: Some(test_keyring()),
                trusted_proxies: crate::TrustedProxies::default(),
                rate_limits: crate::RateLimits::default(),
                observe: crate::ObserveConfig::default(),
            }),
        }
    }
}

/// The PostgreSQL server test databases are created on: `FW_TEST_POSTGRES_URL`
/// when set and not empty, else [`DEFAULT_TEST_POSTGRES_URL`].
pub fn postgres_admin_url() -> String {
    configured_postgres_url().unwrap_or_else(|| DEFAULT_TEST_POSTGRES_URL.to_owned())
}

/// `FW_TEST_POSTGRES_URL`, when set and not empty.
fn configured_postgres_url() -> Option<String> {
    std::env::var(TEST_POSTGRES_URL_VARIABLE)
        .ok()
        .filter(|url| !url.is_empty())
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

/// The `Authorization` header of a request made by user `username` holding
/// `permissions`: a new API token of theirs, `Bearer fw_...`. The user is
/// created (without a password) if there is none, and given the permissions
/// through a role of their own. The database needs the identity tables
/// ([`App::auth`](crate::App::auth), then [`create_tables`] of the app's
/// models, or `migrate`).
///
/// ```no_run
/// # async fn example(db: &fw::Db, router: axum::Router) {
/// use tower::ServiceExt as _;
/// let request = axum::http::Request::get("/notes")
///     .header("authorization", fw::testing::bearer(db, "alice", &["view_note"]).await)
///     .body(axum::body::Body::empty())
///     .unwrap();
/// let response = router.oneshot(request).await.unwrap();
/// # let _ = response;
/// # }
/// ```
///
/// # Panics
///
/// When the user, role or token cannot be written (the tables are missing,
/// say), or `username` or a permission is malformed.
pub async fn bearer(db: &Db, username: &str, permissions: &[&str]) -> String {
    let token = async {
        let user = crate::auth::user_with_permissions(db, username, permissions).await?;
        let new = crate::auth::NewToken {
            name: "test".to_owned(),
            expires_at: None,
            scopes: None,
            api_version: None,
        };
        crate::auth::create_token(db, user, new).await
    }
    .await
    .unwrap_or_else(|error| panic!("cannot make a token for `{username}`: {error:#}"));
    format!("Bearer {}", token.token)
}

/// The `Cookie` header of a request from a browser signed in as user
/// `username` holding `permissions`: a new session of theirs,
/// `fw_session=...`, with the default lifetimes. As [`bearer`] for the rest.
///
/// # Panics
///
/// As [`bearer`].
pub async fn session_cookie(db: &Db, username: &str, permissions: &[&str]) -> String {
    let session = async {
        let user = crate::auth::user_with_permissions(db, username, permissions).await?;
        let policy = crate::auth::SessionPolicy {
            idle_timeout: Config::DEFAULT_SESSION_IDLE_TIMEOUT,
            max_age: Config::DEFAULT_SESSION_MAX_AGE,
        };
        crate::auth::create_session(db, user, policy).await
    }
    .await
    .unwrap_or_else(|error| panic!("cannot sign `{username}` in: {error:#}"));
    format!("fw_session={}", session.secret)
}

/// Runs a test's `future` to completion on a runtime of its own with two
/// worker threads, as `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]`
/// does: for the tests [`database_suite!`] defines.
///
/// # Panics
///
/// When the runtime cannot start, and when `future` panics.
#[doc(hidden)]
pub fn run_test<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the test")
        .block_on(future)
}

/// Defines one `#[test]` per case, each on a fresh database of its own, in a
/// module `tests` beside the cases.
///
/// A suite's cases are written once (`tests/db/cases.rs`, say) and included
/// by one test target per database (`tests/db_sqlite.rs`, `tests/db_postgres.rs`),
/// each of which says which database it is, so that every case runs on SQLite
/// and on PostgreSQL. On PostgreSQL each test fails, never skips, when no
/// server answers (see [`TestDb::postgres`]).
///
/// - `database`: the [`Dialect`] to test on, as a path from
///   the crate root (`crate::DATABASE`) or a literal one (`fw::Dialect::Postgres`).
/// - `run` (optional): a function beside the cases that sets up what the cases
///   take and runs one: `async fn with_tables(test_db: TestDb, case: impl
///   AsyncFnOnce(&Db))`. Without it, each case takes the [`TestDb`].
/// - `cases`: the cases, `async fn`s beside the invocation (or imported there).
///
/// ```
/// // tests/db/cases.rs, included by tests/db_sqlite.rs, which declares
/// // `const DATABASE: fw::Dialect = fw::Dialect::Sqlite;`, and by tests/db_postgres.rs.
/// use fw::Db;
/// use fw::testing::TestDb;
/// # const DATABASE: fw::Dialect = fw::Dialect::Sqlite;
/// # fn main() {}
///
/// async fn with_tables(test_db: TestDb, case: impl AsyncFnOnce(&Db)) {
///     test_db.db().execute_raw("CREATE TABLE note (body TEXT)").await.unwrap();
///     case(test_db.db()).await;
/// }
///
/// async fn notes_start_empty(db: &Db) {
///     let count = fw::sql("SELECT COUNT(*) FROM note")
///         .fetch_one(db, |row| row.get::<i64>(0))
///         .await
///         .unwrap();
///     assert_eq!(count, 0);
/// }
///
/// fw::testing::database_suite! {
///     database: crate::DATABASE,
///     run: with_tables,
///     cases: [notes_start_empty],
/// }
/// ```
#[doc(inline)]
pub use crate::__fw_database_suite as database_suite;

/// [`database_suite!`], exported at the crate root as `macro_rules!` macros are.
#[doc(hidden)]
#[macro_export]
macro_rules! __fw_database_suite {
    (
        database: $database:expr,
        $(run: $run:ident,)?
        cases: [$($case:ident),* $(,)?] $(,)?
    ) => {
        $crate::__fw_database_suite!(@tests ($database) [$($run)?] $($case)*);
    };
    (@tests $database:tt $run:tt $($case:ident)*) => {
        mod tests {
            $(
                #[test]
                fn $case() {
                    $crate::testing::run_test(async {
                        let test_db = $crate::testing::TestDb::new $database.await;
                        $crate::__fw_database_suite!(@run $run test_db, super::$case);
                    });
                }
            )*
        }
    };
    (@run [] $test_db:ident, $case:path) => {
        $case($test_db).await
    };
    (@run [$run:ident] $test_db:ident, $case:path) => {
        super::$run($test_db, $case).await
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_prefix_is_the_start_of_a_postgres_name() {
        for prefix in ["fw_test", "notebook_test", "ci_42", "a"] {
            assert!(is_database_prefix(prefix), "{prefix}");
        }
        for prefix in [
            "Notebook",
            "1ci",
            "_x",
            "note-book",
            "note book",
            &"x".repeat(31),
        ] {
            assert!(!is_database_prefix(prefix), "{prefix}");
        }
    }
}

//! [`AppContext`]: what commands and handlers get, the database and the
//! [`Config`] the application started with, read from the environment.
//!
//! It sits below the HTTP layer and the command runner, which both hand it on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::client::TrustedProxies;
use crate::db::{ConnectOptions, Db};
use crate::sensitive::Keyring;
use crate::settings::edge::EdgeConfig;
use crate::settings::env::{count_var, env_var, env_vars, seconds_var, whole_number};
use crate::settings::observe::ObserveConfig;
use crate::settings::rate_limits::RateLimits;

/// What commands and handlers get: the database and the configuration.
#[derive(Debug, Clone)]
pub struct AppContext {
    /// The application's database pool.
    pub db: Db,
    /// The configuration the application started with.
    pub config: Arc<Config>,
}

/// Configuration, read from the environment and a `.env` file in the working
/// directory (real environment variables win).
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; default a SQLite file under the crate's `data/` directory.
    pub database_url: String,
    /// `FW_LISTEN`: the address `serve` listens on; default `127.0.0.1:8000`.
    pub listen: SocketAddr,
    /// `FW_LOG` (or `RUST_LOG`): a tracing filter; default `info`.
    pub log_filter: String,
    /// `FW_LOG_FORMAT=json` for JSON lines instead of human-readable logs.
    pub json_logs: bool,
    /// The bounds `serve` puts on connections and requests: `FW_HEADER_READ_TIMEOUT`,
    /// `FW_REQUEST_TIMEOUT`, `FW_MAX_CONNECTIONS`, `FW_DRAIN_TIMEOUT`,
    /// `FW_MAX_URI_LENGTH`, `FW_MAX_HEADERS`, `FW_MAX_HEADER_BYTES`.
    pub http: HttpLimits,
    /// `FW_IDEMPOTENCY_KEY_TTL_SECONDS`: how long an `Idempotency-Key` keeps its
    /// answer after first use (see [`idempotency`](crate::idempotency)), in
    /// whole seconds from 1 to a year; default 86400, a day.
    pub idempotency_key_ttl: std::time::Duration,
    /// `FW_DATABASE_WAIT_TIMEOUT`: seconds an operation waits for a database
    /// connection or SQLite's write lock before a 503 (see
    /// [`ConnectOptions::wait_timeout`]); default 5.
    pub database_wait_timeout: Duration,
    /// `FW_SESSION_IDLE_SECONDS`: a browser session unused for this long has
    /// ended (see [`auth`](crate::auth)), in whole seconds up to a year;
    /// default 7200, two hours.
    pub session_idle_timeout: Duration,
    /// `FW_SESSION_MAX_AGE_SECONDS`: a browser session this old has ended,
    /// however active, in whole seconds up to 400 days (the longest cookie
    /// browsers keep); default 1209600, 14 days.
    pub session_max_age: Duration,
    /// `FW_SECRET_KEYS` (`id:base64-key,id2:...`, the first one seals), or
    /// `FW_SECRET_KEYS_FILE`, a file holding the same text: the keys of
    /// sensitive fields (see [`sensitive`](crate::sensitive)). When neither is
    /// set, an app that runs on its default SQLite database uses (and first
    /// creates) `data/secret-keys` next to the database file.
    pub secret_keys: Option<Arc<Keyring>>,
    /// `FW_TRUSTED_PROXIES` and `FW_FORWARDED_HEADER`: the proxies whose
    /// forwarding header names the client (see [`ClientAddr`](crate::ClientAddr)).
    pub trusted_proxies: TrustedProxies,
    /// `FW_RATE_LIMIT*` and `FW_REDIS_*`: each caller's limits (see
    /// [the guide](crate::docs::rate_limits)).
    pub rate_limits: RateLimits,
    /// The access log and the metrics: `FW_ACCESS_LOG`, `FW_METRICS_LISTEN`
    /// (see [`ObserveConfig`]).
    pub observe: ObserveConfig,
    /// What answers at the app's edge, before its routes: CORS, security
    /// headers, compression, the health probes (`FW_CORS_*`,
    /// `FW_SECURITY_HEADERS`, `FW_HSTS_SECONDS`, `FW_COMPRESSION*`,
    /// `FW_READY_TIMEOUT`; see [`EdgeConfig`]).
    pub edge: EdgeConfig,
}

impl Config {
    /// [`Config::idempotency_key_ttl`]'s default: a day, as Stripe keeps keys.
    pub const DEFAULT_IDEMPOTENCY_KEY_TTL: std::time::Duration =
        std::time::Duration::from_secs(24 * 60 * 60);

    /// [`Config::session_idle_timeout`]'s default: two hours, OWASP's upper
    /// suggestion for an application of low risk.
    pub const DEFAULT_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

    /// [`Config::session_max_age`]'s default: 14 days, Django's.
    pub const DEFAULT_SESSION_MAX_AGE: Duration = Duration::from_secs(14 * 24 * 60 * 60);

    pub(crate) fn from_env(default_database_url: &str) -> anyhow::Result<Config> {
        let database_url =
            env_var("DATABASE_URL").unwrap_or_else(|| default_database_url.to_owned());
        let listen = match env_var("FW_LISTEN") {
            Some(listen) => listen.parse().map_err(|error| {
                anyhow::anyhow!(
                    "FW_LISTEN=`{listen}` is not an address like `127.0.0.1:8000`: {error}"
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8000)),
        };
        let defaults = HttpLimits::default();
        let http = HttpLimits {
            header_read_timeout: seconds_var(
                "FW_HEADER_READ_TIMEOUT",
                defaults.header_read_timeout,
            )?,
            request_timeout: seconds_var("FW_REQUEST_TIMEOUT", defaults.request_timeout)?,
            max_connections: count_var(
                "FW_MAX_CONNECTIONS",
                defaults.max_connections,
                MAX_CONNECTIONS,
            )?,
            drain_timeout: seconds_var("FW_DRAIN_TIMEOUT", defaults.drain_timeout)?,
            max_uri_length: count_var(
                "FW_MAX_URI_LENGTH",
                defaults.max_uri_length,
                HYPER_MAX_URI_LENGTH,
            )?,
            max_headers: count_var("FW_MAX_HEADERS", defaults.max_headers, MAX_HEADERS)?,
            max_header_bytes: count_var(
                "FW_MAX_HEADER_BYTES",
                defaults.max_header_bytes,
                MAX_HEADER_BYTES,
            )?,
        };
        let idempotency_key_ttl = idempotency_key_ttl(env_var("FW_IDEMPOTENCY_KEY_TTL_SECONDS"))?;
        let database_wait_timeout = seconds_var(
            "FW_DATABASE_WAIT_TIMEOUT",
            ConnectOptions::DEFAULT_WAIT_TIMEOUT,
        )?;
        let (session_idle_timeout, session_max_age) = session_lifetimes(
            env_var("FW_SESSION_IDLE_SECONDS"),
            env_var("FW_SESSION_MAX_AGE_SECONDS"),
        )?;
        let secret_keys = secret_keys(env_var("FW_SECRET_KEYS"), env_var("FW_SECRET_KEYS_FILE"))?;
        let trusted_proxies = TrustedProxies::from_env(&env_var)?;
        let rate_limits = RateLimits::from_env(&env_vars())?;
        let observe = ObserveConfig::from_env()?;
        Ok(Config {
            trusted_proxies,
            rate_limits,
            edge: EdgeConfig::from_env()?,
            database_url,
            observe,
            secret_keys,
            session_idle_timeout,
            session_max_age,
            database_wait_timeout,
            idempotency_key_ttl,
            listen,
            log_filter: env_var("FW_LOG")
                .or_else(|| env_var("RUST_LOG"))
                .unwrap_or_else(|| "info".to_owned()),
            json_logs: env_var("FW_LOG_FORMAT").is_some_and(|format| format == "json"),
            http,
        })
    }
}

/// The keys `FW_SECRET_KEYS` gives, or the file `FW_SECRET_KEYS_FILE` names.
/// A malformed entry stops the app, the message naming the entry and never
/// a key's bytes.
fn secret_keys(text: Option<String>, file: Option<String>) -> anyhow::Result<Option<Arc<Keyring>>> {
    let (text, origin) = match (text, file) {
        (Some(_), Some(_)) => {
            anyhow::bail!("both FW_SECRET_KEYS and FW_SECRET_KEYS_FILE are set; set one of them")
        }
        (Some(text), None) => (text, "FW_SECRET_KEYS".to_owned()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path).map_err(|error| {
                anyhow::anyhow!("FW_SECRET_KEYS_FILE=`{path}` cannot be read: {error}")
            })?;
            (text, format!("FW_SECRET_KEYS_FILE=`{path}`"))
        }
        (None, None) => return Ok(None),
    };
    parse_keys(&text, &origin).map(Some)
}

/// The keys in `text`, read from `origin` (named in the error).
pub(crate) fn parse_keys(text: &str, origin: &str) -> anyhow::Result<Arc<Keyring>> {
    Keyring::parse(text.trim()).map(Arc::new).map_err(|error| {
        anyhow::anyhow!(
            "{origin}: {error}; entries are `id:base64-key` separated by commas, \
             the first one seals; `generate-key` prints a fresh entry"
        )
    })
}

/// The largest `FW_MAX_CONNECTIONS`: more than a process can have files open
/// under the usual hard limits.
const MAX_CONNECTIONS: usize = 1 << 20;

/// The largest `FW_MAX_HEADERS`: more than any real client sends, and small
/// enough that the HTTP parser's table of a request's headers, sized from it,
/// stays small.
const MAX_HEADERS: usize = 1000;

/// The largest `FW_MAX_HEADER_BYTES`: more than any real client sends, and
/// small enough that the read buffer, sized from it, stays small.
const MAX_HEADER_BYTES: usize = 1024 * 1024;

/// `FW_IDEMPOTENCY_KEY_TTL_SECONDS`, as `value` gives it: whole seconds, from one
/// to a year.
fn idempotency_key_ttl(value: Option<String>) -> anyhow::Result<Duration> {
    const YEAR: u64 = 365 * 24 * 60 * 60;
    let default = Config::DEFAULT_IDEMPOTENCY_KEY_TTL.as_secs();
    whole_number("FW_IDEMPOTENCY_KEY_TTL_SECONDS", value, default, YEAR).map(Duration::from_secs)
}

/// `FW_SESSION_IDLE_SECONDS` and `FW_SESSION_MAX_AGE_SECONDS`, as `idle` and
/// `max_age` give them.
fn session_lifetimes(
    idle: Option<String>,
    max_age: Option<String>,
) -> anyhow::Result<(Duration, Duration)> {
    const YEAR: u64 = 365 * 24 * 60 * 60;
    // Browsers keep a cookie 400 days at most, whatever its `Max-Age`.
    const COOKIE_LIMIT: u64 = 400 * 24 * 60 * 60;
    let idle = whole_number(
        "FW_SESSION_IDLE_SECONDS",
        idle,
        Config::DEFAULT_SESSION_IDLE_TIMEOUT.as_secs(),
        YEAR,
    )?;
    let max_age = whole_number(
        "FW_SESSION_MAX_AGE_SECONDS",
        max_age,
        Config::DEFAULT_SESSION_MAX_AGE.as_secs(),
        COOKIE_LIMIT,
    )?;
    Ok((Duration::from_secs(idle), Duration::from_secs(max_age)))
}

/// The bounds `serve` puts on every connection and request, read from the
/// `FW_*` variables in [`Config`](crate::Config); the defaults suit an API
/// server behind a load balancer.
///
/// ```
/// let limits = fw::HttpLimits::default();
/// assert_eq!(limits.max_connections, 512);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLimits {
    /// `FW_HEADER_READ_TIMEOUT`: how long a client has to send a request's
    /// head (request line and headers), and how long an idle keep-alive
    /// connection waits for its next request; then the connection is closed.
    /// Default 10 s.
    pub header_read_timeout: Duration,
    /// `FW_REQUEST_TIMEOUT`: how long a request may take from its head to the
    /// start of its response, body upload and handler included; then it is
    /// answered 408 and the connection closed. A response's body is not
    /// bounded, so live streams (`/changes/stream`) stay open. Default 30 s.
    pub request_timeout: Duration,
    /// `FW_MAX_CONNECTIONS`: the most connections served at once. At the cap
    /// the server accepts no more until one closes; new clients wait in the
    /// system's listen queue. Default 512.
    pub max_connections: usize,
    /// `FW_DRAIN_TIMEOUT`: on SIGTERM or SIGINT the server stops accepting and
    /// lets requests in flight finish for this long, then closes the
    /// connections still open. Default 25 s.
    pub drain_timeout: Duration,
    /// `FW_MAX_URI_LENGTH`: the longest request target (path and query), in
    /// bytes; longer is a 414. Default 8192, at most 65534.
    pub max_uri_length: usize,
    /// `FW_MAX_HEADERS`: the most header fields a request may have; more is a
    /// 431. Default 100.
    pub max_headers: usize,
    /// `FW_MAX_HEADER_BYTES`: the most bytes a request's header fields may
    /// take, names and values summed; more is a 431. Default 16384.
    pub max_header_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            // Ample for a client on a slow network; a stalled one holds its
            // connection no longer.
            header_read_timeout: Duration::from_secs(10),
            // Load balancers commonly give up on a backend after 30-60 s.
            request_timeout: Duration::from_secs(30),
            // Half the usual soft limit of 1024 open files per process, so
            // that the database's connections and files still open at the cap;
            // raise the two together.
            max_connections: 512,
            // Kubernetes sends SIGKILL 30 s after SIGTERM by default: draining
            // for 25 s leaves time to close the database cleanly.
            drain_timeout: Duration::from_secs(25),
            // As Apache's and nginx's request-line limits.
            max_uri_length: 8192,
            // As Apache's `LimitRequestFields` and hyper's own default.
            max_headers: 100,
            // As Node.js: room for cookies and bearer tokens.
            max_header_bytes: 16 * 1024,
        }
    }
}

/// The longest request target hyper reads at all; past it, hyper answers 414
/// with no body.
pub(crate) const HYPER_MAX_URI_LENGTH: usize = 65534;

#[cfg(test)]
mod tests {
    /// Bad session lifetimes stop the app, naming the variable.
    #[test]
    fn session_lifetimes_are_whole_seconds() {
        use std::time::Duration;
        assert_eq!(
            super::session_lifetimes(None, None).expect("the defaults"),
            (Duration::from_secs(7200), Duration::from_secs(1_209_600))
        );
        assert_eq!(
            super::session_lifetimes(Some("60".to_owned()), Some("3600".to_owned())).expect("set"),
            (Duration::from_secs(60), Duration::from_secs(3600))
        );
        let error = super::session_lifetimes(Some("0".to_owned()), None).expect_err("zero");
        assert!(
            error.to_string().contains("FW_SESSION_IDLE_SECONDS"),
            "{error}"
        );
        let error = super::session_lifetimes(None, Some("1d".to_owned())).expect_err("unit");
        assert!(
            error.to_string().contains("FW_SESSION_MAX_AGE_SECONDS"),
            "{error}"
        );
    }

    /// Malformed keys stop the app with a message naming the entry at fault
    /// and where it came from, never the key's bytes.
    #[test]
    fn malformed_secret_keys_name_the_entry_not_the_key() {
        assert!(super::secret_keys(None, None).expect("unset").is_none());
        let short = "c2hvcnQ";
        let error = super::secret_keys(Some(format!("k1:{short}")), None).expect_err("short");
        let message = error.to_string();
        assert!(message.starts_with("FW_SECRET_KEYS: key `k1`"), "{message}");
        assert!(!message.contains(short), "{message}");
        let error = super::secret_keys(Some("nokey".to_owned()), None).expect_err("no colon");
        assert!(error.to_string().contains("entry 1"), "{error}");

        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("keys");
        let entry = crate::sensitive::Keyring::generate_entry("f1").expect("an entry");
        std::fs::write(&path, format!("{entry}\n")).expect("written");
        let path = path.display().to_string();
        let keys = super::secret_keys(None, Some(path.clone()))
            .expect("the file's keys")
            .expect("some");
        assert_eq!(keys.current_id(), "f1");
        std::fs::write(&path, "f1:").expect("written");
        let error = super::secret_keys(None, Some(path.clone())).expect_err("malformed file");
        assert!(error.to_string().contains("FW_SECRET_KEYS_FILE"), "{error}");
        let error = super::secret_keys(Some(entry), Some(path)).expect_err("both");
        assert!(error.to_string().contains("set one of them"), "{error}");
    }

    /// A bad `FW_IDEMPOTENCY_KEY_TTL_SECONDS` stops the app, naming the variable.
    #[test]
    fn the_idempotency_key_ttl_is_whole_seconds_up_to_a_year() {
        use std::time::Duration;
        assert_eq!(
            super::idempotency_key_ttl(None).expect("the default"),
            Duration::from_secs(86_400)
        );
        assert_eq!(
            super::idempotency_key_ttl(Some("60".to_owned())).expect("a minute"),
            Duration::from_secs(60)
        );
        for bad in ["0", "-1", "1.5", "1h", "31536001", "99999999999999999999"] {
            let error = super::idempotency_key_ttl(Some(bad.to_owned())).expect_err(bad);
            assert!(
                error.to_string().contains("FW_IDEMPOTENCY_KEY_TTL_SECONDS"),
                "{error}"
            );
        }
    }
}

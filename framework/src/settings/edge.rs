//! [`EdgeConfig`]: the settings of what answers at the app's edge, before
//! its routes: CORS, security headers, compression and the health probes,
//! read from `FW_*` variables into [`Config::edge`](crate::Config::edge).

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method};

use super::env::{env_var, seconds, whole_number};

/// The liveness probe: 200 while the process serves.
pub(crate) const LIVE_PATH: &str = "/health/live";

/// The readiness probe: 200 while the database is reachable, migrated and has
/// connections to give, else 503.
pub(crate) const READY_PATH: &str = "/health/ready";

/// What answers at the app's edge, before its routes (see [the production
/// guide](crate::docs::production)).
///
/// ```
/// let edge = fw::EdgeConfig::from_vars(|name| match name {
///     "FW_CORS_ORIGINS" => Some("https://app.example".to_owned()),
///     _ => None,
/// })
/// .unwrap();
/// assert!(edge.cors.is_some());
/// assert_eq!(edge.compression_min_bytes, Some(1024));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EdgeConfig {
    /// CORS, when `FW_CORS_ORIGINS` is set; off by default.
    pub cors: Option<CorsConfig>,
    /// `FW_SECURITY_HEADERS`: whether responses carry the security headers
    /// (`nosniff`, no referrer, no framing, a restrictive CSP); default `true`.
    pub security_headers: bool,
    /// `FW_HSTS_SECONDS`: `Strict-Transport-Security: max-age=` this, when
    /// set, from 1 to two years; off by default, since fw usually sits behind
    /// a proxy that ends TLS and sets it.
    pub hsts: Option<Duration>,
    /// `FW_COMPRESSION` (default `true`) and `FW_COMPRESSION_MIN_BYTES`
    /// (default 1024, at most 65535): responses at least this large are
    /// compressed with Brotli or gzip when the client accepts one; `None`
    /// when compression is off.
    pub compression_min_bytes: Option<u16>,
    /// `FW_READY_TIMEOUT`: how long the readiness probe waits for the
    /// database before it answers 503, in seconds; default 2.
    pub ready_timeout: Duration,
}

/// CORS: which other origins' pages may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CorsConfig {
    /// `FW_CORS_ORIGINS`: the allowed origins, exact (`https://app.example`,
    /// comma-separated), or `*` for any (refused with credentials).
    pub origins: CorsOrigins,
    /// `FW_CORS_METHODS`: the methods a page may use; default
    /// `GET, HEAD, POST, PUT, PATCH, DELETE`.
    pub methods: Vec<Method>,
    /// `FW_CORS_HEADERS`: the request headers a page may send; default the
    /// ones fw reads: `authorization`, `content-type`, `if-match`,
    /// `if-none-match`, `idempotency-key`, `x-request-id`.
    pub headers: Vec<HeaderName>,
    /// `FW_CORS_CREDENTIALS`: whether a page may send cookies (`true`, for a
    /// browser session); default `false`.
    pub credentials: bool,
    /// `FW_CORS_MAX_AGE_SECONDS`: how long a browser may keep a preflight's
    /// answer, whole seconds up to a day; default 600.
    pub max_age: Duration,
}

/// The origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`*`): for a public API read without credentials.
    Any,
    /// Exactly these, as a browser sends them in `Origin`.
    List(Vec<HeaderValue>),
}

impl EdgeConfig {
    /// [`EdgeConfig::compression_min_bytes`]' default: 1 KiB. Below it, the
    /// compressed body and its headers save less than they cost.
    pub const DEFAULT_COMPRESSION_MIN_BYTES: u16 = 1024;

    /// [`EdgeConfig::ready_timeout`]'s default: 2 seconds, well under the
    /// usual probe timeouts of load balancers and Kubernetes.
    pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(2);

    /// The settings from the process's environment.
    pub(crate) fn from_env() -> anyhow::Result<EdgeConfig> {
        EdgeConfig::from_vars(env_var)
    }

    /// The settings from `var`, which gives each variable's value by name
    /// (`None` when unset), as they are read from the environment: for tests
    /// and tools that configure an app without touching the environment.
    ///
    /// # Errors
    ///
    /// A message naming the first variable whose value is bad, and why.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<EdgeConfig> {
        const TWO_YEARS: u64 = 2 * 365 * 24 * 60 * 60;
        let compression = flag("FW_COMPRESSION", var("FW_COMPRESSION"), true)?;
        let compression_min_bytes = whole_number(
            "FW_COMPRESSION_MIN_BYTES",
            var("FW_COMPRESSION_MIN_BYTES"),
            EdgeConfig::DEFAULT_COMPRESSION_MIN_BYTES.into(),
            u16::MAX.into(),
        )?;
        let hsts = match var("FW_HSTS_SECONDS") {
            Some(value) => Some(Duration::from_secs(whole_number(
                "FW_HSTS_SECONDS",
                Some(value),
                TWO_YEARS / 2,
                TWO_YEARS,
            )?)),
            None => None,
        };
        Ok(EdgeConfig {
            cors: CorsConfig::from_vars(&var)?,
            security_headers: flag("FW_SECURITY_HEADERS", var("FW_SECURITY_HEADERS"), true)?,
            hsts,
            compression_min_bytes: compression
                .then(|| u16::try_from(compression_min_bytes).unwrap_or(u16::MAX)),
            ready_timeout: seconds(
                "FW_READY_TIMEOUT",
                var("FW_READY_TIMEOUT"),
                EdgeConfig::DEFAULT_READY_TIMEOUT,
            )?,
        })
    }
}

impl Default for EdgeConfig {
    /// CORS off, security headers on, no HSTS, compression from 1 KiB, a
    /// 2-second readiness timeout.
    fn default() -> Self {
        EdgeConfig {
            cors: None,
            security_headers: true,
            hsts: None,
            compression_min_bytes: Some(EdgeConfig::DEFAULT_COMPRESSION_MIN_BYTES),
            ready_timeout: EdgeConfig::DEFAULT_READY_TIMEOUT,
        }
    }
}

impl CorsConfig {
    /// [`CorsConfig::max_age`]'s default: 10 minutes, Chromium's own cap for
    /// a preflight's answer.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

    /// The request headers fw itself reads, allowed by default.
    pub const DEFAULT_HEADERS: [&str; 6] = [
        "authorization",
        "content-type",
        "if-match",
        "if-none-match",
        "idempotency-key",
        "x-request-id",
    ];

    /// The methods fw's operations use, allowed by default.
    pub const DEFAULT_METHODS: [Method; 6] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];

    /// CORS from the `FW_CORS_*` variables `var` gives; `None` without
    /// `FW_CORS_ORIGINS`, when no other one may be set.
    fn from_vars(var: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<CorsConfig>> {
        const DAY: u64 = 24 * 60 * 60;
        let Some(origins) = var("FW_CORS_ORIGINS") else {
            for name in [
                "FW_CORS_METHODS",
                "FW_CORS_HEADERS",
                "FW_CORS_CREDENTIALS",
                "FW_CORS_MAX_AGE_SECONDS",
            ] {
                if var(name).is_some() {
                    anyhow::bail!(
                        "{name} is set but FW_CORS_ORIGINS is not; CORS is off until \
                         FW_CORS_ORIGINS lists the origins allowed"
                    );
                }
            }
            return Ok(None);
        };
        let credentials = flag("FW_CORS_CREDENTIALS", var("FW_CORS_CREDENTIALS"), false)?;
        let origins = cors_origins(&origins)?;
        if credentials && origins == CorsOrigins::Any {
            anyhow::bail!(
                "FW_CORS_ORIGINS=`*` with FW_CORS_CREDENTIALS=true would let any site act \
                 with a visitor's session (browsers refuse it too); list the origins allowed"
            );
        }
        let methods = match var("FW_CORS_METHODS") {
            Some(value) => list("FW_CORS_METHODS", &value, |method| {
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).ok()
            })?,
            None => CorsConfig::DEFAULT_METHODS.to_vec(),
        };
        let headers = match var("FW_CORS_HEADERS") {
            Some(value) => list("FW_CORS_HEADERS", &value, |header| {
                HeaderName::from_bytes(header.to_ascii_lowercase().as_bytes()).ok()
            })?,
            None => CorsConfig::DEFAULT_HEADERS
                .into_iter()
                .map(HeaderName::from_static)
                .collect(),
        };
        let max_age = whole_number(
            "FW_CORS_MAX_AGE_SECONDS",
            var("FW_CORS_MAX_AGE_SECONDS"),
            CorsConfig::DEFAULT_MAX_AGE.as_secs(),
            DAY,
        )?;
        Ok(Some(CorsConfig {
            origins,
            methods,
            headers,
            credentials,
            max_age: Duration::from_secs(max_age),
        }))
    }
}

/// `FW_CORS_ORIGINS`: `*`, or origins as a browser sends them
/// (`https://app.example`, `http://localhost:3000`): a scheme and a host,
/// with no path, query or trailing slash.
fn cors_origins(value: &str) -> anyhow::Result<CorsOrigins> {
    if value.trim() == "*" {
        return Ok(CorsOrigins::Any);
    }
    let origins = list("FW_CORS_ORIGINS", value, |origin| {
        let uri: axum::http::Uri = origin.parse().ok()?;
        let scheme = uri.scheme_str()?;
        let is_origin = matches!(scheme, "http" | "https")
            && uri.host().is_some_and(|host| !host.is_empty())
            && format!("{scheme}://{}", uri.authority()?) == origin;
        is_origin.then(|| HeaderValue::from_str(origin).ok())?
    })
    .map_err(|error| {
        anyhow::anyhow!("{error}; an origin is a scheme and a host, like `https://app.example`")
    })?;
    Ok(CorsOrigins::List(origins))
}

/// The comma-separated items of variable `name`'s `value`, each read by
/// `parse`; an empty list or an unreadable item stops the app.
fn list<T>(name: &str, value: &str, parse: impl Fn(&str) -> Option<T>) -> anyhow::Result<Vec<T>> {
    let items: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    if items.is_empty() {
        anyhow::bail!("{name}=`{value}` lists nothing");
    }
    items
        .into_iter()
        .map(|item| {
            parse(item).ok_or_else(|| anyhow::anyhow!("{name}=`{value}`: `{item}` is not valid"))
        })
        .collect()
}

/// The variable `name`'s `value`: `true` or `false` (also `1`/`0`,
/// `on`/`off`), `default` when unset.
fn flag(name: &str, value: Option<String>, default: bool) -> anyhow::Result<bool> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" => Ok(true),
        "false" | "0" | "off" => Ok(false),
        _ => anyhow::bail!("{name}=`{value}` is not `true` or `false`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> anyhow::Result<EdgeConfig> {
        EdgeConfig::from_vars(|name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    fn refusal(vars: &[(&str, &str)]) -> String {
        read(vars).expect_err("a bad setting").to_string()
    }

    /// With nothing set: CORS off, headers on, compression from 1 KiB.
    #[test]
    fn the_defaults_are_safe() {
        assert_eq!(read(&[]).unwrap(), EdgeConfig::default());
    }

    /// The CORS settings are read as given, with fw's headers by default.
    #[test]
    fn cors_is_read_from_its_variables() {
        let edge = read(&[
            (
                "FW_CORS_ORIGINS",
                "https://app.example, http://localhost:3000",
            ),
            ("FW_CORS_METHODS", "get,post"),
            ("FW_CORS_CREDENTIALS", "true"),
            ("FW_CORS_MAX_AGE_SECONDS", "60"),
        ])
        .unwrap();
        let cors = edge.cors.expect("CORS on");
        assert_eq!(
            cors.origins,
            CorsOrigins::List(vec![
                HeaderValue::from_static("https://app.example"),
                HeaderValue::from_static("http://localhost:3000"),
            ])
        );
        assert_eq!(cors.methods, vec![Method::GET, Method::POST]);
        assert_eq!(cors.headers.len(), CorsConfig::DEFAULT_HEADERS.len());
        assert!(cors.credentials);
        assert_eq!(cors.max_age, Duration::from_secs(60));
    }

    /// Each bad setting stops the app, naming its variable.
    #[test]
    fn bad_settings_name_their_variable() {
        for (vars, variable) in [
            (
                &[("FW_CORS_ORIGINS", "*"), ("FW_CORS_CREDENTIALS", "true")][..],
                "FW_CORS_CREDENTIALS",
            ),
            (
                &[("FW_CORS_ORIGINS", "https://app.example/")][..],
                "FW_CORS_ORIGINS",
            ),
            (&[("FW_CORS_ORIGINS", "app.example")][..], "FW_CORS_ORIGINS"),
            (&[("FW_CORS_ORIGINS", " , ")][..], "FW_CORS_ORIGINS"),
            (&[("FW_CORS_METHODS", "GET")][..], "FW_CORS_METHODS"),
            (
                &[
                    ("FW_CORS_ORIGINS", "https://a.example"),
                    ("FW_CORS_HEADERS", "bad header"),
                ][..],
                "FW_CORS_HEADERS",
            ),
            (
                &[
                    ("FW_CORS_ORIGINS", "https://a.example"),
                    ("FW_CORS_CREDENTIALS", "yes"),
                ][..],
                "FW_CORS_CREDENTIALS",
            ),
            (
                &[
                    ("FW_CORS_ORIGINS", "https://a.example"),
                    ("FW_CORS_MAX_AGE_SECONDS", "0"),
                ][..],
                "FW_CORS_MAX_AGE_SECONDS",
            ),
            (
                &[("FW_SECURITY_HEADERS", "maybe")][..],
                "FW_SECURITY_HEADERS",
            ),
            (&[("FW_HSTS_SECONDS", "-1")][..], "FW_HSTS_SECONDS"),
            (&[("FW_COMPRESSION", "gzip")][..], "FW_COMPRESSION"),
            (
                &[("FW_COMPRESSION_MIN_BYTES", "70000")][..],
                "FW_COMPRESSION_MIN_BYTES",
            ),
            (&[("FW_READY_TIMEOUT", "0")][..], "FW_READY_TIMEOUT"),
        ] {
            let message = refusal(vars);
            assert!(message.contains(variable), "{vars:?}: {message}");
        }
    }
}

//! Browser sessions: the `fw_session` cookie, its attributes, and when a
//! session expires.
//!
//! The cookie holds a random 256-bit secret; the server keeps its SHA-256 in
//! `fw_session` with the user and the expiry, so logging out or changing a
//! password ends sessions for good, and a stolen database holds no usable
//! cookie.

use std::time::Duration;

use axum::http::header::{COOKIE, HOST};
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};

use super::secret::is_secret;

/// The cookie's name.
pub(crate) const COOKIE_NAME: &str = "fw_session";

/// The login endpoint, which starts a session.
pub(crate) const LOGIN_PATH: &str = "/auth/login";

/// The logout endpoint, which ends one.
pub(crate) const LOGOUT_PATH: &str = "/auth/logout";

/// How stale `last_seen_at` (and a token's `last_used_at`) may grow before a
/// request writes it again: a write per request would make every
/// authenticated read a write.
pub(crate) const LAST_SEEN_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// When sessions expire, from [`Config`](crate::Config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionPolicy {
    /// A session unused for this long has ended.
    pub(crate) idle_timeout: Duration,
    /// A session this old has ended, however active.
    pub(crate) max_age: Duration,
}

impl SessionPolicy {
    /// The policy `config` sets (`FW_SESSION_IDLE_SECONDS`,
    /// `FW_SESSION_MAX_AGE_SECONDS`).
    pub(crate) fn of(config: &crate::context::Config) -> SessionPolicy {
        SessionPolicy {
            idle_timeout: config.session_idle_timeout,
            max_age: config.session_max_age,
        }
    }

    /// Whether a session last seen at `last_seen_at` that ends at `expires_at`
    /// is still valid at `now`.
    pub(crate) fn is_live(
        &self,
        now: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> bool {
        let idle = chrono::TimeDelta::from_std(self.idle_timeout).unwrap_or(chrono::TimeDelta::MAX);
        now < expires_at && now < last_seen_at + idle
    }

    /// When a session started at `now` ends however active it is.
    pub(crate) fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::TimeDelta::from_std(self.max_age)
            .ok()
            .and_then(|age| now.checked_add_signed(age))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The session secret a request's `Cookie` headers carry, if any.
///
/// `Ok(None)` when there is no `fw_session` cookie at all (the common case
/// for API clients, and free); `Err(())` when there is one that cannot be a
/// session's secret, which is a bad credential like an unknown one.
pub(crate) fn cookie_secret(headers: &HeaderMap) -> Result<Option<&str>, ()> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let Ok(text) = header.to_str() else {
            continue;
        };
        for pair in text.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if name.trim() != COOKIE_NAME {
                continue;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|quoted| quoted.strip_suffix('"'))
                .unwrap_or(value);
            // Two session cookies (from two paths or domains) are ambiguous.
            if found.is_some() || !is_secret(value) {
                return Err(());
            }
            found = Some(value);
        }
    }
    Ok(found)
}

/// Whether the request came to this machine by a loopback name, where a
/// cookie cannot be `Secure` (plain HTTP in development) and need not be.
pub(crate) fn is_local(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(HOST).and_then(|host| host.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

/// The `Set-Cookie` value that gives a browser a session: `HttpOnly` (no
/// script reads it), `SameSite=Lax` (not sent on cross-site posts), `Path=/`,
/// `Max-Age` the session's absolute lifetime, and `Secure` unless the request
/// came to a loopback name.
pub(crate) fn set_cookie(secret: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE_NAME}={secret}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.as_secs()
    );
    HeaderValue::try_from(value).expect("a base62 secret and fixed attributes are a header value")
}

/// The `Set-Cookie` value that removes the session cookie: for logout, and on
/// the 401 of a cookie that names no live session, so the browser stops
/// sending it (and can reach the login page).
pub(crate) fn clear_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static("fw_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure")
    } else {
        HeaderValue::from_static("fw_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let secret = "a".repeat(43);
        assert_eq!(cookie_secret(&headers(&[])), Ok(None));
        assert_eq!(
            cookie_secret(&headers(&[("cookie", "theme=dark; other=1")])),
            Ok(None)
        );
        let cookie = format!("theme=dark; fw_session={secret}; lang=en");
        assert_eq!(
            cookie_secret(&headers(&[("cookie", &cookie)])),
            Ok(Some(secret.as_str()))
        );
        let quoted = format!("fw_session=\"{secret}\"");
        assert_eq!(
            cookie_secret(&headers(&[("cookie", "a=b"), ("cookie", &quoted)])),
            Ok(Some(secret.as_str()))
        );
        assert_eq!(
            cookie_secret(&headers(&[("cookie", "fw_session=short")])),
            Err(())
        );
        let twice = format!("fw_session={secret}; fw_session={secret}");
        assert_eq!(cookie_secret(&headers(&[("cookie", &twice)])), Err(()));
    }

    #[test]
    fn cookies_are_secure_except_on_loopback_names() {
        for local in [
            "localhost",
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "[::1]",
        ] {
            assert!(is_local(&headers(&[("host", local)])), "{local}");
        }
        for remote in [
            "example.com",
            "api.example.com:443",
            "10.0.0.1",
            "localhost.evil.com",
        ] {
            assert!(!is_local(&headers(&[("host", remote)])), "{remote}");
        }
        assert!(!is_local(&headers(&[])));
        let cookie = set_cookie(
            &"a".repeat(43),
            crate::Config::DEFAULT_SESSION_MAX_AGE,
            true,
        );
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("fw_session=aaa"), "{cookie}");
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
            "Max-Age=1209600",
        ] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        assert!(
            !set_cookie("x", crate::Config::DEFAULT_SESSION_MAX_AGE, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        assert!(clear_cookie(true).to_str().unwrap().contains("Max-Age=0"));
    }

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let policy = SessionPolicy {
            idle_timeout: Duration::from_secs(60),
            max_age: Duration::from_secs(3600),
        };
        let start = Utc::now();
        let expires = policy.expires_at(start);
        let later = |seconds| start + chrono::TimeDelta::seconds(seconds);
        assert!(policy.is_live(later(59), start, expires));
        assert!(!policy.is_live(later(61), start, expires), "idle");
        assert!(policy.is_live(later(3599), later(3590), expires));
        assert!(!policy.is_live(later(3601), later(3600), expires), "old");
    }
}

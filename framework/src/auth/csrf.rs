//! Cross-site request forgery: a request that writes with the session cookie
//! must come from the application's own pages.
//!
//! A browser attaches the cookie to requests other sites make it send, so a
//! write authenticated by the cookie alone could be another site's. Modern
//! browsers say where a request comes from in headers no page can set:
//! `Sec-Fetch-Site` (Fetch metadata) and `Origin`. fw reads them instead of
//! issuing CSRF tokens, so a client has nothing to fetch and echo back. A
//! bearer token is never attached by the browser on its own, so requests
//! that send one are not checked.

use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, Uri};

use crate::rest::ApiError;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Whether `method` may change something, and so needs the check: any but
/// `GET`, `HEAD`, `OPTIONS` and `TRACE` (RFC 9110's safe methods).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Where a request says it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Provenance {
    /// `Sec-Fetch-Site: same-origin` or `none` (typed or bookmarked), or an
    /// `Origin` naming the request's own host.
    SameOrigin,
    /// Fetch metadata or `Origin` naming another site; the reason says which.
    CrossSite(String),
    /// Neither header: not a browser, or one too old to say.
    Unknown,
}

fn provenance(headers: &HeaderMap, uri: &Uri) -> Provenance {
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        return match site.as_bytes() {
            b"same-origin" | b"none" => Provenance::SameOrigin,
            other => Provenance::CrossSite(format!(
                "the browser sent it from another site (`Sec-Fetch-Site: {}`)",
                String::from_utf8_lossy(other)
            )),
        };
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Provenance::Unknown;
    };
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()));
    let origin_text = origin.to_str().unwrap_or_default();
    match (origin_authority(origin_text), host) {
        (Some((scheme, origin_host)), Some(host))
            if without_default_port(scheme, origin_host)
                .eq_ignore_ascii_case(without_default_port(scheme, host)) =>
        {
            Provenance::SameOrigin
        }
        _ => Provenance::CrossSite(format!(
            "its `Origin` ({origin_text}) is not this server's `Host`"
        )),
    }
}

/// The scheme and `host[:port]` of an `Origin` value (`https://app.example.com`);
/// `None` for `null` or anything else.
fn origin_authority(origin: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = origin.split_once("://")?;
    (!rest.is_empty() && !rest.contains(['/', '?', '#', '@'])).then_some((scheme, rest))
}

/// `authority` without the port that `scheme` implies: browsers leave it out
/// of `Origin`, some clients put it in `Host`.
fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return authority,
    };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// The check of a request that writes with the session cookie: it must say
/// it comes from this site, by `Sec-Fetch-Site: same-origin` (or `none`) or
/// else an `Origin` whose host is the request's `Host`.
///
/// # Errors
///
/// A 403 saying which header was missing or named another site.
pub(crate) fn require_same_origin(headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    match provenance(headers, uri) {
        Provenance::SameOrigin => Ok(()),
        Provenance::CrossSite(reason) => Err(refusal(&reason)),
        Provenance::Unknown => Err(refusal(
            "it has neither `Sec-Fetch-Site` nor `Origin` to show it comes from this site",
        )),
    }
}

/// The check of a login: a browser must send it from this site, as for
/// [`require_same_origin`], so no other site can sign a visitor in to an
/// account of its choosing; a client that is not a browser, which sends
/// neither header, may log in.
///
/// # Errors
///
/// A 403 saying which header named another site.
pub(crate) fn refuse_cross_site(headers: &HeaderMap, uri: &Uri) -> Result<(), ApiError> {
    match provenance(headers, uri) {
        Provenance::SameOrigin | Provenance::Unknown => Ok(()),
        Provenance::CrossSite(reason) => Err(refusal(&reason)),
    }
}

fn refusal(reason: &str) -> ApiError {
    ApiError::Forbidden {
        detail: format!(
            "a request that writes with the session cookie must come from this site's own \
             pages, and this one does not: {reason}; send it from a page of this site, or \
             authenticate with an API token (`Authorization: Bearer`) instead"
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn strict(pairs: &[(&'static str, &'static str)]) -> bool {
        require_same_origin(&headers(pairs), &Uri::from_static("/notes")).is_ok()
    }

    #[test]
    fn fetch_metadata_decides_when_sent() {
        assert!(strict(&[("sec-fetch-site", "same-origin")]));
        assert!(strict(&[("sec-fetch-site", "none")]));
        for other in ["same-site", "cross-site", "nonsense"] {
            let mut sent = headers(&[("host", "app.example.com")]);
            sent.insert(SEC_FETCH_SITE, HeaderValue::from_static(other));
            sent.insert(ORIGIN, HeaderValue::from_static("https://app.example.com"));
            assert!(
                require_same_origin(&sent, &Uri::from_static("/")).is_err(),
                "{other}"
            );
        }
    }

    #[test]
    fn otherwise_the_origin_must_be_the_host() {
        let host = ("host", "app.example.com");
        assert!(strict(&[host, ("origin", "https://app.example.com")]));
        assert!(strict(&[
            ("host", "app.example.com:443"),
            ("origin", "https://app.example.com")
        ]));
        assert!(strict(&[
            ("host", "localhost:8000"),
            ("origin", "http://localhost:8000")
        ]));
        for origin in [
            "https://evil.example",
            "https://app.example.com.evil.example",
            "http://localhost:8001",
            "null",
            "https://app.example.com/path",
        ] {
            let mut sent = headers(&[host]);
            sent.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
            assert!(
                require_same_origin(&sent, &Uri::from_static("/")).is_err(),
                "{origin}"
            );
        }
        assert!(!strict(&[host]), "neither header");
        assert!(!strict(&[("origin", "https://app.example.com")]), "no host");
    }

    #[test]
    fn a_login_without_either_header_is_not_a_browser_s() {
        let uri = Uri::from_static("/auth/login");
        assert!(refuse_cross_site(&HeaderMap::new(), &uri).is_ok());
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        let error = refuse_cross_site(&cross, &uri).unwrap_err();
        assert_eq!(error.status(), axum::http::StatusCode::FORBIDDEN);
        assert!(error.to_string().contains("cross-site"), "{error}");
    }

    #[test]
    fn only_unsafe_methods_are_checked() {
        assert!(!is_unsafe(&Method::GET) && !is_unsafe(&Method::HEAD));
        assert!(is_unsafe(&Method::POST) && is_unsafe(&Method::DELETE));
        assert!(is_unsafe(&Method::PATCH) && is_unsafe(&Method::PUT));
    }
}

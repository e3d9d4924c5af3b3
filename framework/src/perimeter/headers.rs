//! Security headers and compression of every response fw serves, on by
//! default ([`EdgeConfig`]).
//!
//! The security headers suit an API: nothing a response says may be sniffed
//! into another type, framed, or leak the page's address; a JSON body runs
//! nothing, so its `Content-Security-Policy` allows nothing. An HTML page
//! (the `/docs` page) gets a policy that allows its own scripts, styles and
//! requests and nothing from elsewhere. A header the route set itself is
//! kept.
//!
//! Compression is tower-http's, Brotli or gzip as the client prefers, for
//! bodies of at least [`EdgeConfig::compression_min_bytes`]; never for a
//! live stream (`text/event-stream`, which would be held back in the
//! compressor's buffer), an image (compressed already), or a response marked
//! `Cache-Control: no-store` or `no-transform`: fw marks so every response
//! that carries a secret (a login's session, a new token), and compressing a
//! secret beside text an attacker chose would let them guess it by the
//! length (BREACH).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::Service;
use tower_http::compression::predicate::SizeAbove;
use tower_http::compression::{Compression, CompressionLevel, Predicate};

use crate::settings::edge::EdgeConfig;

/// The `Content-Security-Policy` of an API response: it runs nothing, loads
/// nothing and may not be framed.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The `Content-Security-Policy` of an HTML page: its own scripts, styles,
/// images and fonts, requests to its own origin only, no inline script, no
/// plugins, no framing, and forms that go nowhere else. The one inline style
/// allowed, by its hash, is the `<style>` of the logo Swagger UI draws on the
/// docs page (a Swagger UI that changes it shows in `.ci/docs-browser`).
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The headers every response carries, whatever its type.
const COMMON: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// The security headers to add: to an HTML page, and to any other response.
#[derive(Debug)]
struct SecurityHeaders {
    api: Vec<(HeaderName, HeaderValue)>,
    page: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    fn of(config: &EdgeConfig) -> SecurityHeaders {
        if !config.security_headers {
            return SecurityHeaders {
                api: Vec::new(),
                page: Vec::new(),
            };
        }
        let mut common: Vec<(HeaderName, HeaderValue)> = COMMON
            .iter()
            .map(|(name, value)| {
                (
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect();
        if let Some(hsts) = config.hsts
            && let Ok(value) = HeaderValue::try_from(format!("max-age={}", hsts.as_secs()))
        {
            common.push((axum::http::header::STRICT_TRANSPORT_SECURITY, value));
        }
        let with_policy = |policy: &'static str| {
            let mut headers = common.clone();
            headers.push((CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy)));
            headers
        };
        SecurityHeaders {
            api: with_policy(API_POLICY),
            page: with_policy(PAGE_POLICY),
        }
    }

    /// Adds the headers `response` lacks.
    fn add_to(&self, response: &mut Response) {
        let is_page = response
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|content_type| content_type.as_bytes().starts_with(b"text/html"));
        let headers = if is_page { &self.page } else { &self.api };
        let response_headers = response.headers_mut();
        for (name, value) in headers {
            if !response_headers.contains_key(name) {
                response_headers.insert(name.clone(), value.clone());
            }
        }
    }
}

/// Which responses are compressed (see the module's documentation).
#[derive(Debug, Clone)]
pub(crate) struct Compressible {
    size: SizeAbove,
}

impl Predicate for Compressible {
    fn should_compress<B>(&self, response: &axum::http::Response<B>) -> bool
    where
        B: HttpBody,
    {
        let headers = response.headers();
        let content_type = headers
            .get(CONTENT_TYPE)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        let excluded_type =
            content_type.starts_with(b"text/event-stream") || content_type.starts_with(b"image/");
        let kept_as_is = headers.get_all(CACHE_CONTROL).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|value| value.contains("no-store") || value.contains("no-transform"))
        });
        !excluded_type && !kept_as_is && self.size.should_compress(response)
    }
}

/// Adds the security headers to each response of `inner`, compressed.
#[derive(Clone)]
pub(crate) struct ResponseHeaders<S> {
    inner: Compression<S, Compressible>,
    headers: Arc<SecurityHeaders>,
}

impl<S> std::fmt::Debug for ResponseHeaders<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseHeaders")
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl<S> ResponseHeaders<S> {
    pub(crate) fn new(inner: S, config: &EdgeConfig) -> ResponseHeaders<S> {
        let compression = Compression::new(inner)
            // Brotli's 4 and gzip's 4: most of the size saved at a fraction
            // of the default levels' time, which a server pays per response.
            .quality(CompressionLevel::Precise(4))
            .compress_when(Compressible {
                size: SizeAbove::new(config.compression_min_bytes.unwrap_or(u16::MAX).into()),
            });
        let compression = match config.compression_min_bytes {
            Some(_) => compression,
            None => compression.no_br().no_gzip(),
        };
        ResponseHeaders {
            inner: compression,
            headers: Arc::new(SecurityHeaders::of(config)),
        }
    }
}

impl<S> Service<Request> for ResponseHeaders<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseHeadersFuture<<Compression<S, Compressible> as Service<Request>>::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        ResponseHeadersFuture {
            inner: self.inner.call(request),
            headers: Arc::clone(&self.headers),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response of [`ResponseHeaders`]: compressed, with the headers added.
    pub(crate) struct ResponseHeadersFuture<F> {
        #[pin]
        inner: F,
        headers: Arc<SecurityHeaders>,
    }
}

impl<F, B> Future for ResponseHeadersFuture<F>
where
    F: Future<Output = Result<axum::http::Response<B>, Infallible>>,
    B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = std::task::ready!(this.inner.poll(cx));
        let mut response = response.map(Body::new);
        this.headers.add_to(&mut response);
        Poll::Ready(Ok(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(content_type: &str, cache_control: Option<&str>) -> Response {
        let mut response = Response::new(Body::from(vec![b'a'; 4096]));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        if let Some(cache_control) = cache_control {
            headers.insert(CACHE_CONTROL, HeaderValue::from_str(cache_control).unwrap());
        }
        response
    }

    /// A large JSON body is compressed; a live stream, an image, a response
    /// that carries a secret or asks to be left as is, or a small body, not.
    #[test]
    fn only_what_may_be_compressed_is() {
        let compressible = Compressible {
            size: SizeAbove::new(1024),
        };
        assert!(compressible.should_compress(&response("application/json", None)));
        for (content_type, cache_control) in [
            ("text/event-stream", None),
            ("image/png", None),
            ("application/json", Some("no-store")),
            ("application/json", Some("public, no-transform")),
        ] {
            let response = response(content_type, cache_control);
            assert!(
                !compressible.should_compress(&response),
                "{content_type} {cache_control:?}"
            );
        }
        let small = Compressible {
            size: SizeAbove::new(8192),
        };
        assert!(!small.should_compress(&response("application/json", None)));
    }
}

//! CORS from configuration ([`CorsConfig`]): which other origins' pages may
//! call the API from a browser. A preflight from an allowed origin is
//! answered here, before authentication. A request from any other origin
//! passes through as if CORS were off (a preflight is then a 405), with no
//! `Access-Control-*` header, so the browser keeps the response from the page.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header::{ORIGIN, VARY};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use tower::{Layer as _, Service};
use tower_http::cors::{AllowOrigin, Cors as CorsService, CorsLayer};

use crate::settings::edge::{CorsConfig, CorsOrigins};

/// The response headers a page may read besides the always-visible ones:
/// those fw sets for clients to act on.
const EXPOSED: [&str; 6] = [
    "etag",
    "location",
    "x-request-id",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
];

/// The request headers a CORS answer depends on, for caches to key on: the
/// answer to an origin not allowed must not be served to one that is.
const VARY_ON: &str = "origin, access-control-request-method, access-control-request-headers";

/// tower-http's CORS for the allowed origins; every other request straight
/// to the routes.
#[derive(Debug, Clone)]
pub(crate) struct Cors<S> {
    cors: CorsService<S>,
    /// The allowed origins; `None` for any.
    origins: Option<Vec<HeaderValue>>,
}

impl<S> Cors<S> {
    pub(crate) fn new(inner: S, config: &CorsConfig) -> Cors<S> {
        let (allow_origin, origins) = match &config.origins {
            CorsOrigins::Any => (AllowOrigin::any(), None),
            CorsOrigins::List(origins) => (
                AllowOrigin::list(origins.iter().cloned()),
                Some(origins.clone()),
            ),
        };
        let layer = CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(config.methods.clone())
            .allow_headers(config.headers.clone())
            .allow_credentials(config.credentials)
            .max_age(config.max_age)
            .expose_headers(EXPOSED.map(HeaderName::from_static));
        Cors {
            cors: layer.layer(inner),
            origins,
        }
    }

    fn allows(&self, request: &Request) -> bool {
        match (&self.origins, request.headers().get(ORIGIN)) {
            (None, _) => true,
            (Some(origins), Some(origin)) => origins.contains(origin),
            (Some(_), None) => false,
        }
    }
}

impl<S> Service<Request> for Cors<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CorsFuture<<CorsService<S> as Service<Request>>::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.cors.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if self.allows(&request) {
            CorsFuture::Allowed {
                future: self.cors.call(request),
            }
        } else {
            CorsFuture::Other {
                future: self.cors.get_mut().call(request),
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of [`Cors`]: tower-http's for an allowed origin, else
    /// the route's, varying on the origin.
    #[project = CorsProjection]
    pub(crate) enum CorsFuture<A, O> {
        Allowed { #[pin] future: A },
        Other { #[pin] future: O },
    }
}

impl<A, O> Future for CorsFuture<A, O>
where
    A: Future<Output = Result<Response, Infallible>>,
    O: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            CorsProjection::Allowed { future } => future.poll(cx),
            CorsProjection::Other { future } => {
                let Ok(mut response) = std::task::ready!(future.poll(cx));
                response
                    .headers_mut()
                    .append(VARY, HeaderValue::from_static(VARY_ON));
                Poll::Ready(Ok(response))
            }
        }
    }
}

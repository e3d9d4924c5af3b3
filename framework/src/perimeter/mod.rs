//! What stands between the network and the application's routes, composed
//! once around the whole service in [`App`](crate::App)'s `service` (see [the
//! production guide](crate::docs::production#the-order-of-the-layers)),
//! outermost first:
//!
//! 1. [`observe`]: the request id, then, once the response is ready, the
//!    access-log line and the request [`metrics`]. Outermost, so that every
//!    answer below it is seen.
//! 2. [`ResolveClient`]: the request's [`ClientAddr`](crate::ClientAddr),
//!    the socket's peer or the address trusted proxies forwarded.
//! 3. The health probes ([`health`]), answered before anything below.
//! 4. CORS ([`cors`]), when configured: a preflight is answered here, before
//!    authentication.
//! 5. Security headers and compression of the response ([`headers`]).
//! 6. The request's scope and authentication (`RecordActor`, `Authenticate`),
//!    which find the [`Caller`](crate::Caller).
//! 7. [`RateLimit`]: each caller's budget per group of routes, in this
//!    process or shared through Redis.
//! 8. The application's own layers ([`App::layer`](crate::App::layer)), then
//!    the routes.
//!
//! `serve`'s accept loop, limits and request timeout stay outside all of this.
//! The settings ([`EdgeConfig`](crate::EdgeConfig),
//! [`ObserveConfig`](crate::ObserveConfig),
//! [`TrustedProxies`](crate::TrustedProxies),
//! [`RateLimits`](crate::RateLimits)) sit with [`Config`](crate::Config) in
//! `settings` and `client`, below these layers and below everything they
//! wrap.

mod cors;
mod headers;
mod health;
pub(crate) mod metrics;
pub(crate) mod observe;
mod rate_limit;
mod resolve;

pub(crate) use health::Readiness;
pub(crate) use rate_limit::{Limiter, RateLimit};
pub(crate) use resolve::ResolveClient;

use tower::util::Either;

use cors::Cors;
use headers::ResponseHeaders;
use health::Health;

use crate::settings::edge::EdgeConfig;

/// `S` inside the health probes, CORS, and the response's headers and
/// compression.
pub(crate) type Perimeter<S> = Health<Either<Cors<ResponseHeaders<S>>, ResponseHeaders<S>>>;

/// Wraps `inner` in the health probes, CORS and response headers `config`
/// describes, the readiness probe checking `readiness`.
pub(crate) fn wrap<S>(inner: S, config: &EdgeConfig, readiness: Readiness) -> Perimeter<S> {
    let inner = ResponseHeaders::new(inner, config);
    let inner = match &config.cors {
        Some(cors) => Either::Left(Cors::new(inner, cors)),
        None => Either::Right(inner),
    };
    Health::new(inner, readiness)
}

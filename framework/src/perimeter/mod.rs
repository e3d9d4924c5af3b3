//! What stands between the network and the app's routes, composed once
//! around the whole service (see [the production
//! guide](crate::docs::production#the-order-of-the-layers)), outermost first:
//!
//! 1. the health probes ([`health`]), answered before anything else;
//! 2. CORS ([`cors`]), when configured: a preflight is answered here, before
//!    authentication;
//! 3. security headers and compression of the response ([`headers`]);
//! 4. inside them, the request's scope, authentication, the application's own
//!    layers and the routes.
//!
//! Their settings ([`EdgeConfig`]) sit with [`Config`](crate::Config), below
//! the layers that use them.

mod cors;
mod edge;
mod headers;
mod health;

pub use edge::{CorsConfig, CorsOrigins, EdgeConfig};
pub(crate) use edge::{LIVE_PATH, READY_PATH};
pub(crate) use health::Readiness;

use tower::util::Either;

use cors::Cors;
use headers::ResponseHeaders;
use health::Health;

/// `S` with the perimeter around it.
pub(crate) type Perimeter<S> = Health<Either<Cors<ResponseHeaders<S>>, ResponseHeaders<S>>>;

/// Wraps `inner` in the perimeter `config` describes, its readiness probe
/// checking `readiness`.
pub(crate) fn wrap<S>(inner: S, config: &EdgeConfig, readiness: Readiness) -> Perimeter<S> {
    let inner = ResponseHeaders::new(inner, config);
    let inner = match &config.cors {
        Some(cors) => Either::Left(Cors::new(inner, cors)),
        None => Either::Right(inner),
    };
    Health::new(inner, readiness)
}

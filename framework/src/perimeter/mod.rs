//! What stands between the network and the application's routes, composed
//! once around the whole service in [`App`](crate::App)'s `service`, outermost
//! first:
//!
//! 1. [`observe`]: the request id, then, once the response is ready, the
//!    access-log line and the request [`metrics`]. Outermost, so that every
//!    answer below it is seen.
//! 2. [`ResolveClient`]: the request's [`ClientAddr`], the socket's peer or
//!    the address trusted proxies forwarded.
//! 3. The request's scope and authentication (`RecordActor`, `Authenticate`),
//!    which find the [`Caller`](crate::Caller).
//! 4. [`RateLimit`]: each caller's budget per group of routes, in this
//!    process or shared through Redis.
//! 5. The router.
//!
//! `serve`'s accept loop, limits and request timeout stay outside all of this.

mod client;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod observe_config;
mod rate_limit;

pub(crate) use client::{AddressKey, ResolveClient};
pub use client::{ClientAddr, ForwardedHeader, TrustedProxies};
pub(crate) use rate_limit::{GroupSpec, Limiter, RateLimit};
pub use rate_limit::{MAX_RATE_COUNT, Rate, RateLimits, RedisSettings};

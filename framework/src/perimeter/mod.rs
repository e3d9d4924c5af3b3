//! The perimeter: what stands between the network and the application's
//! routes, composed once around the whole service in `App::service`,
//! outermost first:
//!
//! 1. [`ResolveClient`]: the request's [`ClientAddr`], the socket's peer or
//!    the address trusted proxies forwarded.
//! 2. The request's scope and authentication (`RecordActor`, `Authenticate`),
//!    which find the [`Caller`](crate::Caller).
//! 3. [`RateLimit`]: each caller's budget per group of routes, in this
//!    process or shared through Redis.
//! 4. The router.

mod client;
mod rate_limit;

pub(crate) use client::{AddressKey, ResolveClient};
pub use client::{ClientAddr, ForwardedHeader, TrustedProxies};
pub(crate) use rate_limit::{GroupSpec, Limiter, RateLimit};
pub use rate_limit::{MAX_RATE_COUNT, Rate, RateLimits, RedisSettings};

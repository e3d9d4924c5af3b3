//! The perimeter: what stands between the network and the application's
//! routes, composed once around the whole service in `App::service`,
//! outermost first:
//!
//! 1. [`ResolveClient`]: the request's [`ClientAddr`], the socket's peer or
//!    the address trusted proxies forwarded.
//! 2. The request's scope and authentication (`RecordActor`, `Authenticate`),
//!    which find the [`Caller`](crate::Caller).
//! 3. The router.

mod client;

pub(crate) use client::{AddressKey, ResolveClient};
pub use client::{ClientAddr, ForwardedHeader, TrustedProxies};

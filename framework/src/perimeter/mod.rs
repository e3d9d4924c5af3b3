//! What stands between the network and the application's routes, composed
//! once around the whole service in [`App`](crate::App)'s `service`, outermost
//! first:
//!
//! 1. [`observe`]: the request id, then, once the response is ready, the
//!    access-log line and the request [`metrics`]. Outermost, so that every
//!    answer below it is seen.
//! 2. The change log's request scope (`RecordActor`), then authentication.
//! 3. The router.
//!
//! `serve`'s accept loop, limits and request timeout stay outside all of this.

pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod observe_config;

//! Rate limiting: each caller's budget per group of routes, in this process
//! or shared by every instance through Redis, as the
//! [`RateLimits`](crate::RateLimits) settings say. Within a group each caller has a budget of its own: an API
//! token's, a signed-in user's, or else the client address's
//! ([`ClientAddr`](crate::ClientAddr)).
//!
//! The algorithm is GCRA (the generic cell rate algorithm, a leaky bucket
//! kept as one timestamp per caller): a limit of `600/minute` lets a caller
//! send 600 requests at once, then one every 100 ms, its budget refilling
//! steadily rather than all at once when a window turns over. It stores one
//! number per caller and group, needs no clean-up to be exact, and has no
//! window boundary where twice the limit gets through, as fixed windows do.
//! The same arithmetic runs in process ([`gcra`]) and in Redis ([`shared`]),
//! so the limits mean the same either way.

mod gcra;
mod layer;
mod shared;

pub(crate) use layer::{Limiter, RateLimit};

//! The settings read from `FW_*` variables into [`Config`](crate::Config):
//! how a variable is read ([`env`]), and what configures the perimeter's
//! layers: [`EdgeConfig`](crate::EdgeConfig) (CORS, headers, compression,
//! health), [`ObserveConfig`](crate::ObserveConfig) (access log, metrics)
//! and [`RateLimits`](crate::RateLimits).
//!
//! They sit below [`Config`](crate::Config), which carries them, and so
//! below the layers in `perimeter` that use them: the layers import the
//! settings, never the other way round.

pub(crate) mod edge;
pub(crate) mod env;
pub(crate) mod observe;
pub(crate) mod rate_limits;

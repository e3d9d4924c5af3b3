//! [`ObserveConfig`]: the settings of the access log and the metrics, read
//! from `FW_*` variables with the rest of [`Config`](crate::Config).

use crate::context::env_var;

/// How the access log and the metrics are configured (see
/// [the observability guide](crate::docs::observability)).
///
/// ```
/// let observe = fw::ObserveConfig::default();
/// assert_eq!(observe.access_log, fw::AccessLog::Info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ObserveConfig {
    /// `FW_ACCESS_LOG`: the level of each request's access-log line, `info`,
    /// `debug` or `off`; default `info`. Health probes are logged at `debug`
    /// whatever it says, unless it is `off`.
    pub access_log: AccessLog,
}

/// The level of the access log's lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessLog {
    /// Each request's line at `INFO`.
    #[default]
    Info,
    /// Each request's line at `DEBUG`: seen only with `FW_LOG=debug` (or
    /// `fw::access=debug`).
    Debug,
    /// No lines.
    Off,
}

impl ObserveConfig {
    /// The settings the environment gives.
    pub(crate) fn from_env() -> anyhow::Result<ObserveConfig> {
        Ok(ObserveConfig {
            access_log: access_log(env_var("FW_ACCESS_LOG"))?,
        })
    }
}

/// `FW_ACCESS_LOG`, as `value` gives it.
fn access_log(value: Option<String>) -> anyhow::Result<AccessLog> {
    match value.as_deref().map(str::trim) {
        None => Ok(AccessLog::default()),
        Some("info") => Ok(AccessLog::Info),
        Some("debug") => Ok(AccessLog::Debug),
        Some("off") => Ok(AccessLog::Off),
        Some(other) => {
            anyhow::bail!("FW_ACCESS_LOG=`{other}` is not one of `info`, `debug` or `off`")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bad `FW_ACCESS_LOG` stops the app, naming the variable.
    #[test]
    fn the_access_log_is_info_debug_or_off() {
        assert_eq!(access_log(None).unwrap(), AccessLog::Info);
        assert_eq!(access_log(Some("debug".into())).unwrap(), AccessLog::Debug);
        assert_eq!(access_log(Some("off".into())).unwrap(), AccessLog::Off);
        let error = access_log(Some("loud".into())).unwrap_err().to_string();
        assert!(error.starts_with("FW_ACCESS_LOG=`loud`"), "{error}");
    }
}

//! [`ObserveConfig`]: the settings of the access log and the metrics, read
//! from `FW_*` variables with the rest of [`Config`](crate::Config).

use super::env::env_var;

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
    /// `FW_METRICS_LISTEN`: an address (`10.0.0.5:9100`) serving
    /// `GET /metrics` to anyone who reaches it, for a private network that
    /// Prometheus scrapes; default none. `GET /metrics` on the main listener
    /// needs the `view_metrics` permission whether it is set or not.
    pub metrics_listen: Option<std::net::SocketAddr>,
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
            metrics_listen: metrics_listen(env_var("FW_METRICS_LISTEN"))?,
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

/// `FW_METRICS_LISTEN`, as `value` gives it.
fn metrics_listen(value: Option<String>) -> anyhow::Result<Option<std::net::SocketAddr>> {
    value
        .map(|address| {
            address.trim().parse().map_err(|error| {
                anyhow::anyhow!(
                    "FW_METRICS_LISTEN=`{address}` is not an address like `127.0.0.1:9100`: {error}"
                )
            })
        })
        .transpose()
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

    /// A bad `FW_METRICS_LISTEN` stops the app, naming the variable.
    #[test]
    fn the_metrics_address_is_an_address() {
        assert_eq!(metrics_listen(None).unwrap(), None);
        assert_eq!(
            metrics_listen(Some("10.0.0.5:9100".into())).unwrap(),
            Some(([10, 0, 0, 5], 9100).into())
        );
        let error = metrics_listen(Some("9100".into())).unwrap_err().to_string();
        assert!(error.starts_with("FW_METRICS_LISTEN=`9100`"), "{error}");
    }
}

//! Reading the `FW_*` settings from the environment: each variable's text,
//! and its value as seconds or a count. A bad value is an error naming the
//! variable, which stops the app at start.

use std::time::Duration;

/// The variable `name`, if set and not empty.
pub(crate) fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Every variable that is set, not empty, and named and valued in Unicode.
pub(crate) fn env_vars() -> std::collections::BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// A duration variable, in seconds (`30`, `0.5`), more than zero.
pub(crate) fn seconds_var(name: &str, default: Duration) -> anyhow::Result<Duration> {
    seconds(name, env_var(name), default)
}

/// The variable `name`'s `value`: seconds (`30`, `0.5`), more than zero,
/// `default` when unset.
pub(crate) fn seconds(
    name: &str,
    value: Option<String>,
    default: Duration,
) -> anyhow::Result<Duration> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|seconds| *seconds > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{name}=`{value}` is not a number of seconds more than 0, like `{}`",
                default.as_secs_f64()
            )
        })
}

/// A count variable: a whole number from 1 to `max`.
pub(crate) fn count_var(name: &str, default: usize, max: usize) -> anyhow::Result<usize> {
    whole_number(name, env_var(name), default as u64, max as u64).map(|count| count as usize)
}

/// The variable `name`'s `value`: a whole number from 1 to `max`, `default`
/// when unset.
pub(crate) fn whole_number(
    name: &str,
    value: Option<String>,
    default: u64,
    max: u64,
) -> anyhow::Result<u64> {
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|number| (1..=max).contains(number))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{name}=`{value}` is not a whole number from 1 to {max}, like `{default}`"
            )
        })
}

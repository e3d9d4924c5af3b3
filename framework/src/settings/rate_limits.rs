//! [`RateLimits`]: how many requests each caller may make, per group of
//! routes, read from `FW_RATE_LIMIT*` and `FW_REDIS_*` variables with the
//! rest of [`Config`](crate::Config), and the [`Rate`]s they are written in.
//! The [guide](crate::docs::rate_limits) says how to configure them; the
//! perimeter's rate-limit layer enforces them.
//!
//! Each request counts against one group: the application's own group whose
//! path prefix it falls under ([`App::rate_limit`](crate::App::rate_limit)),
//! else `reads` (`GET`, `HEAD`) or `writes` (every other method).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// The most requests a [`Rate`] may allow in its period.
pub const MAX_RATE_COUNT: u32 = 1_000_000;

/// A limit: so many requests per second, minute, hour or day, written
/// `600/minute` in configuration.
///
/// ```
/// let rate = fw::Rate::per_minute(600);
/// assert_eq!(rate.to_string(), "600/minute");
/// assert_eq!("600/minute".parse::<fw::Rate>(), Ok(rate));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    count: u32,
    period: Period,
}

/// The period of a [`Rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Second,
    Minute,
    Hour,
    Day,
}

impl Period {
    fn seconds(self) -> u64 {
        match self {
            Period::Second => 1,
            Period::Minute => 60,
            Period::Hour => 60 * 60,
            Period::Day => 24 * 60 * 60,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Period::Second => "second",
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }
}

impl Rate {
    /// `count` requests a second.
    pub const fn per_second(count: u32) -> Rate {
        Rate {
            count,
            period: Period::Second,
        }
    }

    /// `count` requests a minute.
    pub const fn per_minute(count: u32) -> Rate {
        Rate {
            count,
            period: Period::Minute,
        }
    }

    /// `count` requests an hour.
    pub const fn per_hour(count: u32) -> Rate {
        Rate {
            count,
            period: Period::Hour,
        }
    }

    /// `count` requests a day.
    pub const fn per_day(count: u32) -> Rate {
        Rate {
            count,
            period: Period::Day,
        }
    }

    /// The most requests let through at once, and in any one period.
    pub fn count(self) -> u32 {
        self.count
    }

    /// The period.
    pub fn period(self) -> Duration {
        Duration::from_secs(self.period.seconds())
    }

    /// Whether the count is from 1 to [`MAX_RATE_COUNT`].
    fn is_valid(self) -> bool {
        (1..=MAX_RATE_COUNT).contains(&self.count)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.period.name())
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `600/minute`, `10/second`, `5000/hour`, `100000/day`; the count from
    /// 1 to a million.
    fn from_str(text: &str) -> Result<Rate, String> {
        let malformed = || {
            format!(
                "`{text}` is not a limit like `600/minute` (a count from 1 to {MAX_RATE_COUNT}, \
                 then `/second`, `/minute`, `/hour` or `/day`) or `off`"
            )
        };
        let (count, period) = text.trim().split_once('/').ok_or_else(malformed)?;
        let count: u32 = count.trim().parse().map_err(|_| malformed())?;
        let period = match period.trim() {
            "second" => Period::Second,
            "minute" => Period::Minute,
            "hour" => Period::Hour,
            "day" => Period::Day,
            _ => return Err(malformed()),
        };
        let rate = Rate { count, period };
        if rate.is_valid() {
            Ok(rate)
        } else {
            Err(malformed())
        }
    }
}

/// A group of routes with a limit of its own, named by the application
/// ([`App::rate_limit`](crate::App::rate_limit)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupSpec {
    /// The group's name, as `RateLimit` headers and `FW_RATE_LIMIT_<NAME>` say it.
    pub(crate) name: &'static str,
    /// The paths it takes: this one and those below it.
    pub(crate) prefix: &'static str,
    /// Its limit in code, unless configuration says otherwise.
    pub(crate) rate: Rate,
}

/// The groups every application has.
pub(crate) const READS: &str = "reads";
/// See [`READS`].
pub(crate) const WRITES: &str = "writes";

/// The longest group name.
const MAX_GROUP_NAME_LENGTH: usize = 32;

impl GroupSpec {
    /// Whether `path` is the prefix or below it, segment by segment:
    /// `/imports` takes `/imports` and `/imports/7`, not `/importsx`.
    pub(crate) fn takes(&self, path: &str) -> bool {
        let prefix = self.prefix.trim_end_matches('/');
        match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// What is wrong with the declaration, if anything.
    fn problem(&self) -> Option<String> {
        let name = self.name;
        let well_formed = !name.is_empty()
            && name.len() <= MAX_GROUP_NAME_LENGTH
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Some(format!(
                "rate-limit group `{name}`: a name is lowercase letters, digits and `_`, starting \
                 with a letter, at most {MAX_GROUP_NAME_LENGTH} long"
            ));
        }
        if name == READS || name == WRITES {
            return Some(format!(
                "rate-limit group `{name}` is fw's own; name the application's group otherwise"
            ));
        }
        if !self.prefix.starts_with('/') {
            return Some(format!(
                "rate-limit group `{name}`: the prefix `{}` must start with `/`",
                self.prefix
            ));
        }
        if !self.rate.is_valid() {
            return Some(format!(
                "rate-limit group `{name}`: the limit `{}` must allow from 1 to {MAX_RATE_COUNT} \
                 requests",
                self.rate
            ));
        }
        None
    }
}

/// Rate limiting's configuration: `FW_RATE_LIMIT`, `FW_RATE_LIMIT_READS`,
/// `FW_RATE_LIMIT_WRITES`, `FW_RATE_LIMIT_<GROUP>` for the application's own
/// groups, and the Redis that shares the counts (`FW_REDIS_URL`,
/// `FW_REDIS_TIMEOUT`, `FW_REDIS_KEY_PREFIX`). See
/// [the guide](crate::docs::rate_limits).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// `FW_RATE_LIMIT`: `on` (default) or `off`, which turns rate limiting
    /// off altogether, `RateLimit` headers and all.
    pub enabled: bool,
    /// `FW_RATE_LIMIT_READS`: each caller's limit on `GET` and `HEAD`
    /// requests; `None` (`off`) for none. Default 1200/minute.
    pub reads: Option<Rate>,
    /// `FW_RATE_LIMIT_WRITES`: each caller's limit on requests of any other
    /// method; `None` (`off`) for none. Default 300/minute.
    pub writes: Option<Rate>,
    /// `FW_RATE_LIMIT_<GROUP>` for the application's own groups, by the
    /// group's name (lowercase): a limit instead of the one in code, or
    /// `None` (`off`) for none.
    pub groups: BTreeMap<String, Option<Rate>>,
    /// `FW_REDIS_URL` (`redis://host:6379/0`): where the counts are kept when
    /// several instances share them; `None` (default) keeps them in this
    /// process.
    pub redis: Option<RedisSettings>,
}

impl RateLimits {
    /// [`RateLimits::reads`]' default: a page that loads a few dozen
    /// resources, reloaded often, stays well under it.
    pub const DEFAULT_READS: Rate = Rate::per_minute(1200);
    /// [`RateLimits::writes`]' default.
    pub const DEFAULT_WRITES: Rate = Rate::per_minute(300);

    /// The limits of `FW_RATE_LIMIT*` and `FW_REDIS_*` among `variables`
    /// (name and value, empty values left out).
    pub(crate) fn from_env(variables: &BTreeMap<String, String>) -> anyhow::Result<RateLimits> {
        let limit = |name: &str, value: &str| -> anyhow::Result<Option<Rate>> {
            if value.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            value
                .parse()
                .map(Some)
                .map_err(|error| anyhow::anyhow!("{name}: {error}"))
        };
        let mut limits = RateLimits::default();
        for (name, value) in variables {
            let Some(group) = name.strip_prefix("FW_RATE_LIMIT") else {
                continue;
            };
            match group {
                "" => {
                    limits.enabled = match value.trim().to_ascii_lowercase().as_str() {
                        "on" => true,
                        "off" => false,
                        _ => anyhow::bail!("FW_RATE_LIMIT=`{value}` is neither `on` nor `off`"),
                    }
                }
                "_READS" => limits.reads = limit(name, value)?,
                "_WRITES" => limits.writes = limit(name, value)?,
                _ => {
                    let Some(group) = group.strip_prefix('_') else {
                        continue;
                    };
                    limits
                        .groups
                        .insert(group.to_ascii_lowercase(), limit(name, value)?);
                }
            }
        }
        limits.redis = RedisSettings::from_env(variables)?;
        Ok(limits)
    }

    /// Checks the application's `groups` and the configuration naming them:
    /// `serve` and `check` run it at start.
    ///
    /// # Errors
    ///
    /// One line per problem: a malformed or repeated group, or an
    /// `FW_RATE_LIMIT_<GROUP>` naming no group.
    pub(crate) fn check(&self, groups: &[GroupSpec]) -> anyhow::Result<()> {
        let mut problems: Vec<String> = groups.iter().filter_map(GroupSpec::problem).collect();
        for (index, group) in groups.iter().enumerate() {
            if groups[..index].iter().any(|other| other.name == group.name) {
                problems.push(format!(
                    "rate-limit group `{}` is declared twice",
                    group.name
                ));
            }
        }
        for name in self.groups.keys() {
            if !groups.iter().any(|group| group.name == name) {
                let declared: Vec<&str> = groups.iter().map(|group| group.name).collect();
                problems.push(format!(
                    "FW_RATE_LIMIT_{} names no rate-limit group; the application's are: {}",
                    name.to_ascii_uppercase(),
                    if declared.is_empty() {
                        "none".to_owned()
                    } else {
                        declared.join(", ")
                    }
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            anyhow::bail!(problems.join("\n"))
        }
    }
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits {
            enabled: true,
            reads: Some(RateLimits::DEFAULT_READS),
            writes: Some(RateLimits::DEFAULT_WRITES),
            groups: BTreeMap::new(),
            redis: None,
        }
    }
}

/// The Redis that shares rate-limit counts between instances.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisSettings {
    /// `FW_REDIS_URL`: `redis://[user:password@]host[:port][/db]`, or
    /// `rediss://` (not supported by this build, which has no TLS).
    pub url: String,
    /// `FW_REDIS_TIMEOUT`: how long one call to Redis may take, connecting
    /// included, in seconds; past it the request is limited in this process
    /// alone. Default 0.1.
    pub timeout: Duration,
    /// `FW_REDIS_KEY_PREFIX`: put before every key, so applications (and
    /// tests) can share a Redis. Default `fw:`; the keys are
    /// `<prefix><app>:rate:<group>:<caller>`.
    pub key_prefix: String,
}

impl RedisSettings {
    /// [`RedisSettings::timeout`]'s default: a Redis nearby answers in a
    /// millisecond; one that does not answer costs a request no more.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

    /// [`RedisSettings::key_prefix`]'s default.
    pub const DEFAULT_KEY_PREFIX: &str = "fw:";

    /// Settings for the Redis at `url`, with the defaults.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    pub fn new(url: impl Into<String>) -> anyhow::Result<RedisSettings> {
        let url = url.into();
        check_url(&url)?;
        Ok(RedisSettings {
            url,
            timeout: RedisSettings::DEFAULT_TIMEOUT,
            key_prefix: RedisSettings::DEFAULT_KEY_PREFIX.to_owned(),
        })
    }

    /// These settings with `prefix` before every key.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> RedisSettings {
        self.key_prefix = prefix.into();
        self
    }

    fn from_env(variables: &BTreeMap<String, String>) -> anyhow::Result<Option<RedisSettings>> {
        let Some(url) = variables.get("FW_REDIS_URL") else {
            return Ok(None);
        };
        let mut settings = RedisSettings::new(url.trim())
            .map_err(|error| anyhow::anyhow!("FW_REDIS_URL: {error}"))?;
        if let Some(timeout) = variables.get("FW_REDIS_TIMEOUT") {
            settings.timeout = timeout
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|seconds| *seconds > 0.0 && *seconds <= 60.0)
                .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "FW_REDIS_TIMEOUT=`{timeout}` is not a number of seconds more than 0 and \
                         at most 60, like `0.1`"
                    )
                })?;
        }
        if let Some(prefix) = variables.get("FW_REDIS_KEY_PREFIX") {
            settings.key_prefix = prefix.clone();
        }
        Ok(Some(settings))
    }
}

/// The URL may hold a password: it is left out.
/// Checks `url` the way the Redis client reads it.
fn check_url(url: &str) -> anyhow::Result<()> {
    let client = redis::Client::open(url).map_err(|error| {
        anyhow::anyhow!("not a Redis URL like `redis://127.0.0.1:6379`: {error}")
    })?;
    drop(client);
    Ok(())
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> anyhow::Result<RateLimits> {
        let variables = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        RateLimits::from_env(&variables)
    }

    #[test]
    fn limits_are_a_count_per_period_or_off() {
        let defaults = read(&[]).unwrap();
        assert_eq!(defaults, RateLimits::default());
        assert!(defaults.enabled);
        assert_eq!(defaults.reads, Some(Rate::per_minute(1200)));
        assert_eq!(defaults.writes, Some(Rate::per_minute(300)));
        let set = read(&[
            ("FW_RATE_LIMIT_READS", "10/second"),
            ("FW_RATE_LIMIT_WRITES", "OFF"),
            ("FW_RATE_LIMIT_IMPORTS", " 5 / hour "),
        ])
        .unwrap();
        assert_eq!(set.reads, Some(Rate::per_second(10)));
        assert_eq!(set.writes, None);
        assert_eq!(set.groups["imports"], Some(Rate::per_hour(5)));
        assert!(!read(&[("FW_RATE_LIMIT", "off")]).unwrap().enabled);
        for (name, bad) in [
            ("FW_RATE_LIMIT_READS", "0/minute"),
            ("FW_RATE_LIMIT_READS", "1000001/second"),
            ("FW_RATE_LIMIT_WRITES", "10/fortnight"),
            ("FW_RATE_LIMIT_WRITES", "10"),
            ("FW_RATE_LIMIT_IMPORTS", "-1/day"),
            ("FW_RATE_LIMIT", "no"),
        ] {
            let error = read(&[(name, bad)]).unwrap_err().to_string();
            assert!(error.starts_with(name), "{error}");
        }
    }

    #[test]
    fn redis_settings_are_checked_and_the_url_never_shown() {
        let settings = read(&[
            ("FW_REDIS_URL", "redis://:secret@127.0.0.1:6379/2"),
            ("FW_REDIS_TIMEOUT", "0.5"),
            ("FW_REDIS_KEY_PREFIX", "test:"),
        ])
        .unwrap()
        .redis
        .unwrap();
        assert_eq!(settings.timeout, Duration::from_millis(500));
        assert_eq!(settings.key_prefix, "test:");
        assert!(!format!("{settings:?}").contains("secret"));
        let defaults = read(&[("FW_REDIS_URL", "redis://127.0.0.1")])
            .unwrap()
            .redis
            .unwrap();
        assert_eq!(defaults.timeout, RedisSettings::DEFAULT_TIMEOUT);
        assert_eq!(defaults.key_prefix, "fw:");
        for (name, bad) in [
            ("FW_REDIS_URL", "http://127.0.0.1"),
            ("FW_REDIS_TIMEOUT", "0"),
            ("FW_REDIS_TIMEOUT", "soon"),
        ] {
            let mut pairs = vec![("FW_REDIS_URL", "redis://127.0.0.1")];
            pairs.push((name, bad));
            let error = read(&pairs).unwrap_err().to_string();
            assert!(error.starts_with(name), "{error}");
        }
    }

    #[test]
    fn groups_are_checked_with_the_configuration_naming_them() {
        let imports = GroupSpec {
            name: "imports",
            prefix: "/imports",
            rate: Rate::per_minute(10),
        };
        assert!(imports.takes("/imports") && imports.takes("/imports/7"));
        assert!(!imports.takes("/importsx") && !imports.takes("/"));
        let limits = read(&[("FW_RATE_LIMIT_IMPORTS", "off")]).unwrap();
        limits.check(&[imports]).unwrap();
        let error = limits.check(&[]).unwrap_err().to_string();
        assert!(
            error.contains("FW_RATE_LIMIT_IMPORTS names no rate-limit group"),
            "{error}"
        );
        let bad = [
            GroupSpec {
                name: "Imports",
                ..imports
            },
            GroupSpec {
                name: "reads",
                ..imports
            },
            GroupSpec {
                prefix: "imports",
                ..imports
            },
            GroupSpec {
                rate: Rate::per_minute(0),
                ..imports
            },
            imports,
            imports,
        ];
        let error = RateLimits::default().check(&bad).unwrap_err().to_string();
        // Four malformed, and the name `imports` three times again.
        assert_eq!(error.lines().count(), 7, "{error}");
        assert!(error.contains("`imports` is declared twice"), "{error}");
    }
}

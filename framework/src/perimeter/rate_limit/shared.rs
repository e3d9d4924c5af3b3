//! Rate-limit state shared by every instance through Redis: the GCRA step
//! of [`gcra`](super::gcra) as one Lua script, which Redis runs atomically,
//! timed by Redis's clock so that instances whose clocks differ agree.
//!
//! When Redis does not answer within the timeout, or fails, the request is
//! limited by this process's own table instead, and Redis is left alone for
//! a second before it is tried again. That is failing open, to the limits of
//! one instance: a caller gets up to the limit from each instance while
//! Redis is down, rather than every request failing (failing closed would
//! make Redis a single point of failure of the whole API) or no limit at all.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::gcra::{Outcome, Quota};
use crate::settings::rate_limits::RedisSettings;

/// One GCRA step on the key `KEYS[1]`, with the interval and period (µs) in
/// `ARGV`. Answers `{1, backlog}` when the request is let through (and
/// stores the new TAT, expiring when the budget is whole), `{0, wait}` when
/// it is refused. The TAT is written with `%.0f`: Lua's own conversion of a
/// number to text keeps 14 digits, and a time in microseconds has 16.
const GCRA_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
local backlog = interval
if tat and tat > now then
  backlog = tat - now + interval
end
if backlog > period then
  return {0, backlog - period}
end
redis.call('SET', KEYS[1], string.format('%.0f', now + backlog), 'PX', math.ceil(backlog / 1000))
return {1, backlog}
";

/// How long Redis is left alone after it failed.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// The connection to Redis, made on first use and again after a failure.
pub(crate) struct SharedStore {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    script: redis::Script,
    timeout: Duration,
    /// Put before every key ([`RedisSettings::key_prefix`]).
    key_prefix: String,
    /// While Redis is left alone: until when, in the limiter's microseconds.
    retry_at: AtomicU64,
    /// Whether the last call failed, so that an outage is logged once.
    down: AtomicBool,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl SharedStore {
    pub(crate) fn new(settings: &RedisSettings) -> anyhow::Result<SharedStore> {
        Ok(SharedStore {
            client: redis::Client::open(settings.url.as_str())?,
            connection: tokio::sync::Mutex::new(None),
            script: redis::Script::new(GCRA_SCRIPT),
            timeout: settings.timeout,
            key_prefix: settings.key_prefix.clone(),
            retry_at: AtomicU64::new(0),
            down: AtomicBool::new(false),
        })
    }

    /// The outcome Redis decides for a request by the caller `key` (after
    /// the key prefix) at `now`
    /// (this process's microseconds, for the pause after a failure only);
    /// `None` when Redis did not answer in time (logged once per outage).
    pub(crate) async fn check(&self, key: &str, quota: Quota, now: u64) -> Option<Outcome> {
        if now < self.retry_at.load(Ordering::Relaxed) {
            return None;
        }
        let call = async {
            let mut connection = self.connection().await?;
            self.script
                .key(format!("{}{key}", self.key_prefix))
                .arg(quota.interval)
                .arg(quota.period)
                .invoke_async::<(u8, u64)>(&mut connection)
                .await
        };
        let failure = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((allowed, micros))) => {
                if self.down.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
                return Some(if allowed == 1 {
                    Outcome::Allowed { backlog: micros }
                } else {
                    Outcome::Refused { wait: micros }
                });
            }
            Ok(Err(error)) => error.to_string(),
            Err(_) => format!("no answer within {:?}", self.timeout),
        };
        // A connection that failed or hung is not used again.
        if let Ok(mut connection) = self.connection.try_lock() {
            *connection = None;
        }
        self.retry_at
            .store(now + RETRY_PAUSE.as_micros() as u64, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = failure,
                "Redis is unreachable: each instance limits callers on its own until it answers"
            );
        }
        None
    }

    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut connection = self.connection.lock().await;
        if let Some(connection) = &*connection {
            return Ok(connection.clone());
        }
        let made = self.client.get_multiplexed_async_connection().await?;
        *connection = Some(made.clone());
        Ok(made)
    }
}

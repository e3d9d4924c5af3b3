//! Login throttling: failed logins counted per account and per client
//! address, in this process's memory, so password guessing slows to a crawl
//! and then answers 429.
//!
//! Each login attempt is counted before its password is checked, and a
//! success takes its count back: parallel guesses cannot slip past the limit
//! while the first ones are still being hashed. Once an account has
//! [`ACCOUNT_LIMIT`] failures (an address [`ADDRESS_LIMIT`]) within
//! [`WINDOW`], it is locked for [`FIRST_LOCK`], doubled with every further
//! failure up to [`WINDOW`]; an attempt while locked is refused without being
//! counted. A success clears the account's failures. Unknown usernames are
//! counted like known ones, so throttling tells nobody which exist.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::AddressKey;

/// Failures counted against one account within [`WINDOW`] before it locks.
pub(crate) const ACCOUNT_LIMIT: u32 = 5;

/// Failures counted against one client address within [`WINDOW`] before it
/// locks: higher than an account's, as several people may share an address.
pub(crate) const ADDRESS_LIMIT: u32 = 20;

/// How long failures are remembered, counted from the first.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The lock after the failure that reaches a limit; each further failure
/// doubles it, up to [`WINDOW`].
pub(crate) const FIRST_LOCK: Duration = Duration::from_secs(30);

/// The most accounts (and, apart, addresses) remembered. Past it, the one
/// whose last failure is oldest is forgotten, so an attacker spraying
/// usernames or addresses cannot grow the table without bound.
const MAX_TRACKED: usize = 10_000;

/// Failed logins by account and by address.
#[derive(Debug)]
pub(crate) struct LoginThrottle {
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    accounts: HashMap<String, Failures>,
    addresses: HashMap<AddressKey, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    last: Instant,
    locked_until: Option<Instant>,
}

/// A login attempt that was let through, to be settled with
/// [`LoginThrottle::succeeded`] when its password was right.
#[derive(Debug)]
#[must_use = "a successful login must take its attempt back"]
pub(crate) struct Attempt {
    account: String,
    address: Option<AddressKey>,
}

impl LoginThrottle {
    pub(crate) fn new() -> LoginThrottle {
        LoginThrottle {
            tables: Mutex::new(Tables::default()),
        }
    }

    /// Counts an attempt to log in to `account` from `address` as a failure
    /// until it succeeds, or refuses it with how long to wait when the
    /// account or the address is locked.
    ///
    /// # Errors
    ///
    /// The time until the later of the two locks ends, at least a second.
    pub(crate) fn attempt(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let address = address.map(AddressKey::from);
        let mut tables = self.lock();
        let account_lock = locked(tables.accounts.get(account), now);
        let address_lock = address.and_then(|key| locked(tables.addresses.get(&key), now));
        if let Some(until) = account_lock.max(address_lock) {
            return Err((until - now).max(Duration::from_secs(1)));
        }
        fail(&mut tables.accounts, account.to_owned(), ACCOUNT_LIMIT, now);
        if let Some(key) = address {
            fail(&mut tables.addresses, key, ADDRESS_LIMIT, now);
        }
        Ok(Attempt {
            account: account.to_owned(),
            address,
        })
    }

    /// The attempt's password was right: the account's failures are cleared,
    /// and the attempt no longer counts against its address.
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        let mut tables = self.lock();
        tables.accounts.remove(&attempt.account);
        if let Some(key) = attempt.address
            && let Some(failures) = tables.addresses.get_mut(&key)
        {
            failures.count = failures.count.saturating_sub(1);
            if failures.count < ADDRESS_LIMIT {
                failures.locked_until = None;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // The tables hold counts only; a thread that panicked holding them
        // left them usable.
        self.tables
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// When `failures` stop locking, if they lock at `now`.
fn locked(failures: Option<&Failures>, now: Instant) -> Option<Instant> {
    let failures = failures?;
    if now.duration_since(failures.first) >= WINDOW {
        return None;
    }
    failures.locked_until.filter(|until| now < *until)
}

/// Counts one failure of `key`, locking it once it reaches `limit`.
fn fail<K: Hash + Eq + Clone>(table: &mut HashMap<K, Failures>, key: K, limit: u32, now: Instant) {
    if !table.contains_key(&key) && table.len() >= MAX_TRACKED {
        forget_oldest(table, now);
    }
    let failures = table.entry(key).or_insert(Failures {
        count: 0,
        first: now,
        last: now,
        locked_until: None,
    });
    if now.duration_since(failures.first) >= WINDOW {
        *failures = Failures {
            count: 0,
            first: now,
            last: now,
            locked_until: None,
        };
    }
    failures.count = failures.count.saturating_add(1);
    failures.last = now;
    if failures.count >= limit {
        let doublings = (failures.count - limit).min(16);
        let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(WINDOW);
        failures.locked_until = Some(now + lock);
    }
}

/// Makes room in a full table: the entries whose window has passed go, or
/// else the one failed longest ago. A scan of the table, which at its cap
/// costs far less than the password hash every counted attempt pays.
fn forget_oldest<K: Hash + Eq + Clone>(table: &mut HashMap<K, Failures>, now: Instant) {
    table.retain(|_, failures| now.duration_since(failures.first) < WINDOW);
    if table.len() < MAX_TRACKED {
        return;
    }
    let oldest = table
        .iter()
        .min_by_key(|(_, failures)| failures.last)
        .map(|(key, _)| key.clone());
    if let Some(oldest) = oldest {
        table.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    fn fail_times(throttle: &LoginThrottle, account: &str, times: u32, now: Instant) {
        for _ in 0..times {
            drop(
                throttle
                    .attempt(account, HOME, now)
                    .expect("not locked yet"),
            );
        }
    }

    #[test]
    fn an_account_locks_after_its_limit_for_a_growing_time() {
        let throttle = LoginThrottle::new();
        let start = Instant::now();
        fail_times(&throttle, "alice", ACCOUNT_LIMIT, start);
        let wait = throttle.attempt("alice", HOME, start).unwrap_err();
        assert_eq!(wait, FIRST_LOCK);
        let later = start + FIRST_LOCK;
        drop(
            throttle
                .attempt("alice", HOME, later)
                .expect("the lock ended"),
        );
        let wait = throttle.attempt("alice", HOME, later).unwrap_err();
        assert_eq!(wait, FIRST_LOCK * 2, "doubled");
        assert!(
            throttle.attempt("bob", None, later).is_ok(),
            "other accounts are not locked"
        );
        let after_window = start + WINDOW;
        assert!(throttle.attempt("alice", HOME, after_window).is_ok());
    }

    #[test]
    fn a_success_clears_the_account_s_failures() {
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        fail_times(&throttle, "alice", ACCOUNT_LIMIT - 1, now);
        let attempt = throttle.attempt("alice", HOME, now).unwrap();
        throttle.succeeded(attempt);
        fail_times(&throttle, "alice", ACCOUNT_LIMIT - 1, now);
        assert!(throttle.attempt("alice", HOME, now).is_ok());
    }

    #[test]
    fn an_address_locks_after_its_limit_across_accounts() {
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        for index in 0..ADDRESS_LIMIT {
            drop(
                throttle
                    .attempt(&format!("user{index}"), HOME, now)
                    .unwrap(),
            );
        }
        assert!(throttle.attempt("someone", HOME, now).is_err());
        assert!(throttle.attempt("someone", None, now).is_ok());
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2)));
        assert!(throttle.attempt("someone", elsewhere, now).is_ok());
    }

    #[test]
    fn an_ipv6_host_is_counted_by_its_network() {
        let network = |last: u16| {
            Some(IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 1, 0, 0, 0, last,
            )))
        };
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        for index in 0..ADDRESS_LIMIT {
            let account = format!("user{index}");
            drop(
                throttle
                    .attempt(&account, network(index as u16), now)
                    .unwrap(),
            );
        }
        assert!(throttle.attempt("someone", network(999), now).is_err());
    }

    #[test]
    fn the_tables_stay_bounded() {
        let throttle = LoginThrottle::new();
        let now = Instant::now();
        for index in 0..MAX_TRACKED + 10 {
            let at = now + Duration::from_millis(index as u64);
            drop(throttle.attempt(&format!("user{index}"), None, at).unwrap());
        }
        let tables = throttle.lock();
        assert_eq!(tables.accounts.len(), MAX_TRACKED);
        assert!(
            !tables.accounts.contains_key("user0"),
            "the oldest is forgotten"
        );
        assert!(
            tables
                .accounts
                .contains_key(&format!("user{}", MAX_TRACKED + 9))
        );
    }
}

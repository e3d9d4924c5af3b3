//! GCRA, the generic cell rate algorithm, and the table of every caller's
//! state in this process.
//!
//! A caller's state is its theoretical arrival time (TAT): when its budget is
//! whole again. A request at `now` adds one emission interval (the period
//! divided by the count) to `max(TAT, now)`, and is let through if that is
//! within one period of `now`. Times are microseconds.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;

use crate::settings::rate_limits::{MAX_RATE_COUNT, Rate};

/// A [`Rate`] as the algorithm reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quota {
    /// The time one request uses up, µs.
    pub(crate) interval: u64,
    /// The period, µs: the most budget a caller can have in hand.
    pub(crate) period: u64,
}

impl From<Rate> for Quota {
    fn from(rate: Rate) -> Quota {
        let period = rate.period().as_micros() as u64;
        Quota {
            // At most a million a second: the interval is at least 1 µs.
            interval: period / u64::from(rate.count().clamp(1, MAX_RATE_COUNT)),
            period,
        }
    }
}

/// What the algorithm decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Let through; the caller's budget is whole again in `backlog` µs.
    Allowed { backlog: u64 },
    /// Refused; a request is let through again in `wait` µs.
    Refused { wait: u64 },
}

impl Quota {
    /// The outcome of a request at `now` by a caller whose TAT is `tat`
    /// (`None` for a caller never seen, or forgotten), and its new TAT when
    /// it is let through.
    pub(crate) fn decide(&self, tat: Option<u64>, now: u64) -> (Outcome, Option<u64>) {
        let backlog = tat.map_or(0, |tat| tat.saturating_sub(now)) + self.interval;
        if backlog > self.period {
            (
                Outcome::Refused {
                    wait: backlog - self.period,
                },
                None,
            )
        } else {
            (Outcome::Allowed { backlog }, Some(now + backlog))
        }
    }

    /// The requests a caller can still send at once after an outcome.
    pub(crate) fn remaining(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Allowed { backlog } => (self.period - backlog) / self.interval,
            Outcome::Refused { .. } => 0,
        }
    }
}

/// The shards of the table: callers spread over them, so requests on
/// different cores rarely wait for the same lock.
const SHARDS: usize = 16;

/// Every caller's TAT in this process, at most `capacity` of them. A full
/// shard first forgets the callers whose budget is whole (the same as not
/// knowing them), then, under a flood of distinct callers, those nearest to
/// whole, a quarter of the shard at a time: memory stays bounded, and a
/// caller who is being limited keeps its state longest.
#[derive(Debug)]
pub(crate) struct LocalTable<K> {
    shards: Box<[Mutex<HashMap<K, u64>>]>,
    shard_capacity: usize,
    hasher: RandomState,
}

impl<K: Hash + Eq> LocalTable<K> {
    pub(crate) fn new(capacity: usize) -> LocalTable<K> {
        LocalTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity: capacity.div_ceil(SHARDS).max(4),
            hasher: RandomState::new(),
        }
    }

    /// Decides a request at `now` by the caller `key` against `quota`.
    pub(crate) fn check(&self, key: K, quota: Quota, now: u64) -> Outcome {
        let shard = &self.shards[self.hasher.hash_one(&key) as usize % SHARDS];
        // The table holds numbers only; a thread that panicked holding it
        // left it usable.
        let mut shard = shard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tat = shard.get(&key).copied();
        let (outcome, new_tat) = quota.decide(tat, now);
        if let Some(new_tat) = new_tat {
            if tat.is_none() && shard.len() >= self.shard_capacity {
                make_room(&mut shard, self.shard_capacity, now);
            }
            shard.insert(key, new_tat);
        }
        outcome
    }

    /// How many callers the table holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap().len())
            .sum()
    }
}

/// Frees at least a quarter of a full shard: the whole budgets, then the
/// ones nearest to whole. A scan of the shard, once per quarter of it filled.
fn make_room<K>(shard: &mut HashMap<K, u64>, capacity: usize, now: u64) {
    shard.retain(|_, tat| *tat > now);
    let keep = capacity - capacity / 4;
    if shard.len() <= keep {
        return;
    }
    let mut tats: Vec<u64> = shard.values().copied().collect();
    let cut = shard.len() - keep - 1;
    let (_, threshold, _) = tats.select_nth_unstable(cut);
    let threshold = *threshold;
    shard.retain(|_, tat| *tat > threshold);
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;

    #[test]
    fn a_burst_of_the_count_then_one_per_interval() {
        let quota = Quota::from(Rate::per_second(4));
        assert_eq!(quota.interval, SECOND / 4);
        let mut tat = None;
        for remaining in [3, 2, 1, 0] {
            let (outcome, next) = quota.decide(tat, 0);
            assert!(matches!(outcome, Outcome::Allowed { .. }), "{outcome:?}");
            assert_eq!(quota.remaining(outcome), remaining);
            tat = next;
        }
        assert_eq!(
            quota.decide(tat, 0),
            (Outcome::Refused { wait: SECOND / 4 }, None),
            "the fifth waits for one interval"
        );
        let (outcome, _) = quota.decide(tat, SECOND / 4);
        assert_eq!(outcome, Outcome::Allowed { backlog: SECOND });
        assert_eq!(quota.remaining(outcome), 0);
        // Idle for a period: the whole budget again.
        let (outcome, _) = quota.decide(tat, 2 * SECOND);
        assert_eq!(
            outcome,
            Outcome::Allowed {
                backlog: SECOND / 4
            }
        );
        assert_eq!(quota.remaining(outcome), 3);
    }

    #[test]
    fn a_count_that_does_not_divide_the_period_allows_exactly_the_count() {
        let quota = Quota::from(Rate::per_minute(7));
        let mut tat = None;
        for _ in 0..7 {
            let (outcome, next) = quota.decide(tat, 0);
            assert!(matches!(outcome, Outcome::Allowed { .. }));
            tat = next;
        }
        assert!(matches!(quota.decide(tat, 0).0, Outcome::Refused { .. }));
    }

    #[test]
    fn callers_have_budgets_of_their_own() {
        let table = LocalTable::new(100);
        let quota = Quota::from(Rate::per_minute(2));
        assert!(matches!(
            table.check("a", quota, 0),
            Outcome::Allowed { .. }
        ));
        assert!(matches!(
            table.check("a", quota, 0),
            Outcome::Allowed { .. }
        ));
        assert!(matches!(
            table.check("a", quota, 0),
            Outcome::Refused { .. }
        ));
        assert!(matches!(
            table.check("b", quota, 0),
            Outcome::Allowed { .. }
        ));
        assert!(
            matches!(table.check("a", quota, 0), Outcome::Refused { .. }),
            "a refusal does not count"
        );
    }

    #[test]
    fn the_table_stays_bounded_under_a_flood_of_callers() {
        let capacity = 1000;
        let table = LocalTable::new(capacity);
        let quota = Quota::from(Rate::per_minute(10));
        // A caller being limited.
        for _ in 0..10 {
            table.check(u64::MAX, quota, 0);
        }
        for caller in 0..20 * capacity as u64 {
            table.check(caller, quota, 0);
        }
        assert!(
            table.len() <= capacity.div_ceil(SHARDS) * SHARDS,
            "{}",
            table.len()
        );
        assert!(
            matches!(table.check(u64::MAX, quota, 0), Outcome::Refused { .. }),
            "the caller who used most of its budget is remembered"
        );
        // Whole budgets are forgotten first, and cost nothing to forget.
        let later = 2 * 60 * SECOND;
        for caller in 0..capacity as u64 {
            table.check(caller + 1_000_000, quota, later);
        }
        assert!(table.len() <= capacity.div_ceil(SHARDS) * SHARDS);
    }
}

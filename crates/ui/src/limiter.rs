//! Failed sign-in attempts, limited per account name in a sliding window, so a
//! password cannot be guessed online. Kept in memory per node.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct AttemptLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl AttemptLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn is_recent(&self, t: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - t < self.window
    }

    /// Only reads: asking about a name never adds an entry for it.
    pub fn is_blocked(&self, key: &str, now: DateTime<Utc>) -> bool {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).is_some_and(|list| {
            list.iter().filter(|t| self.is_recent(**t, now)).count() >= self.max_failures
        })
    }

    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = map.get_mut(key) {
            list.retain(|t| self.is_recent(*t, now));
            list.push(now);
        } else {
            map.insert(key.to_string(), vec![now]);
        }
        if map.len() > 100_000 {
            map.retain(|_, list| list.iter().any(|t| self.is_recent(*t, now)));
        }
    }

    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_within_the_window() {
        let l = AttemptLimiter::new(3, Duration::minutes(15));
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        for _ in 0..3 {
            assert!(!l.is_blocked("a", t0));
            l.record_failure("a", t0);
        }
        assert!(l.is_blocked("a", t0));
        assert!(!l.is_blocked("b", t0));
        assert!(!l.is_blocked("a", t0 + Duration::minutes(16)));
    }

    #[test]
    fn asking_adds_nothing_and_stale_names_are_pruned() {
        let l = AttemptLimiter::new(3, Duration::minutes(15));
        let t0 = DateTime::from_timestamp(1_000_000, 0).unwrap_or_default();
        assert!(!l.is_blocked("nobody", t0));
        assert!(
            l.failures
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
        );
        for n in 0..=100_000 {
            l.record_failure(&format!("old{n}"), t0);
        }
        l.record_failure("new", t0 + Duration::minutes(16));
        let map = l.failures.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(map.len(), 1);
        assert!(map.contains_key("new"));
    }
}

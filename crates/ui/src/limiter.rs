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

    fn recent(
        &self,
        map: &mut HashMap<String, Vec<DateTime<Utc>>>,
        key: &str,
        now: DateTime<Utc>,
    ) -> usize {
        let list = map.entry(key.to_string()).or_default();
        list.retain(|t| now - *t < self.window);
        list.len()
    }

    pub fn is_blocked(&self, key: &str, now: DateTime<Utc>) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.recent(&mut map, key, now) >= self.max_failures
    }

    pub fn record_failure(&self, key: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.recent(&mut map, key, now);
        map.entry(key.to_string()).or_default().push(now);
        if map.len() > 100_000 {
            map.retain(|_, v| !v.is_empty());
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
}

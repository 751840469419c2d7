//! Spacing sends out to `max_per_second`.
//!
//! A token bucket would allow a burst first; relays count bursts against a
//! sender, so each send simply gets its own slot, `1 / max_per_second` after
//! the previous one. This is throughput, not domain time: it runs on tokio's
//! monotonic clock, and the [`Pacer`] itself only does the arithmetic, so it
//! is tested without waiting.

use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next_free: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(max_per_second: u32) -> Self {
        Self {
            interval: Duration::from_secs(1) / max_per_second.max(1),
            next_free: None,
        }
    }

    /// Books the first free slot at or after `now` and returns it; the caller
    /// waits until then. An idle pacer does not save up slots.
    pub(crate) fn reserve(&mut self, now: Instant) -> Instant {
        let slot = match self.next_free {
            Some(free) if free > now => free,
            _ => now,
        };
        self.next_free = Some(slot + self.interval);
        slot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_send_gets_its_own_slot_and_idle_time_is_not_saved_up() {
        let t0 = Instant::now();
        let ms = |n| Duration::from_millis(n);
        let mut pacer = Pacer::new(4);
        // (asked at, expected slot), in milliseconds after t0
        for (asked, slot) in [
            (0, 0),
            (0, 250),
            (100, 500),
            (600, 750),
            (2000, 2000),
            (2000, 2250),
        ] {
            assert_eq!(
                pacer.reserve(t0 + ms(asked)),
                t0 + ms(slot),
                "asked at {asked} ms"
            );
        }
    }
}

//! The background worker that empties the outbox table.
//!
//! Every node runs one. Each round claims the messages that are due (a lease,
//! so two nodes never send the same message at once, and a crashed node's
//! claims run out), sends them one by one at most `max_per_second`, and
//! records the outcome: sent; retry later with exponential backoff; or failed
//! for good. Delivery is at least once: if a node dies between the relay's
//! "250 OK" and `mark_mail_sent`, the message goes out again when the lease
//! ends, with the same `Message-ID`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use lettre::message::Mailbox;
use portico_core::Clock;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::MailConfig;
use crate::error::MailError;
use crate::pace::Pacer;
use crate::queue::{MailQueue, QueuedMail};
use crate::transport::Transport;

/// How many messages one round claims. Small, so that a round (even one
/// where the relay answers every command at the last second of its timeout)
/// ends well inside the lease.
const BATCH: u32 = 20;
/// How long a claim holds.
const LEASE: TimeDelta = TimeDelta::minutes(5);
/// A message is only sent while this much of its lease is left; the rest of
/// the batch is handed back, since another node may claim it soon.
const LEASE_MARGIN: TimeDelta = TimeDelta::minutes(1);
/// The shortest wait between two rounds that found nothing to do.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// The longest an idle worker sleeps without a poke: a node that queued mail
/// and died before sending it is covered by the others within this time.
/// (A claim is a write transaction; on SQLite polling every 2 s would take
/// the database's write lock for nothing.)
const IDLE_MAX: Duration = Duration::from_secs(60);

/// What one round (or a whole drain) did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: u32,
    /// Failed for now; scheduled again.
    pub retried: u32,
    /// Given up on: a permanent error, or the last attempt failed.
    pub failed: u32,
}

impl DeliveryReport {
    pub fn total(&self) -> u32 {
        self.sent + self.retried + self.failed
    }
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
    fn add(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

pub struct MailWorker {
    queue: Arc<dyn MailQueue>,
    transport: Transport,
    clock: Arc<dyn Clock>,
    config: MailConfig,
    from: Mailbox,
    notify: Arc<Notify>,
    pacer: Mutex<Pacer>,
}

impl MailWorker {
    /// Fails on unusable settings (see [`MailConfig::validate`]).
    pub fn new(
        queue: Arc<dyn MailQueue>,
        transport: Transport,
        clock: Arc<dyn Clock>,
        config: MailConfig,
    ) -> Result<Self, MailError> {
        let from = config.validate()?;
        Ok(Self {
            queue,
            transport,
            clock,
            pacer: Mutex::new(Pacer::new(config.max_per_second)),
            config,
            from,
            notify: Arc::new(Notify::new()),
        })
    }

    /// Wakes the loop now instead of at the next poll, so an invitation or a
    /// one-time code leaves within a second of being queued. Call it after
    /// the transaction that queued the message has committed.
    pub fn poke(&self) {
        // `notify_one` keeps a permit when the loop is busy, so a poke during
        // a round is not lost: the loop goes round again straight away.
        self.notify.notify_one();
    }

    /// The same wake-up as [`poke`](Self::poke), for code that should not
    /// depend on this crate (a feature crate's service, say).
    pub fn notifier(&self) -> Arc<Notify> {
        Arc::clone(&self.notify)
    }

    /// One round: claims what is due now and tries each message once.
    /// An error means the queue itself failed; what was claimed and not yet
    /// recorded is tried again when its lease runs out.
    pub async fn run_once(&self) -> anyhow::Result<DeliveryReport> {
        let now = self.clock.now();
        let lease_until = now + LEASE;
        let claimed = self.queue.claim_due_mail(now, lease_until, BATCH).await?;
        let mut report = DeliveryReport::default();
        for queued in claimed {
            if self.clock.now() + LEASE_MARGIN > lease_until {
                self.hand_back(&queued).await?;
                continue;
            }
            report.add(self.deliver(&queued).await?);
        }
        Ok(report)
    }

    /// Runs rounds until nothing is due now (the CLI's `mail send`); messages
    /// scheduled for a later retry stay queued.
    pub async fn drain(&self) -> anyhow::Result<DeliveryReport> {
        let mut total = DeliveryReport::default();
        loop {
            let round = self.run_once().await?;
            if round.is_empty() {
                return Ok(total);
            }
            total.add(round);
        }
    }

    /// Runs the worker loop until `shutdown` completes (e.g. the server's
    /// shutdown signal). A round that has started is finished first, so no
    /// message is left half-recorded.
    pub fn spawn<F>(self: Arc<Self>, shutdown: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                let wait = match self.run_once().await {
                    Ok(report) => {
                        if !report.is_empty() {
                            tracing::info!(?report, "mail round done");
                        }
                        // A full batch means more is probably due: go again at once.
                        if report.total() >= BATCH {
                            Duration::ZERO
                        } else {
                            self.idle_wait().await
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), "mail round failed");
                        POLL_INTERVAL
                    }
                };
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = self.notify.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
            }
            tracing::info!("mail worker stopped");
        })
    }

    /// Until the next retry falls due (read, not claimed), between
    /// [`POLL_INTERVAL`] and [`IDLE_MAX`]; new mail pokes the loop earlier.
    async fn idle_wait(&self) -> Duration {
        match self.queue.next_mail_due().await {
            Ok(Some(due)) => (due - self.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(POLL_INTERVAL, IDLE_MAX),
            Ok(None) => IDLE_MAX,
            Err(_) => POLL_INTERVAL,
        }
    }

    async fn deliver(&self, queued: &QueuedMail) -> anyhow::Result<DeliveryReport> {
        if self.transport.is_rate_limited() {
            self.wait_for_slot().await;
        }
        let mail = &queued.mail;
        let attempts = queued.attempts.saturating_add(1);
        let mut report = DeliveryReport::default();
        match self.transport.send(mail, &self.from).await {
            Ok(()) => {
                self.queue.mark_mail_sent(mail.id, self.clock.now()).await?;
                report.sent = 1;
            }
            Err(e) if e.is_permanent() || attempts >= self.config.max_attempts => {
                tracing::warn!(mail_id = %mail.id, attempts, error = %e, "mail failed for good");
                self.queue
                    .mark_mail_failed(mail.id, attempts, &e.to_string())
                    .await?;
                report.failed = 1;
            }
            Err(e) => {
                let next =
                    self.clock.now() + TimeDelta::from_std(self.config.retry_delay(attempts))?;
                tracing::info!(mail_id = %mail.id, attempts, %next, error = %e, "mail will be retried");
                self.queue
                    .schedule_mail_retry(mail.id, attempts, next, &e.to_string())
                    .await?;
                report.retried = 1;
            }
        }
        Ok(report)
    }

    /// Releases a claimed message untried (its attempts unchanged), due now.
    async fn hand_back(&self, queued: &QueuedMail) -> anyhow::Result<()> {
        let now: DateTime<Utc> = self.clock.now();
        self.queue
            .schedule_mail_retry(
                queued.mail.id,
                queued.attempts,
                now,
                "lease ran short; not tried",
            )
            .await
    }

    async fn wait_for_slot(&self) {
        let slot = {
            let mut pacer = self.pacer.lock().unwrap_or_else(|p| p.into_inner());
            pacer.reserve(tokio::time::Instant::now())
        };
        tokio::time::sleep_until(slot).await;
    }
}

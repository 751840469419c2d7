//! The outbox table as the worker sees it. Storage implements [`MailQueue`];
//! messages get into the table through the feature crates' repositories, in
//! the same transaction as the change that caused them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::OutgoingMail;
use uuid::Uuid;

/// A message the worker has claimed, with how often it was tried before.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub mail: OutgoingMail,
    pub attempts: u32,
}

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    Pending,
    Sent,
    /// Gave up after the last retry.
    Failed,
}

impl MailStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(MailStatus::Pending),
            "sent" => Some(MailStatus::Sent),
            "failed" => Some(MailStatus::Failed),
            _ => None,
        }
    }
}

#[async_trait]
pub trait MailQueue: Send + Sync {
    /// Claims up to `limit` pending messages that are due at `now` and not
    /// claimed by another worker (or whose claim ran out), oldest first, and
    /// holds them until `lease_until`. Two workers never claim the same message
    /// at the same time.
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<QueuedMail>>;
    async fn mark_mail_sent(&self, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<()>;
    /// Releases the claim and schedules the next attempt.
    async fn schedule_mail_retry(
        &self,
        id: Uuid,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()>;
    async fn mark_mail_failed(&self, id: Uuid, attempts: u32, error: &str) -> anyhow::Result<()>;
    /// How many messages are in `status` (tests, metrics, `readyz`).
    async fn count_mail(&self, status: MailStatus) -> anyhow::Result<u64>;
    /// The earliest `next_attempt_at` of a pending message (when to wake up).
    async fn next_mail_due(&self) -> anyhow::Result<Option<DateTime<Utc>>>;
}

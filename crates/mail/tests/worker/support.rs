//! Test doubles and builders: an in-memory outbox table with the semantics
//! storage must have, a temporary directory, and queued-mail builders.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::{Clock, MailKind, ManualClock, OutgoingMail};
use portico_mail::{MailConfig, MailQueue, MailStatus, MailWorker, QueuedMail, Transport};
use uuid::Uuid;

/// One row of the in-memory `mail_outbox`.
#[derive(Debug, Clone)]
pub struct Row {
    pub mail: OutgoingMail,
    pub status: MailStatus,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub leased_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Default)]
pub struct MemoryQueue {
    rows: Mutex<Vec<Row>>,
    /// Fires on every `mark_mail_sent`, so a test can await the spawned loop.
    pub sent: tokio::sync::Notify,
}

impl MemoryQueue {
    pub fn push(&self, mail: OutgoingMail) {
        let row = Row {
            next_attempt_at: mail.created_at,
            mail,
            status: MailStatus::Pending,
            attempts: 0,
            leased_until: None,
            last_error: None,
        };
        self.rows.lock().unwrap().push(row);
    }

    pub fn row(&self, id: Uuid) -> Row {
        self.rows
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.mail.id == id)
            .cloned()
            .unwrap()
    }

    fn update(&self, id: Uuid, change: impl FnOnce(&mut Row)) -> anyhow::Result<()> {
        let mut rows = self.rows.lock().unwrap();
        let row = rows
            .iter_mut()
            .find(|r| r.mail.id == id)
            .ok_or_else(|| anyhow::anyhow!("no mail {id}"))?;
        change(row);
        row.leased_until = None;
        Ok(())
    }
}

#[async_trait]
impl MailQueue for MemoryQueue {
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<QueuedMail>> {
        let mut rows = self.rows.lock().unwrap();
        let mut due: Vec<&mut Row> = rows
            .iter_mut()
            .filter(|r| r.status == MailStatus::Pending && r.next_attempt_at <= now)
            .filter(|r| r.leased_until.is_none_or(|until| until <= now))
            .collect();
        due.sort_by_key(|r| r.next_attempt_at);
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|row| {
                row.leased_until = Some(lease_until);
                QueuedMail {
                    mail: row.mail.clone(),
                    attempts: row.attempts,
                }
            })
            .collect())
    }

    async fn mark_mail_sent(&self, id: Uuid, _now: DateTime<Utc>) -> anyhow::Result<()> {
        self.update(id, |row| row.status = MailStatus::Sent)?;
        self.sent.notify_one();
        Ok(())
    }

    async fn schedule_mail_retry(
        &self,
        id: Uuid,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        self.update(id, |row| {
            row.attempts = attempts;
            row.next_attempt_at = next_attempt_at;
            row.last_error = Some(error.into());
        })
    }

    async fn mark_mail_failed(&self, id: Uuid, attempts: u32, error: &str) -> anyhow::Result<()> {
        self.update(id, |row| {
            row.status = MailStatus::Failed;
            row.attempts = attempts;
            row.last_error = Some(error.into());
        })
    }

    async fn count_mail(&self, status: MailStatus) -> anyhow::Result<u64> {
        Ok(self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == status)
            .count() as u64)
    }

    async fn next_mail_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let rows = self.rows.lock().unwrap();
        Ok(rows
            .iter()
            .filter(|r| r.status == MailStatus::Pending)
            .map(|r| r.next_attempt_at)
            .min())
    }
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!("portico-mail-{label}-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A worker over a fresh in-memory queue, with a clock that only moves when told.
pub struct Harness {
    pub queue: Arc<MemoryQueue>,
    pub clock: ManualClock,
    pub worker: Arc<MailWorker>,
}

impl Harness {
    /// `smtp_url: None` means outbox mode.
    pub fn new(config: MailConfig) -> Self {
        let queue = Arc::new(MemoryQueue::default());
        let clock = ManualClock::starting_now();
        let transport = Transport::from_config(&config).unwrap();
        let worker =
            MailWorker::new(queue.clone(), transport, Arc::new(clock.clone()), config).unwrap();
        Self {
            queue,
            clock,
            worker: Arc::new(worker),
        }
    }

    /// Queues an invitation to `to`, created now, and returns it.
    pub fn queue_invitation(&self, to: &str, subject: &str) -> OutgoingMail {
        let mail = OutgoingMail {
            id: Uuid::new_v4(),
            kind: MailKind::Invitation,
            to: to.into(),
            cc: vec!["sponsor@contoso.example".into()],
            subject: subject.into(),
            text: format!("You are invited. Open the link to join.\n{to}"),
            html: format!("<p>You are invited.</p><p>{to}</p>"),
            created_at: self.clock.now(),
        };
        self.queue.push(mail.clone());
        mail
    }
}

pub fn smtp_config(url: &str, outbox: &Path) -> MailConfig {
    MailConfig {
        smtp_url: Some(url.into()),
        from: "Contoso <no-reply@contoso.example>".into(),
        outbox_dir: outbox.to_path_buf(),
        max_per_second: 1000,
        ..MailConfig::default()
    }
}

pub fn outbox_config(outbox: &Path) -> MailConfig {
    MailConfig {
        smtp_url: None,
        outbox_dir: outbox.to_path_buf(),
        ..smtp_config("", outbox)
    }
}

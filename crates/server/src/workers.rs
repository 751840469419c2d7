//! The background workers: mail delivery, bulk imports, and the clean-up of
//! expired rows. They keep their state in the database, so any node may run
//! them and a restart resumes them; the loops here only decide when to look.

use portico_core::Clock;
use portico_directory::import::Importer;
use portico_mail::MailWorker;
use portico_storage::{PurgeReport, Storage};
use portico_ui::Background;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How often a node looks for import jobs left running by a stopped node.
const IMPORT_POLL: Duration = Duration::from_secs(15);
/// The clean-up's lease in `leases`: renewed every round by its holder; when
/// the holder stops, another node takes over once this has run out.
pub const CLEANUP_LEASE: &str = "cleanup";
pub const CLEANUP_LEASE_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Deletes expired rows (`Storage::purge_expired`), on one node of the
/// cluster at a time: the one holding the `cleanup` lease.
#[derive(Clone)]
pub struct Cleanup {
    storage: Storage,
    clock: Arc<dyn Clock>,
    /// This node's name in the lease: random per process.
    holder: String,
    /// Between rounds (`cleanup_interval_secs`); well under the lease's
    /// lifetime, so the holder renews it long before it could run out.
    interval: Duration,
}

impl Cleanup {
    pub fn new(storage: Storage, clock: Arc<dyn Clock>, interval: Duration) -> Self {
        Self {
            storage,
            clock,
            holder: Uuid::new_v4().to_string(),
            interval,
        }
    }

    /// This node's name in `leases`.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// One round: takes (or renews) the lease, then deletes what has expired.
    /// `None` when another node holds the lease.
    pub async fn run_once(&self) -> anyhow::Result<Option<PurgeReport>> {
        let now = self.clock.now();
        if !self
            .storage
            .try_lease(CLEANUP_LEASE, &self.holder, now, CLEANUP_LEASE_TTL)
            .await?
        {
            return Ok(None);
        }
        Ok(Some(self.storage.purge_expired(now).await?))
    }
}

#[derive(Clone)]
pub struct Workers {
    pub mail: Arc<MailWorker>,
    pub importer: Importer,
    pub cleanup: Cleanup,
}

impl Workers {
    /// Runs one job to its end (each invitation wakes the mail worker, so
    /// mail leaves while the import goes on).
    pub async fn run_import(&self, id: Uuid) {
        match self.importer.run(id, |_| {}).await {
            Ok(job) => {
                tracing::info!(job = %job.id, status = job.status.as_str(), "import run ended")
            }
            Err(e) => tracing::warn!(job = %id, error = format!("{e:#}"), "import run stopped"),
        }
    }

    /// Starts the mail loop and the import loop. They stop when the returned
    /// guard is dropped (the server stopping, a test's server going away).
    pub fn spawn(&self) -> Running {
        let mail = self.mail.clone().spawn(std::future::pending());
        let me = self.clone();
        let imports = tokio::spawn(async move {
            loop {
                let now = me.importer.now();
                match me.importer.repo().list_runnable_jobs(now).await {
                    Ok(jobs) => {
                        for job in jobs {
                            me.run_import(job.id).await;
                        }
                    }
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "cannot list import jobs"),
                }
                tokio::time::sleep(IMPORT_POLL).await;
            }
        });
        let cleanup = self.cleanup.clone();
        let sweep = tokio::spawn(async move {
            loop {
                match cleanup.run_once().await {
                    Ok(Some(r)) if r.total() > 0 => {
                        tracing::info!(deleted = ?r.deleted, "expired rows deleted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "clean-up round failed"),
                }
                tokio::time::sleep(cleanup.interval).await;
            }
        });
        Running(vec![mail, imports, sweep])
    }
}

/// The workers' tasks; dropping it stops them (a round in progress is cut
/// short, which the leases on mail and import jobs are made for).
pub struct Running(Vec<JoinHandle<()>>);

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl Background for Workers {
    fn import_started(&self, job: Uuid) {
        let me = self.clone();
        tokio::spawn(async move { me.run_import(job).await });
    }
}

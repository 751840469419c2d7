//! The background workers: mail delivery, bulk imports, the clean-up of
//! expired rows and back-channel logout delivery. They keep their state in the database, so any node may run
//! them and a restart resumes them; the loops here only decide when to look.

use portico_core::Clock;
use portico_directory::import::Importer;
use portico_mail::MailWorker;
use portico_oidc::backchannel::{BackchannelSender, DeliveryReport};
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
/// The back-channel logout sender's lease; a round (at most 20 requests of at
/// most 5 s each) ends well inside it.
pub const BACKCHANNEL_LEASE: &str = "backchannel-logout";
pub const BACKCHANNEL_LEASE_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// A job that runs on one node of the cluster at a time: the one holding
/// the lease `name` in `leases`, renewed at every round.
#[derive(Clone)]
struct ClusterLease {
    storage: Storage,
    clock: Arc<dyn Clock>,
    name: &'static str,
    ttl: chrono::TimeDelta,
    /// This node's name in the lease: random per process.
    holder: String,
}

impl ClusterLease {
    fn new(
        storage: Storage,
        clock: Arc<dyn Clock>,
        name: &'static str,
        ttl: chrono::TimeDelta,
    ) -> Self {
        Self {
            storage,
            clock,
            name,
            ttl,
            holder: Uuid::new_v4().to_string(),
        }
    }

    /// Takes or renews the lease; false when another node holds it.
    async fn take(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        self.storage
            .try_lease(self.name, &self.holder, now, self.ttl)
            .await
    }
}

/// Deletes expired rows (`Storage::purge_expired`) and empties SQLite's
/// write-ahead log (`Storage::checkpoint_wal`), on one node of the cluster
/// at a time: the one holding the `cleanup` lease.
#[derive(Clone)]
pub struct Cleanup {
    lease: ClusterLease,
    /// Between rounds (`cleanup_interval_secs`); well under the lease's
    /// lifetime, so the holder renews it long before it could run out.
    interval: Duration,
}

impl Cleanup {
    pub fn new(storage: Storage, clock: Arc<dyn Clock>, interval: Duration) -> Self {
        Self {
            lease: ClusterLease::new(storage, clock, CLEANUP_LEASE, CLEANUP_LEASE_TTL),
            interval,
        }
    }

    /// This node's name in `leases`.
    pub fn holder(&self) -> &str {
        &self.lease.holder
    }

    /// One round: takes (or renews) the lease, then deletes what has expired.
    /// `None` when another node holds the lease.
    pub async fn run_once(&self) -> anyhow::Result<Option<PurgeReport>> {
        if !self.lease.take().await? {
            return Ok(None);
        }
        let now = self.lease.clock.now();
        let report = self.lease.storage.purge_expired(now).await?;
        // SQLite's log, the purge's deletes with it, goes into the file and
        // starts over (`Storage::checkpoint_wal`).
        match self.lease.storage.checkpoint_wal().await {
            Ok(c) if !c.completed => {
                tracing::info!(
                    frames = c.frames,
                    "SQLite log busy; it is checkpointed next round"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "SQLite checkpoint failed"),
        }
        Ok(Some(report))
    }
}

/// Sends due back-channel logout tokens (`oidc::backchannel`), on one node
/// of the cluster at a time (the `backchannel-logout` lease), one round at a
/// time on that node.
#[derive(Clone)]
pub struct BackchannelLogouts {
    lease: ClusterLease,
    sender: Arc<BackchannelSender>,
    round: Arc<tokio::sync::Mutex<()>>,
    /// Between rounds (`backchannel_interval_secs`).
    interval: Duration,
}

impl BackchannelLogouts {
    pub fn new(
        storage: Storage,
        clock: Arc<dyn Clock>,
        sender: BackchannelSender,
        interval: Duration,
    ) -> Self {
        Self {
            lease: ClusterLease::new(storage, clock, BACKCHANNEL_LEASE, BACKCHANNEL_LEASE_TTL),
            sender: Arc::new(sender),
            round: Arc::default(),
            interval,
        }
    }

    /// One round: takes (or renews) the lease, then tries every due delivery
    /// once. `None` when another node holds the lease.
    pub async fn run_once(&self) -> anyhow::Result<Option<DeliveryReport>> {
        let _one_round = self.round.lock().await;
        if !self.lease.take().await? {
            return Ok(None);
        }
        Ok(Some(self.sender.deliver_due().await?))
    }
}

#[derive(Clone)]
pub struct Workers {
    pub mail: Arc<MailWorker>,
    pub importer: Importer,
    pub cleanup: Cleanup,
    pub backchannel: BackchannelLogouts,
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
        // The first round waits one interval: a node that just started has
        // nothing of its own to clean, and racing every starting node for the
        // lease at once gains nothing.
        let sweep = tokio::spawn(async move {
            loop {
                tokio::time::sleep(cleanup.interval).await;
                match cleanup.run_once().await {
                    Ok(Some(r)) if r.total() > 0 => {
                        tracing::info!(deleted = ?r.deleted, "expired rows deleted")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "clean-up round failed"),
                }
            }
        });
        let backchannel = self.backchannel.clone();
        let logouts = tokio::spawn(async move {
            loop {
                if let Err(e) = backchannel.run_once().await {
                    tracing::warn!(error = format!("{e:#}"), "back-channel logout round failed");
                }
                tokio::time::sleep(backchannel.interval).await;
            }
        });
        Running(vec![mail, imports, sweep, logouts])
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

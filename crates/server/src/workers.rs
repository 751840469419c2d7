//! The background workers: mail delivery, bulk imports, and clean-up of
//! finished federation flows. They keep their state in the database, so any
//! node may run them and a restart resumes them; the loops here only decide
//! when to look.

use portico_directory::import::Importer;
use portico_federation::Federation;
use portico_mail::MailWorker;
use portico_ui::Background;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How often a node looks for import jobs left running by a stopped node.
const IMPORT_POLL: Duration = Duration::from_secs(15);
/// How often expired federation flows (their nonces and PKCE verifiers) are deleted.
const FLOW_SWEEP: Duration = Duration::from_secs(600);

#[derive(Clone)]
pub struct Workers {
    pub mail: Arc<MailWorker>,
    pub importer: Importer,
    pub federation: Federation,
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
        let federation = self.federation.clone();
        let sweep = tokio::spawn(async move {
            loop {
                match federation.delete_expired_flows().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "expired federation flows deleted"),
                    Err(e) => tracing::warn!(error = %e, "cannot delete expired federation flows"),
                }
                tokio::time::sleep(FLOW_SWEEP).await;
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

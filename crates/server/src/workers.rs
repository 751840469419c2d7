//! The background workers: mail delivery and bulk imports. Both keep their
//! state in the database, so any node may run them and a restart resumes
//! them; the loops here only decide when to look.

use portico_directory::import::Importer;
use portico_mail::MailWorker;
use portico_ui::Background;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How often a node looks for import jobs left running by a stopped node.
const IMPORT_POLL: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct Workers {
    pub mail: Arc<MailWorker>,
    pub importer: Importer,
}

impl Workers {
    /// Runs one job to its end, waking the mail worker after every batch so
    /// invitations start leaving while the import goes on.
    pub async fn run_import(&self, id: Uuid) {
        let mail = self.mail.clone();
        match self.importer.run(id, |_| mail.poke()).await {
            Ok(job) => {
                tracing::info!(job = %job.id, status = job.status.as_str(), "import run ended")
            }
            Err(e) => tracing::warn!(job = %id, error = format!("{e:#}"), "import run stopped"),
        }
        self.mail.poke();
    }

    /// Starts the mail loop and the import loop; they live as long as the runtime.
    pub fn spawn(&self) {
        self.mail.clone().spawn(std::future::pending());
        let me = self.clone();
        tokio::spawn(async move {
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
    }
}

impl Background for Workers {
    fn mail_queued(&self) {
        self.mail.poke();
    }

    fn import_started(&self, job: Uuid) {
        let me = self.clone();
        tokio::spawn(async move { me.run_import(job).await });
    }
}

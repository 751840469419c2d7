//! Running a bulk import: stage the file's rows, then invite row by row.
//!
//! Both phases resume: staging continues after the last staged row, and the
//! runner only picks rows without an outcome, writing each outcome in the
//! same transaction as its invitation. A process killed at any instant thus
//! loses no row and invites nobody twice; re-running a finished file finds
//! every guest already invited.

use super::csv::{CsvError, InviteCsv};
use super::model::*;
use crate::DirectoryError;
use crate::audit::{Actor, AuditEntry};
use crate::invitations::{ImportRowOutcome, Invitations, InviteRequest};
use crate::users::UserType;
use chrono::Duration;
use std::io::Read;
use std::sync::Arc;
use uuid::Uuid;

const STAGE_BATCH: usize = 500;
const RUN_BATCH: u64 = 100;
/// A runner renews its lease after every batch (well under a second); a
/// runner that died frees the job this long after its last batch.
const LEASE: i64 = 15;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    File(#[from] CsvError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

#[derive(Clone)]
pub struct Importer {
    repo: Arc<dyn ImportRepo>,
    invitations: Invitations,
}

impl Importer {
    pub fn new(repo: Arc<dyn ImportRepo>, invitations: Invitations) -> Self {
        Self { repo, invitations }
    }

    pub fn repo(&self) -> &dyn ImportRepo {
        self.repo.as_ref()
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.invitations.now()
    }

    /// Stages `file` as a job (or resumes staging the unfinished job of the
    /// same file), leaving it `Validated`, or as it was if already past that.
    pub async fn stage<R: Read>(
        &self,
        file: R,
        file_name: &str,
        file_sha256: &str,
        actor: &Actor,
    ) -> Result<ImportJob, ImportError> {
        let mut csv = InviteCsv::open(file)?;
        let now = self.invitations.now();
        let job = match self.repo.find_unfinished_job(file_sha256).await? {
            Some(j) => j,
            None => {
                let job = ImportJob {
                    id: Uuid::now_v7(),
                    file_name: file_name.to_string(),
                    file_sha256: file_sha256.to_string(),
                    status: JobStatus::Staging,
                    created_by: actor.clone(),
                    created_at: now,
                    updated_at: now,
                    finished_at: None,
                    lease_until: None,
                };
                let audit = AuditEntry::new(
                    now,
                    actor,
                    "Bulk invite",
                    crate::invitations::CATEGORY_INVITATIONS,
                    "ImportJob",
                    job.id,
                    file_name,
                );
                self.repo.create_job(&job, &audit).await?;
                job
            }
        };
        if job.status != JobStatus::Staging {
            return Ok(job);
        }
        let after = self.repo.last_staged_row(job.id).await?;
        let mut batch = Vec::with_capacity(STAGE_BATCH);
        for row in csv.by_ref() {
            let row = row?;
            if row.row_number <= after {
                continue;
            }
            batch.push(ImportRow {
                job_id: job.id,
                row_number: row.row_number,
                email: row.email,
                redirect_url: row.redirect_url,
                send_email: row.send_email,
                message: row.message,
                display_name: row.display_name,
                error: (!row.errors.is_empty()).then(|| row.errors.join("; ")),
                outcome: None,
            });
            if batch.len() == STAGE_BATCH {
                self.repo.stage_rows(&batch).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.repo.stage_rows(&batch).await?;
        }
        self.repo
            .set_job_status(job.id, JobStatus::Validated, self.invitations.now())
            .await?;
        Ok(self.find(job.id).await?)
    }

    pub async fn find(&self, id: Uuid) -> Result<ImportJob, DirectoryError> {
        self.repo
            .find_job(id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    /// Marks a validated job to run (the admin pressed "Start").
    pub async fn start(&self, id: Uuid) -> Result<ImportJob, DirectoryError> {
        let job = self.find(id).await?;
        match job.status {
            JobStatus::Validated => {
                self.repo
                    .set_job_status(id, JobStatus::Running, self.invitations.now())
                    .await?;
                self.find(id).await
            }
            JobStatus::Running | JobStatus::Completed => Ok(job),
            JobStatus::Staging => Err(DirectoryError::Conflict(
                "The file is still being read; try again in a moment.".into(),
            )),
        }
    }

    /// Runs a `Running` job to completion, unless another runner holds it
    /// (then returns at once). `progress` is called after every batch.
    pub async fn run(
        &self,
        id: Uuid,
        mut progress: impl FnMut(ImportCounts),
    ) -> Result<ImportJob, DirectoryError> {
        let job = self.find(id).await?;
        if job.status != JobStatus::Running {
            return Ok(job);
        }
        let now = self.invitations.now();
        let mut lease = now + Duration::seconds(LEASE);
        if !self.repo.lease_job(id, None, lease, now).await? {
            return Ok(job);
        }
        // Counted once; then each row's outcome moves it from pending to its
        // column (no COUNT over the whole job after every batch).
        let mut counts = self.repo.count_rows(id).await?;
        let mut after = 0;
        loop {
            let rows = self.repo.pending_rows(id, after, RUN_BATCH).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let kind = self.invite_row(&job.created_by, row).await?;
                counts.pending = counts.pending.saturating_sub(1);
                match kind {
                    "invited" => counts.invited += 1,
                    "existing" => counts.existing += 1,
                    _ => counts.failed += 1,
                }
                after = row.row_number;
            }
            progress(counts);
            let now = self.invitations.now();
            let renewed = now + Duration::seconds(LEASE);
            if !self.repo.lease_job(id, Some(lease), renewed, now).await? {
                // Another runner took over (our lease ran out): let it finish.
                return self.find(id).await;
            }
            lease = renewed;
        }
        self.repo
            .set_job_status(id, JobStatus::Completed, self.invitations.now())
            .await?;
        self.find(id).await
    }

    /// Invites one row; the kind of its outcome ([`RowOutcome::kind`]).
    async fn invite_row(
        &self,
        actor: &Actor,
        row: &ImportRow,
    ) -> Result<&'static str, DirectoryError> {
        let req = InviteRequest {
            email: row.email.clone(),
            redirect_url: row.redirect_url.clone(),
            display_name: row.display_name.clone(),
            send_message: row.send_email,
            message: row.message.clone(),
            message_language: None,
            cc_recipients: Vec::new(),
            user_type: UserType::Guest,
            reset_redemption: false,
            granted_group: None,
        };
        let record = |outcome| ImportRowOutcome {
            job_id: row.job_id,
            row_number: row.row_number,
            outcome,
        };
        let outcome = match self
            .invitations
            .invite(&req, actor, Some((row.job_id, row.row_number)))
            .await
        {
            // The outcome was written with the invitation.
            Ok(o) if o.created => return Ok("invited"),
            Ok(o) => RowOutcome::AlreadyInvited {
                user_id: o.user.id,
                invitation_id: Some(o.invitation.id),
            },
            Err(DirectoryError::Invalid(m))
            | Err(DirectoryError::Conflict(m))
            | Err(DirectoryError::Forbidden(m)) => RowOutcome::Failed { error: m },
            Err(DirectoryError::NotFound) => RowOutcome::Failed {
                error: "not found".into(),
            },
            Err(DirectoryError::Stale) => RowOutcome::Failed {
                error: "the guest changed meanwhile; run the import again".into(),
            },
            Err(e @ (DirectoryError::Internal(_) | DirectoryError::Busy)) => return Err(e),
        };
        let kind = outcome.kind();
        self.repo.record_row_outcome(&record(outcome)).await?;
        Ok(kind)
    }
}

/// The per-row result file: one line per row of the upload.
pub fn result_header() -> [&'static str; 6] {
    ["row", "email", "status", "invitationId", "userId", "error"]
}

pub fn result_record(r: &ImportRow) -> [String; 6] {
    let (status, inv, user, err) = match (&r.error, &r.outcome) {
        (Some(e), _) => ("invalid", None, None, e.clone()),
        (None, None) => ("pending", None, None, String::new()),
        (
            None,
            Some(RowOutcome::Invited {
                invitation_id,
                user_id,
            }),
        ) => (
            "invited",
            Some(*invitation_id),
            Some(*user_id),
            String::new(),
        ),
        (
            None,
            Some(RowOutcome::AlreadyInvited {
                user_id,
                invitation_id,
            }),
        ) => (
            "alreadyInvited",
            *invitation_id,
            Some(*user_id),
            String::new(),
        ),
        (None, Some(RowOutcome::Failed { error })) => ("failed", None, None, error.clone()),
    };
    [
        r.row_number.to_string(),
        r.email.clone(),
        status.to_string(),
        inv.map(|x| x.to_string()).unwrap_or_default(),
        user.map(|x| x.to_string()).unwrap_or_default(),
        err,
    ]
}

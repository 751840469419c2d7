//! Bulk invitation jobs. A job stages every row of the uploaded file, then a
//! runner invites row by row; each row's outcome is written in the same
//! transaction as its invitation, so a job killed at any point resumes
//! without losing or repeating a row.

use crate::DirectoryError;
use crate::audit::{Actor, AuditEntry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Rows are being copied from the file into the database.
    Staging,
    /// Staged and validated; waiting for an admin to start it (dry run shown).
    Validated,
    Running,
    Completed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Staging => "staging",
            JobStatus::Validated => "validated",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staging" => Some(JobStatus::Staging),
            "validated" => Some(JobStatus::Validated),
            "running" => Some(JobStatus::Running),
            "completed" => Some(JobStatus::Completed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportJob {
    pub id: Uuid,
    pub file_name: String,
    /// SHA-256 of the file: running the same file again resumes its unfinished job.
    pub file_sha256: String,
    pub status: JobStatus,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// A runner holds the job until this instant (one runner per job across nodes).
    pub lease_until: Option<DateTime<Utc>>,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Invited {
        invitation_id: Uuid,
        user_id: Uuid,
    },
    /// The email already belongs to a guest: nobody was invited twice.
    AlreadyInvited {
        user_id: Uuid,
        invitation_id: Option<Uuid>,
    },
    Failed {
        error: String,
    },
}

impl RowOutcome {
    pub fn kind(&self) -> &'static str {
        match self {
            RowOutcome::Invited { .. } => "invited",
            RowOutcome::AlreadyInvited { .. } => "existing",
            RowOutcome::Failed { .. } => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub job_id: Uuid,
    /// 1-based number of the data row in the file (header lines not counted).
    pub row_number: i64,
    pub email: String,
    pub redirect_url: String,
    pub send_email: bool,
    pub message: Option<String>,
    pub display_name: Option<String>,
    /// Why the row is invalid (found while staging); such rows are never invited.
    pub error: Option<String>,
    pub outcome: Option<RowOutcome>,
}

/// Counts over a job's rows, computed from the rows themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub total: u64,
    pub invalid: u64,
    pub pending: u64,
    pub invited: u64,
    pub existing: u64,
    pub failed: u64,
}

#[async_trait]
pub trait ImportRepo: Send + Sync {
    async fn create_job(&self, job: &ImportJob, audit: &AuditEntry) -> Result<(), DirectoryError>;
    async fn find_job(&self, id: Uuid) -> Result<Option<ImportJob>, DirectoryError>;
    /// The newest job for this file that is not completed.
    async fn find_unfinished_job(
        &self,
        file_sha256: &str,
    ) -> Result<Option<ImportJob>, DirectoryError>;
    /// Newest first.
    async fn list_jobs(&self, limit: u64) -> Result<Vec<ImportJob>, DirectoryError>;
    /// Jobs in `Running` whose lease is free at `now` (to resume after a restart).
    async fn list_runnable_jobs(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ImportJob>, DirectoryError>;
    /// Inserts rows; rows already staged (same job and row number) are left alone.
    async fn stage_rows(&self, rows: &[ImportRow]) -> Result<(), DirectoryError>;
    /// The highest staged row number (0 when none): staging resumes after it.
    async fn last_staged_row(&self, job_id: Uuid) -> Result<i64, DirectoryError>;
    async fn set_job_status(
        &self,
        id: Uuid,
        status: JobStatus,
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError>;
    /// Takes the lease if it is free at `now` or equals `held` (renewal).
    /// False when another runner holds it.
    async fn lease_job(
        &self,
        id: Uuid,
        held: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DirectoryError>;
    /// Valid rows with no outcome yet, by row number, after `after_row`.
    async fn pending_rows(
        &self,
        job_id: Uuid,
        after_row: i64,
        limit: u64,
    ) -> Result<Vec<ImportRow>, DirectoryError>;
    /// Records an outcome for a row that wrote no invitation (existing guest,
    /// failure), only if the row has none yet.
    async fn record_row_outcome(
        &self,
        o: &crate::invitations::ImportRowOutcome,
    ) -> Result<(), DirectoryError>;
    /// Rows by row number after `after_row` (the report and the result file);
    /// `only_problems` keeps invalid and failed rows.
    async fn rows(
        &self,
        job_id: Uuid,
        after_row: i64,
        limit: u64,
        only_problems: bool,
    ) -> Result<Vec<ImportRow>, DirectoryError>;
    async fn count_rows(&self, job_id: Uuid) -> Result<ImportCounts, DirectoryError>;
}

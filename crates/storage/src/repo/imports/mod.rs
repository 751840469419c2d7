//! `ImportRepo`: bulk invitation jobs and their staged rows. The trait
//! methods delegate to `jobs` (job rows, status, lease), `staging` (row
//! inserts, pages and counts) and `rows` (row conversions and outcomes).

mod jobs;
mod rows;
mod staging;

pub(crate) use rows::set_row_outcome;

use crate::Storage;
use crate::entity::{import_jobs, import_rows};
use crate::repo::audit::insert_audits;
use crate::repo::{db_err, page_limit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_directory::import::{ImportCounts, ImportJob, ImportRepo, ImportRow, JobStatus};
use portico_directory::invitations::ImportRowOutcome;
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[async_trait]
impl ImportRepo for Storage {
    async fn create_job(&self, job: &ImportJob, audit: &AuditEntry) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        import_jobs::Entity::insert(jobs::to_row(job)?)
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_job(&self, id: Uuid) -> Result<Option<ImportJob>, DirectoryError> {
        let row = import_jobs::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(jobs::from_row).transpose()
    }

    async fn find_unfinished_job(
        &self,
        file_sha256: &str,
    ) -> Result<Option<ImportJob>, DirectoryError> {
        let row = import_jobs::Entity::find()
            .filter(import_jobs::Column::FileSha256.eq(file_sha256))
            .filter(import_jobs::Column::Status.ne(JobStatus::Completed.as_str()))
            .order_by_desc(import_jobs::Column::CreatedAt)
            .order_by_desc(import_jobs::Column::Id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(jobs::from_row).transpose()
    }

    async fn list_jobs(&self, limit: u64) -> Result<Vec<ImportJob>, DirectoryError> {
        import_jobs::Entity::find()
            .order_by_desc(import_jobs::Column::CreatedAt)
            .order_by_desc(import_jobs::Column::Id)
            .limit(page_limit(limit))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(jobs::from_row)
            .collect()
    }

    async fn list_runnable_jobs(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<ImportJob>, DirectoryError> {
        import_jobs::Entity::find()
            .filter(import_jobs::Column::Status.eq(JobStatus::Running.as_str()))
            .filter(jobs::lease_free(now))
            .order_by_asc(import_jobs::Column::CreatedAt)
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(jobs::from_row)
            .collect()
    }

    async fn stage_rows(&self, rows: &[ImportRow]) -> Result<(), DirectoryError> {
        self.insert_rows(rows).await
    }

    async fn last_staged_row(&self, job_id: Uuid) -> Result<i64, DirectoryError> {
        self.max_row(job_id).await
    }

    async fn set_job_status(
        &self,
        id: Uuid,
        status: JobStatus,
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        self.job_status(id, status, now).await
    }

    async fn lease_job(
        &self,
        id: Uuid,
        held: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DirectoryError> {
        self.take_lease(id, held, until, now).await
    }

    async fn pending_rows(
        &self,
        job_id: Uuid,
        after_row: i64,
        limit: u64,
    ) -> Result<Vec<ImportRow>, DirectoryError> {
        let pending = Condition::all()
            .add(import_rows::Column::Error.is_null())
            .add(import_rows::Column::Outcome.is_null());
        self.rows_where(job_id, after_row, limit, pending).await
    }

    /// First outcome wins: a row that already has one is left alone (a
    /// resumed runner repeating a row is not an error); an unknown row is.
    async fn record_row_outcome(&self, o: &ImportRowOutcome) -> Result<(), DirectoryError> {
        if rows::set_row_outcome(self.db(), o, self.now()).await? {
            return Ok(());
        }
        let exists = import_rows::Entity::find_by_id((o.job_id, o.row_number))
            .one(self.db())
            .await
            .map_err(db_err)?;
        exists.map(|_| ()).ok_or(DirectoryError::NotFound)
    }

    async fn rows(
        &self,
        job_id: Uuid,
        after_row: i64,
        limit: u64,
        only_problems: bool,
    ) -> Result<Vec<ImportRow>, DirectoryError> {
        let cond = if only_problems {
            Condition::any()
                .add(import_rows::Column::Error.is_not_null())
                .add(import_rows::Column::Outcome.eq(rows::FAILED))
        } else {
            Condition::all()
        };
        self.rows_where(job_id, after_row, limit, cond).await
    }

    async fn count_rows(&self, job_id: Uuid) -> Result<ImportCounts, DirectoryError> {
        self.counts(job_id).await
    }
}

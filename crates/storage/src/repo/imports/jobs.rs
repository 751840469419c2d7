//! Import jobs as rows, and the job writes with a concurrency rule.

use crate::Storage;
use crate::entity::import_jobs::{self, Column};
use crate::repo::{bad_value, db_err, from_json, micros, to_json};
use chrono::{DateTime, Utc};
use portico_directory::DirectoryError;
use portico_directory::import::{ImportJob, JobStatus};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use uuid::Uuid;

pub(super) fn to_row(j: &ImportJob) -> Result<import_jobs::ActiveModel, DirectoryError> {
    Ok(import_jobs::ActiveModel {
        id: Set(j.id),
        file_name: Set(j.file_name.clone()),
        file_sha256: Set(j.file_sha256.clone()),
        status: Set(j.status.as_str().to_owned()),
        created_by: Set(to_json(&j.created_by)?),
        created_at: Set(j.created_at),
        updated_at: Set(j.updated_at),
        finished_at: Set(j.finished_at),
        lease_until: Set(j.lease_until.map(micros)),
    })
}

pub(super) fn from_row(m: import_jobs::Model) -> Result<ImportJob, DirectoryError> {
    Ok(ImportJob {
        id: m.id,
        file_name: m.file_name,
        file_sha256: m.file_sha256,
        status: JobStatus::parse(&m.status).ok_or_else(|| bad_value("job status", &m.status))?,
        created_by: from_json(m.created_by)?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        finished_at: m.finished_at,
        lease_until: m.lease_until,
    })
}

/// A job's lease is free at `now` when unset or run out.
pub(super) fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(Column::LeaseUntil.is_null())
        .add(Column::LeaseUntil.lte(now))
}

impl Storage {
    /// Moves the job to `status`; completing it also stamps `finished_at`.
    pub(super) async fn job_status(
        &self,
        id: Uuid,
        status: JobStatus,
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        let mut update = import_jobs::Entity::update_many()
            .col_expr(Column::Status, Expr::value(status.as_str()))
            .col_expr(Column::UpdatedAt, Expr::value(now));
        if status == JobStatus::Completed {
            update = update.col_expr(Column::FinishedAt, Expr::value(now));
        }
        let res = update
            .filter(Column::Id.eq(id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Err(DirectoryError::NotFound);
        }
        Ok(())
    }

    /// One conditional UPDATE: the lease is taken only when free at `now` or
    /// still exactly the `held` one (renewal), so two runners racing for a job
    /// cannot both win. Lease instants are stored to the microsecond on both
    /// backends so that `held` compares equal to what was written.
    pub(super) async fn take_lease(
        &self,
        id: Uuid,
        held: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, DirectoryError> {
        let mut free = lease_free(now);
        if let Some(h) = held {
            free = free.add(Column::LeaseUntil.eq(micros(h)));
        }
        let res = import_jobs::Entity::update_many()
            .col_expr(Column::LeaseUntil, Expr::value(micros(until)))
            .filter(Column::Id.eq(id))
            .filter(free)
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }
}

//! Staged rows: bulk insert, paging by row number, and the counts.

use super::rows::{EXISTING, FAILED, INVITED, from_row, to_row};
use crate::Storage;
use crate::entity::import_rows::{self, Column};
use crate::repo::{bad_value, db_err, page_limit};
use portico_directory::DirectoryError;
use portico_directory::import::{ImportCounts, ImportRow};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Rows per INSERT: 13 columns each stays far below SQLite's limit of 32766
/// bound parameters, and a staging batch (~500 rows) is one statement.
const ROWS_PER_INSERT: usize = 1000;

/// Counts are non-negative; the database hands them back as `BIGINT`.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Storage {
    /// `ON CONFLICT DO NOTHING` on (job, row number): re-staging after a crash
    /// keeps the rows (and any outcome) that were already there.
    pub(super) async fn insert_rows(&self, rows: &[ImportRow]) -> Result<(), DirectoryError> {
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            import_rows::Entity::insert_many(chunk.iter().map(to_row))
                .on_conflict_do_nothing()
                .exec_without_returning(self.db())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    pub(super) async fn max_row(&self, job_id: Uuid) -> Result<i64, DirectoryError> {
        let max: Option<Option<i64>> = import_rows::Entity::find()
            .select_only()
            .expr(Func::max(Expr::col(Column::RowNumber)))
            .filter(Column::JobId.eq(job_id))
            .into_tuple()
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(max.flatten().unwrap_or(0))
    }

    /// Rows of the job after `after_row`, by row number, that match `cond`.
    pub(super) async fn rows_where(
        &self,
        job_id: Uuid,
        after_row: i64,
        limit: u64,
        cond: Condition,
    ) -> Result<Vec<ImportRow>, DirectoryError> {
        import_rows::Entity::find()
            .filter(Column::JobId.eq(job_id))
            .filter(Column::RowNumber.gt(after_row))
            .filter(cond)
            .order_by_asc(Column::RowNumber)
            .limit(page_limit(limit))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(from_row)
            .collect()
    }

    /// One `GROUP BY outcome` query: per outcome, the rows and how many of
    /// them are invalid (`COUNT(error)` counts the non-NULL errors).
    pub(super) async fn counts(&self, job_id: Uuid) -> Result<ImportCounts, DirectoryError> {
        let groups: Vec<(Option<String>, i64, i64)> = import_rows::Entity::find()
            .select_only()
            .column(Column::Outcome)
            .expr(Func::count(Expr::col(Column::RowNumber)))
            .expr(Func::count(Expr::col(Column::Error)))
            .filter(Column::JobId.eq(job_id))
            .group_by(Column::Outcome)
            .into_tuple()
            .all(self.db())
            .await
            .map_err(db_err)?;
        let mut c = ImportCounts::default();
        for (outcome, rows, invalid) in groups {
            let (rows, invalid) = (count(rows), count(invalid));
            c.total += rows;
            c.invalid += invalid;
            match outcome.as_deref() {
                None => c.pending += rows - invalid,
                Some(INVITED) => c.invited += rows,
                Some(EXISTING) => c.existing += rows,
                Some(FAILED) => c.failed += rows,
                Some(other) => return Err(bad_value("import row outcome", other)),
            }
        }
        Ok(c)
    }
}

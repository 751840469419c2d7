//! Import rows as database rows. An outcome is four columns: its kind
//! (`outcome`, NULL while the row is pending), the failure message, and the
//! user and invitation it produced.

use crate::entity::import_rows::{self, Column};
use crate::repo::{bad_value, db_err};
use chrono::{DateTime, Utc};
use portico_directory::DirectoryError;
use portico_directory::import::{ImportRow, RowOutcome};
use portico_directory::invitations::ImportRowOutcome;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// The stored kinds: [`RowOutcome::kind`] of each variant.
pub(super) const INVITED: &str = "invited";
pub(super) const EXISTING: &str = "existing";
pub(super) const FAILED: &str = "failed";

/// (kind, outcome_error, invitation_id, user_id)
type OutcomeColumns = (String, Option<String>, Option<Uuid>, Option<Uuid>);

fn outcome_columns(o: &RowOutcome) -> OutcomeColumns {
    let kind = o.kind().to_owned();
    match o {
        RowOutcome::Invited {
            invitation_id,
            user_id,
        } => (kind, None, Some(*invitation_id), Some(*user_id)),
        RowOutcome::AlreadyInvited {
            user_id,
            invitation_id,
        } => (kind, None, *invitation_id, Some(*user_id)),
        RowOutcome::Failed { error } => (kind, Some(error.clone()), None, None),
    }
}

fn outcome_from(m: &import_rows::Model) -> Result<Option<RowOutcome>, DirectoryError> {
    let Some(kind) = m.outcome.as_deref() else {
        return Ok(None);
    };
    let missing = || bad_value("import row outcome without ids", kind);
    Ok(Some(match kind {
        INVITED => RowOutcome::Invited {
            invitation_id: m.invitation_id.ok_or_else(missing)?,
            user_id: m.user_id.ok_or_else(missing)?,
        },
        EXISTING => RowOutcome::AlreadyInvited {
            user_id: m.user_id.ok_or_else(missing)?,
            invitation_id: m.invitation_id,
        },
        FAILED => RowOutcome::Failed {
            error: m.outcome_error.clone().unwrap_or_default(),
        },
        other => return Err(bad_value("import row outcome", other)),
    }))
}

pub(super) fn to_row(r: &ImportRow) -> import_rows::ActiveModel {
    let (outcome, outcome_error, invitation_id, user_id) = match &r.outcome {
        Some(o) => {
            let (k, e, i, u) = outcome_columns(o);
            (Some(k), e, i, u)
        }
        None => (None, None, None, None),
    };
    import_rows::ActiveModel {
        job_id: Set(r.job_id),
        row_number: Set(r.row_number),
        email: Set(r.email.clone()),
        redirect_url: Set(r.redirect_url.clone()),
        send_email: Set(r.send_email),
        message: Set(r.message.clone()),
        display_name: Set(r.display_name.clone()),
        error: Set(r.error.clone()),
        outcome: Set(outcome),
        outcome_error: Set(outcome_error),
        invitation_id: Set(invitation_id),
        user_id: Set(user_id),
        processed_at: Set(None),
    }
}

pub(super) fn from_row(m: import_rows::Model) -> Result<ImportRow, DirectoryError> {
    let outcome = outcome_from(&m)?;
    Ok(ImportRow {
        job_id: m.job_id,
        row_number: m.row_number,
        email: m.email,
        redirect_url: m.redirect_url,
        send_email: m.send_email,
        message: m.message,
        display_name: m.display_name,
        error: m.error,
        outcome,
    })
}

/// Writes the outcome if the row has none yet (one conditional UPDATE, so two
/// runners can never both record one). Returns whether it was written.
pub(crate) async fn set_row_outcome<C: ConnectionTrait>(
    db: &C,
    o: &ImportRowOutcome,
    now: DateTime<Utc>,
) -> Result<bool, DirectoryError> {
    let (kind, error, invitation_id, user_id) = outcome_columns(&o.outcome);
    let res = import_rows::Entity::update_many()
        .col_expr(Column::Outcome, Expr::value(kind))
        .col_expr(Column::OutcomeError, Expr::value(error))
        .col_expr(Column::InvitationId, Expr::value(invitation_id))
        .col_expr(Column::UserId, Expr::value(user_id))
        .col_expr(Column::ProcessedAt, Expr::value(now))
        .filter(Column::JobId.eq(o.job_id))
        .filter(Column::RowNumber.eq(o.row_number))
        .filter(Column::Outcome.is_null())
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(res.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_are_the_domain_kinds() {
        let ids = (Uuid::nil(), Uuid::nil());
        let invited = RowOutcome::Invited {
            invitation_id: ids.0,
            user_id: ids.1,
        };
        let existing = RowOutcome::AlreadyInvited {
            user_id: ids.1,
            invitation_id: None,
        };
        let failed = RowOutcome::Failed {
            error: String::new(),
        };
        assert_eq!(
            (invited.kind(), existing.kind(), failed.kind()),
            (INVITED, EXISTING, FAILED)
        );
    }
}

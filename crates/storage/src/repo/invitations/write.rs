//! The invitation writes. Each one is a single transaction holding the change,
//! the mail it queues and its audit entries, so a crash or a lost race leaves
//! either all of it or none of it.

use super::rows::{self, revoke_if_pending};
use crate::Storage;
use crate::entity::{blocked_recipients, invitations, users};
use crate::repo::audit::insert_audits;
use crate::repo::db_err;
use crate::repo::groups::join_group;
use crate::repo::imports::set_row_outcome;
use crate::repo::outbox::enqueue_mail;
use crate::repo::user_rows::{add_identities, insert_user, save_user};
use chrono::{DateTime, Utc};
use portico_core::OutgoingMail;
use portico_directory::invitations::{Invitation, InvitationState, InvitationWrite, UserWrite};
use portico_directory::{AuditEntry, DirectoryError, User};
use sea_orm::ActiveValue::{NotSet, Set, Unchanged};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const ROW_DONE: &str = "This import row already has an outcome.";

impl Storage {
    /// The user change, the superseded invitation, the new invitation, its
    /// mail, the import row's outcome and the audit entries, all or nothing.
    pub(super) async fn write_invitation(&self, w: &InvitationWrite) -> Result<(), DirectoryError> {
        let at = w.invitation.created_at;
        let tx = self.write_tx().await.map_err(db_err)?;
        match &w.user {
            UserWrite::Create(u) => insert_user(&tx, u).await?,
            UserWrite::Update { user, cut_off } => save_user(&tx, user, *cut_off).await?,
            UserWrite::Unchanged => {}
        }
        // Of two concurrent resets, only the one that revokes the pending
        // invitation may add the new one; the other retries from a fresh read.
        if let Some(old) = w.supersede
            && !revoke_if_pending(&tx, old, at).await?
        {
            return Err(DirectoryError::Conflict(
                "The invitation changed meanwhile; try again.".into(),
            ));
        }
        rows::insert(&tx, &w.invitation).await?;
        if let Some(m) = &w.mail {
            enqueue_mail(&tx, m).await.map_err(db_err)?;
        }
        // A row that already has an outcome was handled by another runner:
        // returning here drops the transaction, which rolls everything back.
        if let Some(o) = &w.import_row
            && !set_row_outcome(&tx, o, at).await?
        {
            return Err(DirectoryError::Conflict(ROW_DONE.into()));
        }
        insert_audits(&tx, &w.audit).await?;
        if let Some((group, entry)) = &w.join_group
            && join_group(&tx, *group, w.invitation.user_id, at).await?
        {
            insert_audits(&tx, std::slice::from_ref(entry)).await?;
        }
        tx.commit().await.map_err(db_err)?;
        // A user updated (and maybe cut off) here: access checks read again.
        self.caches.access_checks.clear();
        Ok(())
    }

    /// Saves `inv` only if the stored row is still in `expected` with
    /// `expected_generation`: the affected row count decides, so of two
    /// concurrent resends or revokes exactly one wins.
    pub(super) async fn change_invitation(
        &self,
        inv: &Invitation,
        expected: InvitationState,
        expected_generation: i32,
        mail: Option<&OutgoingMail>,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError> {
        let mut row = rows::to_row(inv)?;
        row.id = Unchanged(inv.id);
        row.user_id = NotSet;
        row.created_at = NotSet;
        row.invited_by = NotSet;
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = invitations::Entity::update_many()
            .set(row)
            .filter(invitations::Column::Id.eq(inv.id))
            .filter(invitations::Column::State.eq(expected.as_str()))
            .filter(invitations::Column::LinkGeneration.eq(expected_generation))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        if let Some(m) = mail {
            enqueue_mail(&tx, m).await.map_err(db_err)?;
        }
        insert_audits(&tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    /// Accepts `inv` if it is still pending with its `link_generation` (a
    /// resend or revoke in between makes the old link lose), then marks the
    /// guest Accepted and adds its identity. Only those columns change: an
    /// admin's edit made meanwhile (disabling, say) is kept, and a guest
    /// disabled meanwhile cannot accept. A taken identity is a `Conflict`
    /// and undoes the acceptance.
    pub(super) async fn accept(
        &self,
        inv: &Invitation,
        guest: &User,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError> {
        let accepted_at = guest.updated_at;
        let tx = self.write_tx().await.map_err(db_err)?;
        let res = invitations::Entity::update_many()
            .col_expr(
                invitations::Column::State,
                Expr::value(InvitationState::Accepted.as_str()),
            )
            .col_expr(invitations::Column::AcceptedAt, Expr::value(accepted_at))
            .col_expr(invitations::Column::UpdatedAt, Expr::value(accepted_at))
            .filter(invitations::Column::Id.eq(inv.id))
            .filter(invitations::Column::State.eq(InvitationState::Pending.as_str()))
            .filter(invitations::Column::LinkGeneration.eq(inv.link_generation))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        let state = guest.external_user_state.map(|s| s.as_str());
        let res = users::Entity::update_many()
            .col_expr(users::Column::ExternalUserState, Expr::value(state))
            .col_expr(
                users::Column::ExternalUserStateChangedAt,
                Expr::value(guest.external_user_state_changed_at),
            )
            .col_expr(users::Column::UpdatedAt, Expr::value(guest.updated_at))
            // Acceptance needs the invited mailbox proven (a code, or the
            // home IdP's verified assertion of it).
            .col_expr(users::Column::EmailVerified, Expr::value(true))
            .filter(users::Column::Id.eq(guest.id))
            .filter(users::Column::AccountEnabled.eq(true))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        add_identities(&tx, guest).await?;
        insert_audits(&tx, audit).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    /// Blocks the mailbox (a second block is a no-op) and revokes `revoke` if
    /// it is still pending, with the audit entries.
    pub(super) async fn block(
        &self,
        email: &str,
        revoke: Option<&Invitation>,
        audit: &[AuditEntry],
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let row = blocked_recipients::ActiveModel {
            email: Set(email.to_owned()),
            created_at: Set(now),
        };
        blocked_recipients::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        if let Some(inv) = revoke {
            revoke_if_pending(&tx, inv.id, now).await?;
        }
        insert_audits(&tx, audit).await?;
        tx.commit().await.map_err(db_err)
    }
}

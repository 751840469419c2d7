//! `InvitationRepo`: invitations, email one-time codes and the recipient
//! block list. The trait methods delegate to the files by concern: `write`
//! (transactions that change invitations), `codes`, and `rows` (conversions).

mod codes;
mod rows;
mod write;

use crate::Storage;
use crate::entity::{blocked_recipients, clients, invitations, one_time_codes};
use crate::repo::{db_err, page_limit};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::OutgoingMail;
use portico_directory::invitations::{
    CodeCheck, Invitation, InvitationQuery, InvitationRepo, InvitationState, InvitationStatus,
    InvitationWrite, OneTimeCode,
};
use portico_directory::{AuditEntry, DirectoryError, User};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// The stored condition for a shown status: "expired" is a pending invitation
/// past its `expires_at` at `now`.
fn status_filter(s: InvitationStatus, now: DateTime<Utc>) -> Condition {
    use invitations::Column::{ExpiresAt, State};
    let pending = State.eq(InvitationState::Pending.as_str());
    match s {
        InvitationStatus::PendingAcceptance => Condition::all().add(pending).add(ExpiresAt.gt(now)),
        InvitationStatus::Expired => Condition::all().add(pending).add(ExpiresAt.lte(now)),
        InvitationStatus::Accepted => {
            Condition::all().add(State.eq(InvitationState::Accepted.as_str()))
        }
        InvitationStatus::Revoked => {
            Condition::all().add(State.eq(InvitationState::Revoked.as_str()))
        }
    }
}

#[async_trait]
impl InvitationRepo for Storage {
    async fn save_invitation(&self, w: &InvitationWrite) -> Result<(), DirectoryError> {
        self.write_invitation(w).await
    }

    async fn find_invitation(&self, id: Uuid) -> Result<Option<Invitation>, DirectoryError> {
        let row = invitations::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        row.map(rows::from_row).transpose()
    }

    /// Newest first by id (UUIDv7); `limit` 0 means all. Without `q.now`, a
    /// status filter tells pending from expired by the storage clock.
    async fn list_invitations(
        &self,
        q: &InvitationQuery,
    ) -> Result<Vec<Invitation>, DirectoryError> {
        let mut find = invitations::Entity::find();
        if let Some(s) = q.status {
            find = find.filter(status_filter(s, q.now.unwrap_or_else(|| self.now())));
        }
        if let Some(e) = &q.email {
            find = find.filter(invitations::Column::Email.eq(e.as_str()));
        }
        if let Some(u) = q.user_id {
            find = find.filter(invitations::Column::UserId.eq(u));
        }
        if let Some(b) = q.before {
            find = find.filter(invitations::Column::Id.lt(b));
        }
        find.order_by_desc(invitations::Column::Id)
            .limit(page_limit(q.limit))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(rows::from_row)
            .collect()
    }

    async fn update_invitation(
        &self,
        inv: &Invitation,
        expected: InvitationState,
        expected_generation: i32,
        mail: Option<&OutgoingMail>,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError> {
        self.change_invitation(inv, expected, expected_generation, mail, audit)
            .await
    }

    async fn accept_invitation(
        &self,
        inv: &Invitation,
        guest: &User,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError> {
        self.accept(inv, guest, audit).await
    }

    async fn create_code(
        &self,
        c: &OneTimeCode,
        mail: &OutgoingMail,
    ) -> Result<(), DirectoryError> {
        self.insert_code(c, mail).await
    }

    async fn create_code_within_limit(
        &self,
        c: &OneTimeCode,
        mail: &OutgoingMail,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<bool, DirectoryError> {
        self.insert_code_within_limit(c, mail, since, limit).await
    }

    async fn find_code(&self, id: Uuid) -> Result<Option<OneTimeCode>, DirectoryError> {
        let row = one_time_codes::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map(codes::from_row))
    }

    async fn count_codes_since(
        &self,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, DirectoryError> {
        self.count_codes(email, since).await
    }

    async fn check_code(
        &self,
        id: Uuid,
        code_hash: &str,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, DirectoryError> {
        self.check(id, code_hash, max_attempts, now).await
    }

    async fn block_recipient(
        &self,
        email: &str,
        revoke: Option<&Invitation>,
        audit: &[AuditEntry],
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        self.block(email, revoke, audit, now).await
    }

    async fn is_blocked(&self, email: &str) -> Result<bool, DirectoryError> {
        let row = blocked_recipients::Entity::find_by_id(email)
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.is_some())
    }

    async fn application_origins(&self) -> Result<Vec<String>, DirectoryError> {
        let rows = clients::Entity::find()
            .all(self.db())
            .await
            .map_err(db_err)?;
        let mut out: Vec<String> = Vec::new();
        for r in rows {
            for list in [r.redirect_uris, r.post_logout_redirect_uris] {
                let uris: Vec<String> = serde_json::from_value(list).unwrap_or_default();
                for u in uris {
                    if let Some(o) = portico_directory::invitations::origin_of(&u)
                        && !out.contains(&o)
                    {
                        out.push(o);
                    }
                }
            }
        }
        Ok(out)
    }
}

//! `UserRepo` (directory) and `AccountStore` (provider), both over `users`.
//! Every write carries its audit entry into the same transaction.

use super::audit::insert_audits;
use super::user_rows::{cut_off, insert_user, save_user, with_identities};
use super::{db_err, internal, page_limit};
use crate::Storage;
use crate::entity::{
    invitations, mfa_totp_methods, one_time_codes, passkey_credentials, user_identities, users,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_directory::{AuditEntry, DirectoryError, User, UserChange, UserQuery, UserRepo};
use portico_oidc::model::Account;
use portico_oidc::store::{AccountStore, StoreResult};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QueryResult, QuerySelect,
};
use uuid::Uuid;

/// The purpose of the one-time codes that redeem an invitation (their
/// `subject` is the invitation id).
const REDEEM: &str = "redeem";

/// Deletes the invitations of `user_id` and the redemption codes sent for them.
async fn delete_invitations<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<(), DirectoryError> {
    let ids: Vec<Uuid> = invitations::Entity::find()
        .select_only()
        .column(invitations::Column::Id)
        .filter(invitations::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    if ids.is_empty() {
        return Ok(());
    }
    one_time_codes::Entity::delete_many()
        .filter(one_time_codes::Column::Purpose.eq(REDEEM))
        .filter(one_time_codes::Column::Subject.is_in(ids.iter().map(Uuid::to_string)))
        .exec(db)
        .await
        .map_err(db_err)?;
    invitations::Entity::delete_many()
        .filter(invitations::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl UserRepo for Storage {
    async fn create_user(&self, u: &User, audit: &AuditEntry) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        insert_user(&tx, u).await?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError> {
        let row = users::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?;
        let found = with_identities(self.db(), row.into_iter().collect()).await?;
        Ok(found.into_iter().next())
    }

    async fn find_user_by_mail(&self, mail: &str) -> Result<Option<User>, DirectoryError> {
        let row = users::Entity::find()
            .filter(users::Column::Mail.eq(mail))
            .one(self.db())
            .await
            .map_err(db_err)?;
        let found = with_identities(self.db(), row.into_iter().collect()).await?;
        Ok(found.into_iter().next())
    }

    async fn find_user_by_identity(
        &self,
        issuer: &str,
        issuer_assigned_id: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let owner: Option<Uuid> = user_identities::Entity::find()
            .select_only()
            .column(user_identities::Column::UserId)
            .filter(user_identities::Column::Issuer.eq(issuer))
            .filter(user_identities::Column::IssuerAssignedId.eq(issuer_assigned_id))
            .into_tuple()
            .one(self.db())
            .await
            .map_err(db_err)?;
        match owner {
            Some(id) => self.find_user(id).await,
            None => Ok(None),
        }
    }

    /// Keyset paging by id (UUIDv7, so roughly by creation); `limit` 0 means all.
    async fn list_users(&self, q: &UserQuery) -> Result<Vec<User>, DirectoryError> {
        let mut find = users::Entity::find();
        if let Some(t) = q.user_type {
            find = find.filter(users::Column::UserType.eq(t.as_str()));
        }
        if let Some(m) = &q.mail {
            find = find.filter(users::Column::Mail.eq(m.as_str()));
        }
        if let Some(after) = q.after {
            find = find.filter(users::Column::Id.gt(after));
        }
        let rows = find
            .order_by_asc(users::Column::Id)
            .limit(page_limit(q.limit))
            .all(self.db())
            .await
            .map_err(db_err)?;
        with_identities(self.db(), rows).await
    }

    async fn update_user(&self, u: &User, audit: &AuditEntry) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        save_user(&tx, u, false).await?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        self.caches.access_checks.clear();
        Ok(())
    }

    /// Grants are revoked (kept, for the token endpoints' reuse detection) at
    /// the audit entry's instant; everything else of the user is deleted.
    /// Nothing, not even the audit entry, is written when the user is unknown.
    async fn delete_user(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        self.check_delete(&tx, id, audit.at).await?;
        cut_off(&tx, id, audit.at).await.map_err(db_err)?;
        delete_invitations(&tx, id).await?;
        super::groups::forget_principal(&tx, id)
            .await
            .map_err(db_err)?;
        user_identities::Entity::delete_many()
            .filter(user_identities::Column::UserId.eq(id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let res = users::Entity::delete_by_id(id)
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if res.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        self.caches.access_checks.clear();
        Ok(true)
    }

    async fn count_admins(&self) -> Result<u64, DirectoryError> {
        users::Entity::find()
            .filter(users::Column::IsAdmin.eq(true))
            .count(self.db())
            .await
            .map_err(db_err)
    }

    async fn count_active_admins(
        &self,
        except: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, DirectoryError> {
        users::Entity::find()
            .filter(users::Column::IsAdmin.eq(true))
            .filter(users::Column::AccountEnabled.eq(true))
            .filter(users::Column::Id.ne(except))
            .filter(
                Condition::any()
                    .add(users::Column::AccessExpiresAt.is_null())
                    .add(users::Column::AccessExpiresAt.gt(now)),
            )
            .count(self.db())
            .await
            .map_err(db_err)
    }

    /// One UPDATE of the named columns, after the checks that must hold at
    /// the moment of writing (`user_guards.rs`); the row is read back inside
    /// the transaction to decide whether the user is cut off.
    async fn change_user(
        &self,
        id: Uuid,
        c: &UserChange,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        self.check_change(&tx, id, c).await?;
        let mut q = users::Entity::update_many()
            .col_expr(users::Column::UpdatedAt, Expr::value(c.updated_at))
            .filter(users::Column::Id.eq(id));
        if let Some(v) = &c.display_name {
            q = q.col_expr(users::Column::DisplayName, Expr::value(v.clone()));
        }
        if let Some(v) = c.account_enabled {
            q = q.col_expr(users::Column::AccountEnabled, Expr::value(v));
        }
        if let Some(v) = &c.password_hash {
            q = q.col_expr(users::Column::PasswordHash, Expr::value(v.clone()));
        }
        if let Some(v) = c.access_expires_at {
            q = q.col_expr(users::Column::AccessExpiresAt, Expr::value(v));
        }
        if let Some(v) = c.is_admin {
            q = q.col_expr(users::Column::IsAdmin, Expr::value(v));
        }
        if let Some(v) = c.guest_inviter {
            q = q.col_expr(users::Column::GuestInviter, Expr::value(v));
        }
        if let Some(v) = c.email_verified {
            q = q.col_expr(users::Column::EmailVerified, Expr::value(v));
        }
        let res = q.exec(&tx).await.map_err(db_err)?;
        if res.rows_affected == 0 {
            return Err(DirectoryError::NotFound);
        }
        let row = users::Entity::find_by_id(id)
            .one(&tx)
            .await
            .map_err(db_err)?
            .ok_or(DirectoryError::NotFound)?;
        let can_sign_in =
            row.account_enabled && row.access_expires_at.is_none_or(|t| c.updated_at < t);
        if c.cut_off || !can_sign_in {
            cut_off(&tx, id, c.updated_at).await.map_err(db_err)?;
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)?;
        self.caches.access_checks.clear();
        Ok(())
    }
}

/// An account as stored: `enabled` is the column alone, and its access ends
/// at `access_expires_at` (cached by `find_grant_with_account` and judged when
/// used).
#[derive(Clone)]
pub(crate) struct StoredAccount {
    account: Account,
    access_expires_at: Option<DateTime<Utc>>,
}

impl StoredAccount {
    /// The account as of `now`: disabled once its access expired.
    pub(crate) fn at(&self, now: DateTime<Utc>) -> Account {
        let mut a = self.account.clone();
        a.enabled = a.enabled && self.access_expires_at.is_none_or(|t| now < t);
        a
    }
}

/// A user row and whether it has a confirmed authenticator app (a pending
/// enrolment is not a method yet) and a passkey, read in one query: an
/// account is read at every refresh, userinfo miss and sign-in, and each
/// query is a round trip (on SQLite, to the connection's own thread).
struct AccountRow {
    user: users::Model,
    has_totp: bool,
    has_passkey: bool,
}

impl FromQueryResult for AccountRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(AccountRow {
            user: users::Model::from_query_result(res, pre)?,
            has_totp: res.try_get(pre, "has_totp")?,
            has_passkey: res.try_get(pre, "has_passkey")?,
        })
    }
}

impl Storage {
    pub(crate) async fn read_account(&self, user_id: Uuid) -> StoreResult<Option<StoredAccount>> {
        let user_id_col = || Expr::col((users::Entity, users::Column::Id));
        let totp = Query::select()
            .expr(Expr::val(1))
            .from(mfa_totp_methods::Entity)
            .and_where(
                Expr::col((mfa_totp_methods::Entity, mfa_totp_methods::Column::UserId))
                    .eq(user_id_col()),
            )
            .and_where(
                Expr::col((
                    mfa_totp_methods::Entity,
                    mfa_totp_methods::Column::ConfirmedAt,
                ))
                .is_not_null(),
            )
            .to_owned();
        let passkey = Query::select()
            .expr(Expr::val(1))
            .from(passkey_credentials::Entity)
            .and_where(
                Expr::col((
                    passkey_credentials::Entity,
                    passkey_credentials::Column::UserId,
                ))
                .eq(user_id_col()),
            )
            .to_owned();
        let row = users::Entity::find_by_id(user_id)
            .expr_as(Expr::exists(totp), "has_totp")
            .expr_as(Expr::exists(passkey), "has_passkey")
            .into_model::<AccountRow>()
            .one(self.db())
            .await
            .map_err(internal)?;
        let Some(AccountRow {
            user: m,
            has_totp,
            has_passkey,
        }) = row
        else {
            return Ok(None);
        };
        Ok(Some(StoredAccount {
            account: Account {
                id: m.id,
                enabled: m.account_enabled,
                display_name: m.display_name,
                email: Some(m.mail),
                email_verified: m.email_verified,
                user_type: m.user_type,
                has_totp,
                has_passkey,
            },
            access_expires_at: m.access_expires_at,
        }))
    }
}

#[async_trait]
impl AccountStore for Storage {
    /// `enabled` is false for a disabled account and for one whose access
    /// expired by the storage clock: its tokens stop working at that instant
    /// even though nothing was written.
    async fn find_account(&self, user_id: Uuid) -> StoreResult<Option<Account>> {
        let stored = self.read_account(user_id).await?;
        Ok(stored.map(|a| a.at(self.now())))
    }
}

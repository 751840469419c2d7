//! Users and the directory service.

use crate::audit::{Actor, AuditEntry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Member" => Some(UserType::Member),
            "Guest" => Some(UserType::Guest),
            _ => None,
        }
    }
}

/// Where a guest stands with its invitation (Graph's `externalUserState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExternalUserState {
    PendingAcceptance,
    Accepted,
}

impl ExternalUserState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalUserState::PendingAcceptance => "PendingAcceptance",
            ExternalUserState::Accepted => "Accepted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PendingAcceptance" => Some(ExternalUserState::PendingAcceptance),
            "Accepted" => Some(ExternalUserState::Accepted),
            _ => None,
        }
    }
}

/// A way the user signs in (Graph's `objectIdentity`). Guests are keyed by
/// (issuer, issuer_assigned_id), never by their mutable email: an email
/// one-time passcode guest has issuer [`Identity::MAIL_ISSUER`] and its
/// mailbox as the id; a federated guest has its home IdP's issuer and subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub sign_in_type: String,
    pub issuer: String,
    pub issuer_assigned_id: String,
}

impl Identity {
    pub const MAIL_ISSUER: &'static str = "mail";

    pub fn email_otp(mail: &str) -> Identity {
        Identity {
            sign_in_type: "emailAddress".into(),
            issuer: Self::MAIL_ISSUER.into(),
            issuer_assigned_id: mail.into(),
        }
    }

    /// A home IdP's account: its issuer and `sub`, which never change.
    pub fn federated(issuer: &str, subject: &str) -> Identity {
        Identity {
            sign_in_type: "federated".into(),
            issuer: issuer.into(),
            issuer_assigned_id: subject.into(),
        }
    }

    pub fn is_federated(&self) -> bool {
        self.sign_in_type == "federated"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub display_name: String,
    /// Lower-cased; unique.
    pub mail: String,
    pub user_type: UserType,
    pub account_enabled: bool,
    /// The "Global Administrator" role: the portal, every admin permission.
    pub is_admin: bool,
    /// The "Guest Inviter" role.
    pub guest_inviter: bool,
    /// The mailbox was proven (an emailed code, a trusted home IdP's verified
    /// assertion at redemption) or an admin vouched for it; a typed address is not.
    pub email_verified: bool,
    pub password_hash: Option<String>,
    /// Guests only.
    pub external_user_state: Option<ExternalUserState>,
    pub external_user_state_changed_at: Option<DateTime<Utc>>,
    /// Stored in their own table, unique by (issuer, issuer_assigned_id).
    pub identities: Vec<Identity>,
    /// After this instant the user can no longer sign in or use tokens.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// Who invited the guest.
    pub sponsor: Option<Actor>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The directory roles a user may hold (Graph's directory role names).
pub const ROLE_GLOBAL_ADMINISTRATOR: &str = "Global Administrator";
pub const ROLE_GUEST_INVITER: &str = "Guest Inviter";

impl User {
    /// The user's directory roles, in a fixed order.
    pub fn roles(&self) -> Vec<&'static str> {
        let mut r = Vec::new();
        if self.is_admin {
            r.push(ROLE_GLOBAL_ADMINISTRATOR);
        }
        if self.guest_inviter {
            r.push(ROLE_GUEST_INVITER);
        }
        r
    }

    /// An administrator who can sign in now and whose access does not end:
    /// someone who can still administer the directory.
    pub fn is_active_admin(&self, now: DateTime<Utc>) -> bool {
        self.is_admin && self.account_enabled && self.access_expires_at.is_none_or(|t| now < t)
    }

    /// The version of this user an admin saw (`ETag`): over every field an
    /// edit or a redemption can change.
    pub fn etag(&self) -> String {
        let v = serde_json::json!([
            self.audit_view(),
            self.password_hash,
            self.external_user_state_changed_at,
            self.updated_at,
        ]);
        portico_core::entity_tag(v.to_string().as_bytes())
    }

    /// Whether an `If-Match` value names this version.
    pub fn matches_etag(&self, if_match: &str) -> bool {
        portico_core::if_match(if_match, &self.etag())
    }

    /// Whether going from `self` to `after` takes an active administrator
    /// away (disabled, expiring, demoted or deleted): then another must stay.
    pub fn loses_admin(&self, after: &User, now: DateTime<Utc>) -> bool {
        let stays = after.is_active_admin(now) && after.access_expires_at.is_none();
        self.is_active_admin(now) && !stays
    }

    /// Enabled and not past its access expiry.
    pub fn can_sign_in(&self, now: DateTime<Utc>) -> bool {
        self.account_enabled && self.access_expires_at.is_none_or(|t| now < t)
    }

    /// What the audit log records (never the password hash).
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "displayName": self.display_name,
            "mail": self.mail,
            "userType": self.user_type.as_str(),
            "accountEnabled": self.account_enabled,
            "roles": self.roles(),
            "emailVerified": self.email_verified,
            "externalUserState": self.external_user_state.map(|s| s.as_str()),
            "identities": self.identities,
            "accessExpiresDateTime": self.access_expires_at,
        })
    }
}

/// One page of users, ordered by id (ids are time-ordered UUIDv7).
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub user_type: Option<UserType>,
    /// Exact, lower-cased.
    pub mail: Option<String>,
    /// Only ids greater than this one (the last id of the previous page).
    pub after: Option<Uuid>,
    pub limit: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// The organization's settings do not let this caller do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// The record changed since the version the caller named (`If-Match`).
    #[error("the record changed since it was read")]
    Stale,
    /// Every password slot is taken (see `password::PasswordSlots`): try again in a second.
    #[error("too many password checks at once")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Fails with `Conflict` when the mail or one of the identities is taken.
    async fn create_user(&self, u: &User, audit: &AuditEntry) -> Result<(), DirectoryError>;
    async fn find_user(&self, id: Uuid) -> Result<Option<User>, DirectoryError>;
    async fn find_user_by_mail(&self, mail: &str) -> Result<Option<User>, DirectoryError>;
    async fn find_user_by_identity(
        &self,
        issuer: &str,
        issuer_assigned_id: &str,
    ) -> Result<Option<User>, DirectoryError>;
    async fn list_users(&self, q: &UserQuery) -> Result<Vec<User>, DirectoryError>;
    /// Saves every mutable field and replaces the identities. When the user can
    /// no longer sign in (disabled, or access expired at `updated_at`), also
    /// ends its sessions, revokes its grants and deletes its consents, in the
    /// same transaction as the update and the audit entry.
    async fn update_user(&self, u: &User, audit: &AuditEntry) -> Result<(), DirectoryError>;
    /// Deletes the user and, in the same transaction, its sessions, grants,
    /// consents, identities and invitations; records `audit`.
    async fn delete_user(&self, id: Uuid, audit: &AuditEntry) -> Result<bool, DirectoryError>;
    async fn count_admins(&self) -> Result<u64, DirectoryError>;
    /// Administrators other than `except` who are enabled and whose access
    /// has not ended at `now`.
    async fn count_active_admins(
        &self,
        except: Uuid,
        now: DateTime<Utc>,
    ) -> Result<u64, DirectoryError>;
    /// Writes only the columns `change` names (so a concurrent edit of other
    /// columns is never undone), with its audit entry, in one transaction.
    /// When `change.cut_off` is set, or the user can no longer sign in at
    /// `change.updated_at`, also ends its sessions and revokes its grants,
    /// tokens and consents in that transaction.
    async fn change_user(
        &self,
        id: Uuid,
        change: &UserChange,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError>;
}

/// The columns one edit of a user writes; `None` leaves a column as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub password_hash: Option<String>,
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
    pub is_admin: Option<bool>,
    pub guest_inviter: Option<bool>,
    pub email_verified: Option<bool>,
    pub updated_at: DateTime<Utc>,
    /// End the user's sessions and revoke what was issued to it (a password
    /// reset), whatever else changes.
    pub cut_off: bool,
    /// The version the caller read (`If-Match`). The repository compares it
    /// with the row inside the write's transaction, under a lock, so a
    /// stale write is refused ([`DirectoryError::Stale`]) even when another
    /// write lands between the caller's read and this one.
    pub if_match: Option<String>,
}

impl UserChange {
    pub fn at(updated_at: DateTime<Utc>) -> Self {
        Self {
            display_name: None,
            account_enabled: None,
            password_hash: None,
            access_expires_at: None,
            is_admin: None,
            guest_inviter: None,
            email_verified: None,
            updated_at,
            cut_off: false,
            if_match: None,
        }
    }

    /// `u` with this change applied (what the row holds afterwards, when
    /// nothing else changed it meanwhile).
    pub fn apply_to(&self, u: &User) -> User {
        let mut out = u.clone();
        if let Some(v) = &self.display_name {
            out.display_name = v.clone();
        }
        if let Some(v) = self.account_enabled {
            out.account_enabled = v;
        }
        if let Some(v) = &self.password_hash {
            out.password_hash = Some(v.clone());
        }
        if let Some(v) = self.access_expires_at {
            out.access_expires_at = v;
        }
        if let Some(v) = self.is_admin {
            out.is_admin = v;
        }
        if let Some(v) = self.guest_inviter {
            out.guest_inviter = v;
        }
        if let Some(v) = self.email_verified {
            out.email_verified = v;
        }
        out.updated_at = self.updated_at;
        out
    }
}

pub struct NewUser {
    pub display_name: String,
    pub mail: String,
    pub password: Option<String>,
    pub user_type: UserType,
    pub is_admin: bool,
    /// An admin vouches for the address (`emailVerified` on create).
    pub email_verified: bool,
}

/// A minimal address check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn normalize_mail(mail: &str) -> Result<String, DirectoryError> {
    let m = mail.trim().to_lowercase();
    let ok = match m.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !m.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok {
        Ok(m)
    } else {
        Err(DirectoryError::Invalid(format!(
            "'{mail}' is not a valid email address."
        )))
    }
}

pub(crate) fn check_password(p: &str) -> Result<(), DirectoryError> {
    if p.chars().count() < 8 {
        return Err(DirectoryError::Invalid(
            "The password must have at least 8 characters.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_table() {
        let ok = |m: &str| normalize_mail(m).ok();
        assert_eq!(
            ok(" Alice@Contoso.Example "),
            Some("alice@contoso.example".into())
        );
        assert_eq!(ok("alice"), None);
        assert_eq!(ok("@contoso.example"), None);
        assert_eq!(ok("alice@localhost"), None);
        assert_eq!(ok("a b@contoso.example"), None);
        assert_eq!(ok("a@b@contoso.example"), None);
    }
}

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
    pub is_admin: bool,
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

impl User {
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
    #[error("not found")]
    NotFound,
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
}

pub struct NewUser {
    pub display_name: String,
    pub mail: String,
    pub password: Option<String>,
    pub user_type: UserType,
    pub is_admin: bool,
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

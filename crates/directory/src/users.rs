//! Users and the directory service.

use crate::password::{hash_password, verify_password};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crate::audit::{Actor, AuditEntry};
use portico_core::Clock;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
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
            "accessExpiresAt": self.access_expires_at,
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub password: Option<String>,
}

/// The directory service.
#[derive(Clone)]
pub struct Directory {
    repo: Arc<dyn UserRepo>,
    clock: Arc<dyn Clock>,
}

/// A minimal address check: one `@`, a non-empty local part, a dotted domain, no spaces.
fn normalize_mail(mail: &str) -> Result<String, DirectoryError> {
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

fn check_password(p: &str) -> Result<(), DirectoryError> {
    if p.chars().count() < 8 {
        return Err(DirectoryError::Invalid(
            "The password must have at least 8 characters.".into(),
        ));
    }
    Ok(())
}

impl Directory {
    pub fn new(repo: Arc<dyn UserRepo>, clock: Arc<dyn Clock>) -> Self {
        Self { repo, clock }
    }

    pub fn repo(&self) -> &dyn UserRepo {
        self.repo.as_ref()
    }

    pub async fn create_user(&self, n: NewUser) -> Result<User, DirectoryError> {
        let mail = normalize_mail(&n.mail)?;
        let display_name = n.display_name.trim().to_string();
        if display_name.is_empty() {
            return Err(DirectoryError::Invalid("displayName is required.".into()));
        }
        let password_hash = match n.password {
            Some(p) => {
                check_password(&p)?;
                Some(hash_password(p).await?)
            }
            None => None,
        };
        let now = self.clock.now();
        let user = User {
            id: Uuid::now_v7(),
            display_name,
            mail,
            user_type: n.user_type,
            account_enabled: true,
            is_admin: n.is_admin,
            password_hash,
            created_at: now,
            updated_at: now,
        };
        self.repo.create_user(&user).await?;
        Ok(user)
    }

    /// The user when `mail`/`password` are right and the account is enabled.
    /// Unknown users cost the same argon2 work as known ones.
    pub async fn authenticate(
        &self,
        mail: &str,
        password: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let user = match normalize_mail(mail) {
            Ok(m) => self.repo.find_user_by_mail(&m).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = verify_password(password.to_string(), hash).await;
        Ok(user.filter(|u| ok && u.account_enabled))
    }

    pub async fn update_user(&self, id: Uuid, patch: UserPatch) -> Result<User, DirectoryError> {
        let mut u = self
            .repo
            .find_user(id)
            .await?
            .ok_or(DirectoryError::NotFound)?;
        if let Some(n) = patch.display_name {
            if n.trim().is_empty() {
                return Err(DirectoryError::Invalid(
                    "displayName cannot be empty.".into(),
                ));
            }
            u.display_name = n.trim().to_string();
        }
        if let Some(e) = patch.account_enabled {
            u.account_enabled = e;
        }
        if let Some(p) = patch.password {
            check_password(&p)?;
            u.password_hash = Some(hash_password(p).await?);
        }
        u.updated_at = self.clock.now();
        self.repo.update_user(&u).await?;
        Ok(u)
    }
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

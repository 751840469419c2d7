//! The directory service for users: create, update, disable, delete, list.
//! Every change goes to the repository with its audit entry, written in the
//! same transaction.

use crate::audit::{Actor, AuditEntry, AuditQuery, AuditRepo};
use crate::password::{PasswordSlots, hash_password, verify_password_in};
use crate::users::{
    DirectoryError, NewUser, User, UserQuery, UserRepo, UserType, check_password, normalize_mail,
};
use chrono::{DateTime, Utc};
use portico_core::Clock;
use serde::{Deserialize, Deserializer};
use std::sync::Arc;
use uuid::Uuid;

/// Graph's `user` update body (PATCH). `accessExpiresDateTime: null` clears the expiry.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    pub password: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        rename = "accessExpiresDateTime"
    )]
    pub access_expires_at: Option<Option<DateTime<Utc>>>,
}

/// Tells a missing field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The directory service.
#[derive(Clone)]
pub struct Directory {
    repo: Arc<dyn UserRepo>,
    audits: Arc<dyn AuditRepo>,
    clock: Arc<dyn Clock>,
    password_slots: PasswordSlots,
}

pub const CATEGORY_USERS: &str = "UserManagement";

impl Directory {
    pub fn new(repo: Arc<dyn UserRepo>, audits: Arc<dyn AuditRepo>, clock: Arc<dyn Clock>) -> Self {
        Self {
            repo,
            audits,
            clock,
            password_slots: PasswordSlots::default(),
        }
    }

    /// Caps concurrent password checks at `slots` (see [`PasswordSlots`]).
    pub fn with_password_slots(mut self, slots: PasswordSlots) -> Self {
        self.password_slots = slots;
        self
    }

    pub fn password_slots(&self) -> &PasswordSlots {
        &self.password_slots
    }

    pub fn repo(&self) -> &dyn UserRepo {
        self.repo.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub async fn create_user(&self, n: NewUser, actor: &Actor) -> Result<User, DirectoryError> {
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
            external_user_state: None,
            external_user_state_changed_at: None,
            identities: Vec::new(),
            access_expires_at: None,
            sponsor: None,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEntry::for_user(now, actor, "Add user", &user).after(user.audit_view());
        self.repo.create_user(&user, &audit).await?;
        Ok(user)
    }

    /// The user when `mail`/`password` are right and the account may sign in.
    /// Unknown users cost the same argon2 work as known ones. `Busy` when
    /// every password slot is taken (nothing was checked).
    pub async fn authenticate(
        &self,
        mail: &str,
        password: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let slot = self.password_slots.try_take()?;
        let user = match normalize_mail(mail) {
            Ok(m) => self.repo.find_user_by_mail(&m).await?,
            Err(_) => None,
        };
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = verify_password_in(slot, password.to_string(), hash).await;
        let now = self.clock.now();
        Ok(user.filter(|u| ok && u.can_sign_in(now)))
    }

    pub async fn find_user(&self, id: Uuid) -> Result<User, DirectoryError> {
        self.repo
            .find_user(id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    pub async fn list_users(&self, q: &UserQuery) -> Result<Vec<User>, DirectoryError> {
        self.repo.list_users(q).await
    }

    /// Applies `patch`. Disabling the account, or an expiry in the past, ends
    /// its sessions and revokes its tokens and consents in the same write.
    pub async fn update_user(
        &self,
        id: Uuid,
        patch: UserPatch,
        actor: &Actor,
    ) -> Result<User, DirectoryError> {
        let before = self.find_user(id).await?;
        let mut u = before.clone();
        if let Some(n) = patch.display_name {
            if n.trim().is_empty() || n.chars().count() > 256 {
                return Err(DirectoryError::Invalid(
                    "displayName must have 1 to 256 characters.".into(),
                ));
            }
            u.display_name = n.trim().to_string();
        }
        if let Some(e) = patch.account_enabled {
            u.account_enabled = e;
        }
        if let Some(p) = patch.password {
            if u.user_type == UserType::Guest {
                return Err(DirectoryError::Invalid(
                    "Guests sign in with their own identity; they have no password here.".into(),
                ));
            }
            check_password(&p)?;
            u.password_hash = Some(hash_password(p).await?);
        }
        if let Some(exp) = patch.access_expires_at {
            u.access_expires_at = exp;
        }
        u.updated_at = self.clock.now();
        let activity = match (before.account_enabled, u.account_enabled) {
            (true, false) => "Disable account",
            (false, true) => "Enable account",
            _ => "Update user",
        };
        let audit = AuditEntry::for_user(u.updated_at, actor, activity, &u)
            .before(before.audit_view())
            .after(u.audit_view());
        self.repo.update_user(&u, &audit).await?;
        Ok(u)
    }

    /// Deletes the user with its sessions, tokens, consents and invitations.
    /// The last admin cannot be deleted.
    pub async fn delete_user(&self, id: Uuid, actor: &Actor) -> Result<(), DirectoryError> {
        let u = self.find_user(id).await?;
        if u.is_admin && self.repo.count_admins().await? <= 1 {
            return Err(DirectoryError::Conflict(
                "The last administrator cannot be deleted.".into(),
            ));
        }
        let audit =
            AuditEntry::for_user(self.clock.now(), actor, "Delete user", &u).before(u.audit_view());
        if self.repo.delete_user(id, &audit).await? {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    pub async fn list_audits(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError> {
        self.audits.list_audits(q).await
    }
}

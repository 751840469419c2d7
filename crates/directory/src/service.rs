//! The directory service for users: create, update, disable, delete, list.
//! Every change goes to the repository with its audit entry, written in the
//! same transaction. Rules:
//! - an edit writes only the columns it changes ([`UserChange`]), so two
//!   admins' concurrent edits of different fields both survive; a caller that
//!   wants all-or-nothing sends the version it read ([`User::etag`], the API's
//!   `If-Match`) and gets [`DirectoryError::Stale`] when the user changed since;
//! - a password reset ends the user's sessions and revokes its grants and
//!   tokens, like disabling does (whoever knew the old password is out);
//! - the last active administrator (enabled, no access expiry) cannot be
//!   disabled, given an expiry, lose the role, or be deleted;
//! - who may touch an administrator at all is the caller's business (the API
//!   asks for an extra permission, [`UserPatch::touches_admin_powers`]);
//! - `emailVerified` is set only by an admin who says so; a typed address is
//!   unproven.

use crate::audit::{Actor, AuditEntry, AuditQuery, AuditRepo};
use crate::password::{PasswordSlots, hash_password, verify_password_in};
use crate::users::{
    DirectoryError, NewUser, ROLE_GLOBAL_ADMINISTRATOR, ROLE_GUEST_INVITER, User, UserChange,
    UserQuery, UserRepo, UserType, check_password, normalize_mail,
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
    /// The directory roles the user holds afterwards (replaces the list).
    pub roles: Option<Vec<String>>,
    /// An admin vouches for (or withdraws) the address.
    pub email_verified: Option<bool>,
}

impl UserPatch {
    /// Whether applying this patch to `target` uses administrator powers: it
    /// changes anyone's roles, or resets, disables, expires an administrator.
    pub fn touches_admin_powers(&self, target: &User) -> bool {
        let roles_change = self
            .roles
            .as_ref()
            .is_some_and(|r| parse_roles(r).ok() != Some((target.is_admin, target.guest_inviter)));
        let against_admin = target.is_admin
            && (self.password.is_some()
                || self.account_enabled == Some(false)
                || matches!(self.access_expires_at, Some(Some(_))));
        roles_change || against_admin
    }
}

/// `(is_admin, guest_inviter)` from a `roles` list.
fn parse_roles(roles: &[String]) -> Result<(bool, bool), DirectoryError> {
    let mut admin = false;
    let mut inviter = false;
    for r in roles {
        match r.as_str() {
            ROLE_GLOBAL_ADMINISTRATOR => admin = true,
            ROLE_GUEST_INVITER => inviter = true,
            other => {
                return Err(DirectoryError::Invalid(format!(
                    "roles: '{other}' is not a role; use \"{ROLE_GLOBAL_ADMINISTRATOR}\" or \"{ROLE_GUEST_INVITER}\"."
                )));
            }
        }
    }
    Ok((admin, inviter))
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
            guest_inviter: false,
            email_verified: n.email_verified,
            password_hash,
            external_user_state: None,
            external_user_state_changed_at: None,
            identities: Vec::new(),
            access_expires_at: None,
            sponsor: None,
            created_at: now,
            updated_at: now,
        };
        let audit = crate::audit::for_user(now, actor, "Add user", &user).after(user.audit_view());
        self.repo.create_user(&user, &audit).await?;
        Ok(user)
    }

    /// The user when `mail`/`password` are right and the account may sign in.
    /// Unknown users cost the same argon2 work as known ones. `Busy` when
    /// every password slot is taken and the waiting room is full or its wait
    /// ran out (nothing was checked).
    pub async fn authenticate(
        &self,
        mail: &str,
        password: &str,
    ) -> Result<Option<User>, DirectoryError> {
        let user = match normalize_mail(mail) {
            Ok(m) => self.repo.find_user_by_mail(&m).await?,
            Err(_) => None,
        };
        // The slot is taken after the lookup: held across a database round
        // trip, it kept the waiting sign-in from hashing meanwhile.
        let slot = self.password_slots.take_or_wait().await?;
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

    /// Applies `patch` (see the rules at the top of this file). Disabling the
    /// account, an expiry in the past, or a new password ends its sessions and
    /// revokes its tokens and consents in the same write. With `if_match`, the
    /// user must still be the version the caller read.
    pub async fn update_user(
        &self,
        id: Uuid,
        patch: UserPatch,
        actor: &Actor,
    ) -> Result<User, DirectoryError> {
        self.update_user_if(id, patch, actor, None).await
    }

    pub async fn update_user_if(
        &self,
        id: Uuid,
        patch: UserPatch,
        actor: &Actor,
        if_match: Option<&str>,
    ) -> Result<User, DirectoryError> {
        let before = self.find_user(id).await?;
        if if_match.is_some_and(|v| !before.matches_etag(v)) {
            return Err(DirectoryError::Stale);
        }
        let now = self.clock.now();
        let mut c = UserChange::at(now);
        c.if_match = if_match.map(str::to_string);
        if let Some(n) = patch.display_name {
            if n.trim().is_empty() || n.chars().count() > 256 {
                return Err(DirectoryError::Invalid(
                    "displayName must have 1 to 256 characters.".into(),
                ));
            }
            c.display_name = Some(n.trim().to_string());
        }
        c.account_enabled = patch.account_enabled;
        c.access_expires_at = patch.access_expires_at;
        c.email_verified = patch.email_verified;
        if let Some(roles) = &patch.roles {
            let (admin, inviter) = parse_roles(roles)?;
            if admin && before.user_type == UserType::Guest {
                return Err(DirectoryError::Invalid(
                    "Only members can be administrators.".into(),
                ));
            }
            c.is_admin = Some(admin);
            c.guest_inviter = Some(inviter);
        }
        let after = c.apply_to(&before);
        self.check_keeps_an_admin(&before, &after).await?;
        // Hash last: every check that can refuse is done before the slow part.
        if let Some(p) = patch.password {
            if before.user_type == UserType::Guest {
                return Err(DirectoryError::Invalid(
                    "Guests sign in with their own identity; they have no password here.".into(),
                ));
            }
            check_password(&p)?;
            c.password_hash = Some(hash_password(p).await?);
            c.cut_off = true;
        }
        let after = c.apply_to(&before);
        let activity = match (before.account_enabled, after.account_enabled) {
            (true, false) => "Disable account",
            (false, true) => "Enable account",
            _ if before.roles() != after.roles() => "Update user roles",
            _ if c.password_hash.is_some() => "Reset user password",
            _ => "Update user",
        };
        let audit = crate::audit::for_user(now, actor, activity, &after)
            .before(before.audit_view())
            .after(after.audit_view());
        self.repo.change_user(id, &c, &audit).await?;
        self.find_user(id).await
    }

    /// Refuses a change that leaves no active administrator: `before` was
    /// one and `after` is not, and nobody else is. This early answer spares
    /// the password hash; the repository checks again inside the write's
    /// transaction (two admins disabling each other at once: one wins).
    async fn check_keeps_an_admin(
        &self,
        before: &User,
        after: &User,
    ) -> Result<(), DirectoryError> {
        let now = self.clock.now();
        if before.loses_admin(after, now)
            && self.repo.count_active_admins(before.id, now).await? == 0
        {
            return Err(last_admin());
        }
        Ok(())
    }

    /// Deletes the user with its sessions, tokens, consents and invitations.
    /// The last active admin cannot be deleted.
    pub async fn delete_user(&self, id: Uuid, actor: &Actor) -> Result<(), DirectoryError> {
        let u = self.find_user(id).await?;
        let mut gone = u.clone();
        gone.is_admin = false;
        self.check_keeps_an_admin(&u, &gone).await?;
        let audit = crate::audit::for_user(self.clock.now(), actor, "Delete user", &u)
            .before(u.audit_view());
        if self.repo.delete_user(id, &audit).await? {
            Ok(())
        } else {
            Err(DirectoryError::NotFound)
        }
    }

    /// A guest leaves the organization (My Apps): the account is deleted
    /// with its sessions, tokens, consents, invitations, group memberships
    /// and assignments, in one transaction with the audit entry, which names
    /// the guest as the actor. Members cannot leave this way.
    pub async fn leave_organization(&self, id: Uuid) -> Result<(), DirectoryError> {
        let u = self.find_user(id).await?;
        if u.user_type != UserType::Guest {
            return Err(DirectoryError::Forbidden(
                "Only guests can leave the organization; members ask an administrator.".into(),
            ));
        }
        let actor = Actor {
            kind: crate::ActorKind::User,
            id: u.id.to_string(),
            display_name: u.display_name.clone(),
        };
        let audit = crate::audit::for_user(self.clock.now(), &actor, "Leave organization", &u)
            .before(u.audit_view());
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

/// The refusal to take away the last active administrator (the service's
/// early check and the repository's check inside the write say the same).
pub fn last_admin() -> DirectoryError {
    DirectoryError::Conflict(format!(
        "This is the last enabled administrator: it cannot be disabled, given an access expiry, lose its role or be deleted. Make another user a {ROLE_GLOBAL_ADMINISTRATOR} first."
    ))
}

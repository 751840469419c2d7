//! The invitation service's side of the external collaboration settings:
//! reading and changing them (audited), and the checks every invitation path
//! goes through ([`Invitations::invite`] calls [`Invitations::check_may_invite`]
//! before anything is written), so the API, the portal, the CLI and bulk
//! imports refuse alike and with the same words.

use super::service::Invitations;
use crate::audit::{Actor, ActorKind, AuditEntry};
use crate::collaboration::{CollaborationPolicy, InviterKind};
use crate::users::{DirectoryError, UserType};

/// Graph's directoryAudit category for policy changes.
const CATEGORY_POLICY: &str = "Policy";

impl Invitations {
    pub async fn collaboration_policy(&self) -> Result<CollaborationPolicy, DirectoryError> {
        self.repo.collaboration_policy().await
    }

    /// Applies `change` to the stored settings and saves the result with an
    /// audit entry naming `actor` and the values before and after.
    pub async fn update_collaboration_policy(
        &self,
        change: impl FnOnce(CollaborationPolicy) -> Result<CollaborationPolicy, String>,
        actor: &Actor,
        activity: &str,
        id: &str,
    ) -> Result<CollaborationPolicy, DirectoryError> {
        // Applied to what is stored now, not this node's copy of it.
        self.repo.catch_up_collaboration_policy().await?;
        let before = self.repo.collaboration_policy().await?;
        let after = change(before.clone()).map_err(DirectoryError::Invalid)?;
        let json = |p: &CollaborationPolicy| serde_json::to_value(p).unwrap_or_default();
        let audit = AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_POLICY,
            "Policy",
            id,
            id,
        )
        .before(json(&before))
        .after(json(&after));
        self.repo.save_collaboration_policy(&after, &audit).await?;
        Ok(after)
    }

    /// How `allowInvitesFrom` sorts `actor`: API clients (which hold
    /// `User.Invite.All`) and the operator's CLI count as admins.
    pub async fn inviter_kind(&self, actor: &Actor) -> Result<InviterKind, DirectoryError> {
        if actor.kind != ActorKind::User {
            return Ok(InviterKind::Admin);
        }
        let user = match uuid::Uuid::parse_str(&actor.id) {
            Ok(id) => self.users.find_user(id).await?,
            Err(_) => None,
        };
        Ok(match user {
            None => InviterKind::Guest,
            Some(u) if u.is_admin => InviterKind::Admin,
            Some(u) if u.guest_inviter => InviterKind::GuestInviter,
            Some(u) if u.user_type == UserType::Member => InviterKind::Member,
            Some(_) => InviterKind::Guest,
        })
    }

    /// `allowInvitesFrom` for `actor` and the domain lists for `email`.
    pub async fn check_may_invite(&self, email: &str, actor: &Actor) -> Result<(), DirectoryError> {
        let policy = self.repo.collaboration_policy().await?;
        if !policy.may_invite(self.inviter_kind(actor).await?) {
            return Err(DirectoryError::Forbidden(format!(
                "The organization's external collaboration settings (allowInvitesFrom: {}) do not let {} invite guests.",
                policy.allow_invites_from.as_str(),
                actor.display_name
            )));
        }
        match policy.domain_refusal(email) {
            Some(why) => Err(DirectoryError::Forbidden(why)),
            None => Ok(()),
        }
    }
}

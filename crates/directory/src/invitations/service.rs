//! The invitation service: invite (idempotent per email), resend (rotates the
//! link), revoke, and the links' keyed MACs. Redemption lives in `redeem.rs`.

use super::mail::{InvitationMessage, MailComposer};
use super::model::*;
use super::request::InviteRequest;
use crate::audit::{Actor, AuditEntry};
use crate::users::{DirectoryError, ExternalUserState, User, UserRepo, UserType};
use chrono::{DateTime, Duration, Utc};
use portico_core::{Clock, MailKind, OutgoingMail, SecretHasher};
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

pub const CATEGORY_INVITATIONS: &str = "Invitations";
const LINK_PURPOSE: &str = "invite-link";
const BLOCK_PURPOSE: &str = "invite-block";

/// What the invitation service needs to know about the organization.
#[derive(Debug, Clone)]
pub struct InvitationConfig {
    /// The issuer URL; links are built under it.
    pub base_url: String,
    pub organization: String,
    pub privacy_url: Option<String>,
    /// How long a link stays valid (default 30 days).
    pub expiry: Duration,
    /// Log each new redeem link (info level). Only for the embedded default
    /// without SMTP, where the `.eml` outbox is the only other way to find it.
    pub log_links: bool,
    /// Origins an `inviteRedirectUrl` may point at besides Portico itself and
    /// the registered applications (`PORTICO_INVITE_REDIRECT_ORIGINS`).
    pub redirect_origins: Vec<String>,
}

/// The answer to an invite: the invitation (new or existing) and its guest.
#[derive(Debug, Clone)]
pub struct InviteOutcome {
    pub invitation: Invitation,
    pub user: User,
    pub redeem_url: String,
    /// False when the email already had a guest with a live or accepted
    /// invitation: nothing was written and nothing sent.
    pub created: bool,
}

#[derive(Clone)]
pub struct Invitations {
    pub(crate) repo: Arc<dyn InvitationRepo>,
    pub(crate) users: Arc<dyn UserRepo>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: SecretHasher,
    pub(crate) composer: Arc<dyn MailComposer>,
    pub(crate) config: InvitationConfig,
    /// Woken after every committed write that queued mail (the mail worker
    /// listens), so no caller has to remember to.
    pub(crate) mail_queued: Arc<Notify>,
}

impl Invitations {
    pub fn new(
        repo: Arc<dyn InvitationRepo>,
        users: Arc<dyn UserRepo>,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
        composer: Arc<dyn MailComposer>,
        config: InvitationConfig,
    ) -> Self {
        Self {
            repo,
            users,
            clock,
            hasher,
            composer,
            config,
            mail_queued: Arc::new(Notify::new()),
        }
    }

    /// Wakes `notify` whenever an invitation or code email was queued.
    pub fn with_mail_notifier(mut self, notify: Arc<Notify>) -> Self {
        self.mail_queued = notify;
        self
    }

    /// No open redirect from the organization's own emails: the landing page
    /// must be Portico itself, a registered application (the origin of one
    /// of its redirect or post-logout URIs), or an allow-listed origin.
    pub async fn check_redirect_target(&self, url: &str) -> Result<(), DirectoryError> {
        let Some(origin) = super::request::origin_of(url) else {
            return Err(DirectoryError::Invalid(format!(
                "inviteRedirectUrl '{url}' is not an absolute URL."
            )));
        };
        let own = super::request::origin_of(&self.config.base_url);
        if own.as_deref() == Some(origin.as_str()) || self.config.redirect_origins.contains(&origin)
        {
            return Ok(());
        }
        if self.repo.application_origins().await?.contains(&origin) {
            return Ok(());
        }
        Err(DirectoryError::Invalid(format!(
            "inviteRedirectUrl: {origin} is not the origin of a registered application or of the allowed list (PORTICO_INVITE_REDIRECT_ORIGINS)."
        )))
    }

    pub fn config(&self) -> &InvitationConfig {
        &self.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// What a redeem link's MAC covers: the invitation and its generation.
    fn link_message(inv: &Invitation) -> String {
        format!("{}:{}", inv.id, inv.link_generation)
    }

    /// The redeem link of the invitation's current generation.
    pub fn redeem_url(&self, inv: &Invitation) -> String {
        format!(
            "{}/redeem?i={}&t={}",
            self.config.base_url.trim_end_matches('/'),
            inv.id,
            self.link_token(inv)
        )
    }

    /// The `t` of the invitation's current redeem link.
    pub fn link_token(&self, inv: &Invitation) -> String {
        self.hasher.hash(LINK_PURPOSE, &Self::link_message(inv))
    }

    /// The "block further invitations" link; it survives resends.
    pub fn block_url(&self, inv: &Invitation) -> String {
        format!(
            "{}/invitations/block?i={}&t={}",
            self.config.base_url.trim_end_matches('/'),
            inv.id,
            self.hasher.hash(BLOCK_PURPOSE, &inv.id.to_string())
        )
    }

    pub(crate) fn link_matches(&self, inv: &Invitation, token: &str) -> bool {
        self.hasher
            .verify(LINK_PURPOSE, &Self::link_message(inv), token)
    }

    pub(crate) fn block_matches(&self, inv: &Invitation, token: &str) -> bool {
        self.hasher
            .verify(BLOCK_PURPOSE, &inv.id.to_string(), token)
    }

    pub async fn find(&self, id: Uuid) -> Result<Invitation, DirectoryError> {
        self.repo
            .find_invitation(id)
            .await?
            .ok_or(DirectoryError::NotFound)
    }

    pub async fn list(&self, q: &InvitationQuery) -> Result<Vec<Invitation>, DirectoryError> {
        let mut q = q.clone();
        q.now = Some(self.clock.now());
        self.repo.list_invitations(&q).await
    }

    /// The guest's newest invitation.
    pub async fn latest_for(&self, user_id: Uuid) -> Result<Option<Invitation>, DirectoryError> {
        let q = InvitationQuery {
            user_id: Some(user_id),
            limit: 1,
            ..Default::default()
        };
        Ok(self.repo.list_invitations(&q).await?.into_iter().next())
    }

    fn compose(&self, inv: &Invitation, invitee_name: Option<&str>) -> OutgoingMail {
        let r = self.composer.invitation(&InvitationMessage {
            organization: self.config.organization.clone(),
            inviter_name: inv.invited_by.display_name.clone(),
            invitee_email: inv.email.clone(),
            invitee_name: invitee_name.map(str::to_string),
            message: inv.message.clone(),
            language: inv.message_language.clone(),
            redeem_url: self.redeem_url(inv),
            block_url: self.block_url(inv),
            privacy_url: self.config.privacy_url.clone(),
            expires_at: inv.expires_at,
        });
        OutgoingMail {
            id: Uuid::now_v7(),
            kind: MailKind::Invitation,
            to: inv.email.clone(),
            cc: inv.cc_recipients.clone(),
            subject: r.subject,
            text: r.text,
            html: r.html,
            created_at: inv.updated_at,
        }
    }

    fn new_invitation(&self, req: &InviteRequest, user: &User, actor: &Actor) -> Invitation {
        let now = self.clock.now();
        Invitation {
            id: Uuid::now_v7(),
            user_id: user.id,
            email: req.email.clone(),
            display_name: req.display_name.clone(),
            redirect_url: req.redirect_url.clone(),
            message: req.message.clone(),
            message_language: req.message_language.clone(),
            cc_recipients: req.cc_recipients.clone(),
            send_message: req.send_message,
            user_type: req.user_type,
            state: InvitationState::Pending,
            link_generation: 1,
            expires_at: now + self.config.expiry,
            invited_by: actor.clone(),
            created_at: now,
            updated_at: now,
            accepted_at: None,
            revoked_at: None,
            granted_group_id: req.granted_group.as_ref().map(|g| g.id),
        }
    }

    fn audit(&self, actor: &Actor, activity: &str, inv: &Invitation) -> AuditEntry {
        AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_INVITATIONS,
            "Invitation",
            inv.id,
            &inv.email,
        )
    }

    /// Invites `req.email`. An email that already has a guest gets that guest
    /// back: its live (or accepted) invitation, with nothing sent again; an
    /// expired or revoked one is replaced by a new invitation. With
    /// `reset_redemption` the guest goes back to PendingAcceptance, loses its
    /// identities, sessions and tokens, and keeps its object.
    pub async fn invite(
        &self,
        req: &InviteRequest,
        actor: &Actor,
        import_row: Option<(Uuid, i64)>,
    ) -> Result<InviteOutcome, DirectoryError> {
        if self.repo.is_blocked(&req.email).await? {
            return Err(DirectoryError::Conflict(format!(
                "{} has asked not to receive invitations from {}.",
                req.email, self.config.organization
            )));
        }
        self.check_redirect_target(&req.redirect_url).await?;
        self.check_may_invite(&req.email, actor).await?;
        // One retry: a concurrent invite of the same email may win the insert.
        match self.try_invite(req, actor, import_row).await {
            Err(DirectoryError::Conflict(_)) if import_row.is_none() => {
                self.try_invite(req, actor, import_row).await
            }
            other => other,
        }
    }

    async fn try_invite(
        &self,
        req: &InviteRequest,
        actor: &Actor,
        import_row: Option<(Uuid, i64)>,
    ) -> Result<InviteOutcome, DirectoryError> {
        let now = self.clock.now();
        let existing = self.users.find_user_by_mail(&req.email).await?;
        let (user_write, user, supersede, activity) = match existing {
            Some(u) if u.user_type == UserType::Member && u.external_user_state.is_none() => {
                return Err(DirectoryError::Conflict(format!(
                    "{} is a member of {}; members are not invited.",
                    req.email, self.config.organization
                )));
            }
            Some(u) => {
                let latest = self.latest_for(u.id).await?;
                if req.reset_redemption {
                    let mut reset = u.clone();
                    reset.external_user_state = Some(ExternalUserState::PendingAcceptance);
                    reset.external_user_state_changed_at = Some(now);
                    reset.identities.clear();
                    reset.updated_at = now;
                    let supersede = latest
                        .filter(|i| i.state == InvitationState::Pending)
                        .map(|i| i.id);
                    let w = UserWrite::Update {
                        user: reset.clone(),
                        cut_off: true,
                    };
                    (w, reset, supersede, "Reset redemption")
                } else {
                    match latest {
                        Some(inv)
                            if matches!(
                                inv.status(now),
                                InvitationStatus::PendingAcceptance | InvitationStatus::Accepted
                            ) =>
                        {
                            let redeem_url = self.redeem_url(&inv);
                            return Ok(InviteOutcome {
                                invitation: inv,
                                user: u,
                                redeem_url,
                                created: false,
                            });
                        }
                        _ if u.external_user_state == Some(ExternalUserState::Accepted) => {
                            // Accepted through an invitation since deleted: nothing to do.
                            return Err(DirectoryError::Conflict(format!(
                                "{} has already accepted; use resetRedemption to invite again.",
                                req.email
                            )));
                        }
                        _ => (UserWrite::Unchanged, u, None, "Invite external user"),
                    }
                }
            }
            None => {
                let display_name = req.display_name.clone().unwrap_or_else(|| {
                    req.email
                        .split('@')
                        .next()
                        .unwrap_or(&req.email)
                        .to_string()
                });
                let u = User {
                    id: Uuid::now_v7(),
                    display_name,
                    mail: req.email.clone(),
                    user_type: req.user_type,
                    account_enabled: true,
                    is_admin: false,
                    guest_inviter: false,
                    email_verified: false,
                    password_hash: None,
                    external_user_state: Some(ExternalUserState::PendingAcceptance),
                    external_user_state_changed_at: Some(now),
                    identities: Vec::new(),
                    access_expires_at: None,
                    sponsor: Some(actor.clone()),
                    created_at: now,
                    updated_at: now,
                };
                (
                    UserWrite::Create(u.clone()),
                    u,
                    None,
                    "Invite external user",
                )
            }
        };
        let inv = self.new_invitation(req, &user, actor);
        let mail = req
            .send_message
            .then(|| self.compose(&inv, req.display_name.as_deref()));
        let mut audit = vec![self.audit(actor, activity, &inv).after(inv.audit_view())];
        if let UserWrite::Create(u) = &user_write {
            audit.push(crate::audit::for_user(now, actor, "Add user", u).after(u.audit_view()));
        }
        let w = InvitationWrite {
            user: user_write,
            invitation: inv.clone(),
            supersede,
            mail,
            audit,
            join_group: req.granted_group.as_ref().map(|g| {
                let entry = AuditEntry::new(
                    now,
                    actor,
                    "Add member to group",
                    crate::groups::CATEGORY_GROUPS,
                    "Group",
                    g.id,
                    &g.display_name,
                )
                .after(serde_json::json!({"userId": user.id, "displayName": user.display_name}));
                (g.id, entry)
            }),
            import_row: import_row.map(|(job_id, row_number)| ImportRowOutcome {
                job_id,
                row_number,
                outcome: crate::import::RowOutcome::Invited {
                    invitation_id: inv.id,
                    user_id: user.id,
                },
            }),
        };
        self.repo.save_invitation(&w).await?;
        if w.mail.is_some() {
            self.mail_queued.notify_one();
        }
        self.log_link(&inv);
        Ok(InviteOutcome {
            redeem_url: self.redeem_url(&inv),
            invitation: inv,
            user,
            created: true,
        })
    }

    /// Sends the invitation again with a new link (the old one stops working)
    /// and a new expiry. Accepted and revoked invitations cannot be resent.
    pub async fn resend(&self, id: Uuid, actor: &Actor) -> Result<Invitation, DirectoryError> {
        let old = self.find(id).await?;
        if old.state != InvitationState::Pending {
            return Err(DirectoryError::Conflict(format!(
                "The invitation is {}; only pending invitations can be resent.",
                old.state.as_str()
            )));
        }
        let now = self.clock.now();
        let mut inv = old.clone();
        inv.link_generation += 1;
        inv.expires_at = now + self.config.expiry;
        inv.updated_at = now;
        let name = self
            .users
            .find_user(inv.user_id)
            .await?
            .map(|u| u.display_name);
        let mail = self.compose(&inv, name.as_deref().or(inv.display_name.as_deref()));
        let audit = self
            .audit(actor, "Resend invitation", &inv)
            .before(old.audit_view())
            .after(inv.audit_view());
        let ok = self
            .repo
            .update_invitation(
                &inv,
                InvitationState::Pending,
                old.link_generation,
                Some(&mail),
                &[audit],
            )
            .await?;
        if !ok {
            return Err(DirectoryError::Conflict(
                "The invitation changed meanwhile; reload and try again.".into(),
            ));
        }
        self.mail_queued.notify_one();
        self.log_link(&inv);
        Ok(inv)
    }

    /// Says where the mail went; never the link itself, whose token is a
    /// secret that does not belong in a log (it is in the `.eml` file).
    fn log_link(&self, inv: &Invitation) {
        if self.config.log_links {
            tracing::info!(invitation = %inv.id, email = %inv.email,
                "invitation mail written to the outbox folder (no SMTP server configured)");
        }
    }

    /// Revokes a pending invitation: its link stops working at once.
    pub async fn revoke(&self, id: Uuid, actor: &Actor) -> Result<Invitation, DirectoryError> {
        let old = self.find(id).await?;
        if old.state != InvitationState::Pending {
            return Err(DirectoryError::Conflict(format!(
                "The invitation is {}; only pending invitations can be revoked.",
                old.state.as_str()
            )));
        }
        let now = self.clock.now();
        let mut inv = old.clone();
        inv.state = InvitationState::Revoked;
        inv.revoked_at = Some(now);
        inv.updated_at = now;
        let audit = self
            .audit(actor, "Revoke invitation", &inv)
            .before(old.audit_view())
            .after(inv.audit_view());
        let ok = self
            .repo
            .update_invitation(
                &inv,
                InvitationState::Pending,
                old.link_generation,
                None,
                &[audit],
            )
            .await?;
        if !ok {
            return Err(DirectoryError::Conflict(
                "The invitation changed meanwhile; reload and try again.".into(),
            ));
        }
        Ok(inv)
    }
}

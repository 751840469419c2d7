//! Redemption: the guest opens the link, proves the invited mailbox with an
//! email one-time passcode, reviews what will be shared, and accepts. Also the
//! codes returning guests sign in with, and the recipient's block link.
//!
//! Codes are 8 digits, live 10 minutes, allow 5 wrong tries, and at most 5 are
//! sent to one mailbox per hour. A code is bound to the browser that asked for
//! it (`binding`, a cookie secret), so a forwarded link or a leaked code is
//! useless elsewhere; a consumed code is the proof acceptance checks.

use super::mail::CodeMessage;
use super::model::*;
use super::service::{CATEGORY_INVITATIONS, Invitations};
use crate::audit::{Actor, ActorKind, AuditEntry};
use crate::users::{DirectoryError, ExternalUserState, Identity, User, UserType, normalize_mail};
use chrono::Duration;
use portico_core::{MailKind, OutgoingMail};
use uuid::Uuid;

pub const CODE_TTL_MINUTES: i64 = 10;
pub const CODE_MAX_ATTEMPTS: i32 = 5;
pub const CODES_PER_HOUR: u64 = 5;
/// How long after entering the code the guest may still accept.
const PROOF_TTL_MINUTES: i64 = 30;
const PURPOSE_REDEEM: &str = "redeem";
const PURPOSE_SIGNIN: &str = "signin";
/// A code to the mailbox as the second factor of a sign-in (never for a
/// user whose first factor was that mailbox: the policy decides that).
const PURPOSE_SECOND_FACTOR: &str = "second-factor";

/// Why a link or code does not work; each has a page of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedeemProblem {
    /// Unknown, tampered with, or replaced by a resend.
    InvalidLink,
    Expired,
    AlreadyAccepted,
    Revoked,
    /// The guest's account is disabled or its access expired.
    AccountDisabled,
    /// The invitation domains policy refuses the invited address now (it was
    /// blocked, or left off the allow-list, after the invitation was sent).
    DomainBlocked,
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("the invitation cannot be redeemed: {0:?}")]
    Link(RedeemProblem),
    #[error("too many codes were sent to this address; try again later")]
    TooManyCodes,
    #[error("wrong code")]
    WrongCode { attempts_left: i32 },
    #[error("the code expired or was used up")]
    CodeSpent,
    /// The home account is already the identity of another user here.
    #[error("this home account is already linked to another user")]
    IdentityInUse,
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// What a home IdP asserted about the person redeeming, after federation
/// verified the ID token.
#[derive(Debug, Clone)]
pub struct FederatedProof {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

impl FederatedProof {
    /// The home IdP vouches for the invited mailbox: it asserted this very
    /// address and said it is verified.
    pub fn proves_mailbox(&self, inv: &Invitation) -> bool {
        self.email_verified
            && self
                .email
                .as_deref()
                .and_then(|e| normalize_mail(e).ok())
                .is_some_and(|e| e == inv.email)
    }
}

fn code_hash(inv: &Invitations, id: Uuid, code: &str) -> String {
    inv.hasher.hash("otp", &format!("{id}:{code}"))
}

fn eight_digits() -> String {
    format!("{:08}", rand::random_range(0..100_000_000u32))
}

impl Invitations {
    /// The invitation behind a redeem link, if it can still be redeemed.
    pub async fn open_link(&self, id: &str, token: &str) -> Result<Invitation, RedeemError> {
        let bad = RedeemError::Link(RedeemProblem::InvalidLink);
        let id = Uuid::parse_str(id).map_err(|_| RedeemError::Link(RedeemProblem::InvalidLink))?;
        let inv = self.repo.find_invitation(id).await?.ok_or(bad)?;
        if !self.link_matches(&inv, token) {
            return Err(RedeemError::Link(RedeemProblem::InvalidLink));
        }
        self.check_redeemable(&inv).await?;
        Ok(inv)
    }

    async fn check_redeemable(&self, inv: &Invitation) -> Result<User, RedeemError> {
        let now = self.clock.now();
        match inv.status(now) {
            InvitationStatus::PendingAcceptance => {}
            InvitationStatus::Expired => return Err(RedeemError::Link(RedeemProblem::Expired)),
            InvitationStatus::Accepted => {
                return Err(RedeemError::Link(RedeemProblem::AlreadyAccepted));
            }
            InvitationStatus::Revoked => return Err(RedeemError::Link(RedeemProblem::Revoked)),
        }
        let user = self
            .users
            .find_user(inv.user_id)
            .await?
            .ok_or(RedeemError::Link(RedeemProblem::InvalidLink))?;
        if !user.can_sign_in(now) {
            return Err(RedeemError::Link(RedeemProblem::AccountDisabled));
        }
        let policy = self.repo.collaboration_policy().await?;
        if policy.domain_refusal(&inv.email).is_some() {
            return Err(RedeemError::Link(RedeemProblem::DomainBlocked));
        }
        Ok(user)
    }

    async fn send_code(
        &self,
        purpose: &str,
        subject: &str,
        email: &str,
        binding: &str,
    ) -> Result<Uuid, RedeemError> {
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let code = eight_digits();
        let r = self.composer.one_time_code(&CodeMessage {
            organization: self.config.organization.clone(),
            email: email.to_string(),
            code: code.clone(),
            minutes_valid: CODE_TTL_MINUTES,
        });
        let c = OneTimeCode {
            id,
            purpose: purpose.into(),
            subject: subject.into(),
            email: email.into(),
            code_hash: code_hash(self, id, &code),
            binding_hash: self.hasher.hash("otp-binding", binding),
            attempts: 0,
            created_at: now,
            expires_at: now + Duration::minutes(CODE_TTL_MINUTES),
            consumed_at: None,
        };
        let mail = OutgoingMail {
            id: Uuid::now_v7(),
            kind: MailKind::OneTimeCode,
            to: email.into(),
            cc: Vec::new(),
            subject: r.subject,
            text: r.text,
            html: r.html,
            created_at: now,
        };
        // The hourly limit is checked and the code written in one step, so
        // concurrent requests (on any nodes) cannot send more than the limit.
        let sent = self
            .repo
            .create_code_within_limit(&c, &mail, now - Duration::hours(1), CODES_PER_HOUR)
            .await?;
        if !sent {
            return Err(RedeemError::TooManyCodes);
        }
        self.mail_queued.notify_one();
        Ok(id)
    }

    /// Sends a code to the invited mailbox, for the browser holding `binding`.
    pub async fn send_redeem_code(
        &self,
        inv: &Invitation,
        binding: &str,
    ) -> Result<Uuid, RedeemError> {
        self.check_redeemable(inv).await?;
        self.send_code(PURPOSE_REDEEM, &inv.id.to_string(), &inv.email, binding)
            .await
    }

    /// Loads a code and checks it belongs to this purpose, subject and browser.
    async fn own_code(
        &self,
        code_id: Uuid,
        purpose: &str,
        subject: &str,
        binding: &str,
    ) -> Result<OneTimeCode, RedeemError> {
        let c = self
            .repo
            .find_code(code_id)
            .await?
            .ok_or(RedeemError::CodeSpent)?;
        let ours = c.purpose == purpose
            && c.subject == subject
            && self.hasher.verify("otp-binding", binding, &c.binding_hash);
        if ours {
            Ok(c)
        } else {
            Err(RedeemError::CodeSpent)
        }
    }

    async fn check(&self, c: &OneTimeCode, code: &str) -> Result<(), RedeemError> {
        let code = code.trim();
        let hash = code_hash(self, c.id, code);
        match self
            .repo
            .check_code(c.id, &hash, CODE_MAX_ATTEMPTS, self.clock.now())
            .await?
        {
            CodeCheck::Accepted => Ok(()),
            CodeCheck::Wrong { attempts_left } => Err(RedeemError::WrongCode { attempts_left }),
            CodeCheck::Spent => Err(RedeemError::CodeSpent),
        }
    }

    /// Checks the code the guest typed; on success the mailbox is proven.
    pub async fn verify_redeem_code(
        &self,
        inv: &Invitation,
        code_id: Uuid,
        binding: &str,
        code: &str,
    ) -> Result<(), RedeemError> {
        self.check_redeemable(inv).await?;
        let c = self
            .own_code(code_id, PURPOSE_REDEEM, &inv.id.to_string(), binding)
            .await?;
        self.check(&c, code).await
    }

    /// Whether this browser proved the invited mailbox recently.
    pub async fn has_proven_mailbox(
        &self,
        inv: &Invitation,
        code_id: Uuid,
        binding: &str,
    ) -> Result<bool, RedeemError> {
        let c = match self
            .own_code(code_id, PURPOSE_REDEEM, &inv.id.to_string(), binding)
            .await
        {
            Ok(c) => c,
            Err(RedeemError::CodeSpent) => return Ok(false),
            Err(e) => return Err(e),
        };
        let now = self.clock.now();
        Ok(c.email == inv.email
            && c.consumed_at
                .is_some_and(|t| now < t + Duration::minutes(PROOF_TTL_MINUTES)))
    }

    /// Accepts the invitation for the browser that proved the mailbox: the
    /// guest becomes Accepted with the mailbox as its identity.
    pub async fn accept(
        &self,
        inv: &Invitation,
        code_id: Uuid,
        binding: &str,
    ) -> Result<User, RedeemError> {
        let user = self.check_redeemable(inv).await?;
        if !self.has_proven_mailbox(inv, code_id, binding).await? {
            return Err(RedeemError::CodeSpent);
        }
        self.accept_with(inv, user, Identity::email_otp(&inv.email))
            .await
    }

    /// Accepts the invitation for a guest who signed in at their home IdP.
    /// The invited mailbox must be proven: either the home IdP asserted it as
    /// verified, or this browser entered a code sent to it (`mailbox_code`).
    /// The guest's identity becomes (issuer, subject), never the email.
    pub async fn accept_federated(
        &self,
        inv: &Invitation,
        proof: &FederatedProof,
        mailbox_code: Option<Uuid>,
        binding: &str,
    ) -> Result<User, RedeemError> {
        let user = self.check_redeemable(inv).await?;
        let proven = proof.proves_mailbox(inv)
            || match mailbox_code {
                Some(id) => self.has_proven_mailbox(inv, id, binding).await?,
                None => false,
            };
        if !proven {
            return Err(RedeemError::CodeSpent);
        }
        let identity = Identity::federated(&proof.issuer, &proof.subject);
        if let Some(other) = self
            .users
            .find_user_by_identity(&identity.issuer, &identity.issuer_assigned_id)
            .await?
            && other.id != user.id
        {
            return Err(RedeemError::IdentityInUse);
        }
        self.accept_with(inv, user, identity).await
    }

    async fn accept_with(
        &self,
        inv: &Invitation,
        user: User,
        identity: Identity,
    ) -> Result<User, RedeemError> {
        let now = self.clock.now();
        let mut guest = user.clone();
        guest.external_user_state = Some(ExternalUserState::Accepted);
        guest.external_user_state_changed_at = Some(now);
        // Only a proven mailbox gets here (a code, or the home IdP's verified claim).
        guest.email_verified = true;
        if !guest.identities.contains(&identity) {
            guest.identities.push(identity);
        }
        guest.updated_at = now;
        let actor = Actor {
            kind: ActorKind::User,
            id: guest.id.to_string(),
            display_name: guest.display_name.clone(),
        };
        let mut accepted = inv.clone();
        accepted.state = InvitationState::Accepted;
        accepted.accepted_at = Some(now);
        accepted.updated_at = now;
        let audit = vec![
            AuditEntry::new(
                now,
                &actor,
                "Redeem external user invite",
                CATEGORY_INVITATIONS,
                "Invitation",
                inv.id,
                &inv.email,
            )
            .before(inv.audit_view())
            .after(accepted.audit_view()),
            crate::audit::for_user(now, &actor, "Update user", &guest)
                .before(user.audit_view())
                .after(guest.audit_view()),
        ];
        if !self.repo.accept_invitation(inv, &guest, &audit).await? {
            return Err(RedeemError::Link(RedeemProblem::InvalidLink));
        }
        Ok(guest)
    }

    /// The guest whose bound home identity is (issuer, subject), if it may
    /// sign in now. Never looked up by email: a different home account that
    /// shows the same address is not this guest.
    pub async fn federated_guest(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>, RedeemError> {
        let now = self.clock.now();
        Ok(self
            .users
            .find_user_by_identity(issuer, subject)
            .await?
            .filter(|u| {
                u.user_type == UserType::Guest
                    && u.external_user_state == Some(ExternalUserState::Accepted)
                    && u.identities.contains(&Identity::federated(issuer, subject))
                    && u.can_sign_in(now)
            }))
    }

    /// Re-opens an invitation from its id and link generation (a federation
    /// flow carries them instead of the link's MAC); a resend meanwhile, or
    /// anything that stops redemption, makes it fail.
    pub async fn open_by_generation(
        &self,
        id: Uuid,
        link_generation: i32,
    ) -> Result<Invitation, RedeemError> {
        let inv = self
            .repo
            .find_invitation(id)
            .await?
            .filter(|i| i.link_generation == link_generation)
            .ok_or(RedeemError::Link(RedeemProblem::InvalidLink))?;
        self.check_redeemable(&inv).await?;
        Ok(inv)
    }

    /// A returning guest asks for a sign-in code. Unknown or disabled
    /// addresses get a code id too (nothing is sent), so the answer does not
    /// tell who is a guest here.
    pub async fn send_signin_code(
        &self,
        email: &str,
        interaction_id: &str,
        binding: &str,
    ) -> Result<Uuid, RedeemError> {
        let Ok(email) = normalize_mail(email) else {
            return Ok(Uuid::now_v7());
        };
        let guest = self.users.find_user_by_mail(&email).await?;
        let usable = guest.is_some_and(|u| {
            u.user_type == UserType::Guest
                && u.external_user_state == Some(ExternalUserState::Accepted)
                && u.identities.contains(&Identity::email_otp(&email))
                && u.can_sign_in(self.clock.now())
        });
        if !usable {
            return Ok(Uuid::now_v7());
        }
        self.send_code(PURPOSE_SIGNIN, interaction_id, &email, binding)
            .await
    }

    /// The guest whose sign-in code this is, once the right code is typed.
    pub async fn verify_signin_code(
        &self,
        code_id: Uuid,
        interaction_id: &str,
        binding: &str,
        code: &str,
    ) -> Result<User, RedeemError> {
        let c = self
            .own_code(code_id, PURPOSE_SIGNIN, interaction_id, binding)
            .await?;
        self.check(&c, code).await?;
        let user = self
            .users
            .find_user_by_identity(Identity::MAIL_ISSUER, &c.email)
            .await?
            .filter(|u| u.can_sign_in(self.clock.now()))
            .ok_or(RedeemError::CodeSpent)?;
        Ok(user)
    }

    /// Sends a second-factor code to the mailbox of `user_id`, who signed in
    /// with something else in the interaction `interaction_id`.
    pub async fn send_second_factor_code(
        &self,
        user_id: Uuid,
        interaction_id: &str,
        binding: &str,
    ) -> Result<(Uuid, String), RedeemError> {
        let user = self
            .users
            .find_user(user_id)
            .await?
            .filter(|u| u.can_sign_in(self.clock.now()))
            .ok_or(RedeemError::CodeSpent)?;
        let id = self
            .send_code(PURPOSE_SECOND_FACTOR, interaction_id, &user.mail, binding)
            .await?;
        Ok((id, user.mail))
    }

    /// Checks a second-factor code: it must be this browser's, for this
    /// interaction, sent to this user's mailbox.
    pub async fn verify_second_factor_code(
        &self,
        user_id: Uuid,
        code_id: Uuid,
        interaction_id: &str,
        binding: &str,
        code: &str,
    ) -> Result<(), RedeemError> {
        let c = self
            .own_code(code_id, PURPOSE_SECOND_FACTOR, interaction_id, binding)
            .await?;
        let user = self
            .users
            .find_user(user_id)
            .await?
            .ok_or(RedeemError::CodeSpent)?;
        if user.mail != c.email {
            return Err(RedeemError::CodeSpent);
        }
        self.check(&c, code).await
    }

    /// The invitation behind a block link.
    pub async fn open_block_link(&self, id: &str, token: &str) -> Result<Invitation, RedeemError> {
        let bad = || RedeemError::Link(RedeemProblem::InvalidLink);
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        let inv = self.repo.find_invitation(id).await?.ok_or_else(bad)?;
        if !self.block_matches(&inv, token) {
            return Err(bad());
        }
        Ok(inv)
    }

    /// The recipient blocks further invitations; a pending one is revoked.
    pub async fn block(&self, inv: &Invitation) -> Result<(), RedeemError> {
        let now = self.clock.now();
        let actor = Actor {
            kind: ActorKind::User,
            id: inv.email.clone(),
            display_name: inv.email.clone(),
        };
        let audit = AuditEntry::new(
            now,
            &actor,
            "Block invitations",
            CATEGORY_INVITATIONS,
            "Invitation",
            inv.id,
            &inv.email,
        );
        let revoke = (inv.state == InvitationState::Pending).then_some(inv);
        self.repo
            .block_recipient(&inv.email, revoke, &[audit], now)
            .await?;
        Ok(())
    }
}

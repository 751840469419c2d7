//! Invitations as first-class objects, and the repository trait storage
//! implements for them (with the one-time codes and the block list).

use crate::DirectoryError;
use crate::audit::{Actor, AuditEntry};
use crate::users::{User, UserType};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::OutgoingMail;
use serde::Serialize;
use uuid::Uuid;

/// What is stored; `Expired` is derived from `expires_at` (see [`Invitation::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Accepted,
    Revoked,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Revoked => "revoked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(InvitationState::Pending),
            "accepted" => Some(InvitationState::Accepted),
            "revoked" => Some(InvitationState::Revoked),
            _ => None,
        }
    }
}

/// What the API shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum InvitationStatus {
    PendingAcceptance,
    Accepted,
    Expired,
    Revoked,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::PendingAcceptance => "PendingAcceptance",
            InvitationStatus::Accepted => "Accepted",
            InvitationStatus::Expired => "Expired",
            InvitationStatus::Revoked => "Revoked",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            InvitationStatus::PendingAcceptance,
            InvitationStatus::Accepted,
            InvitationStatus::Expired,
            InvitationStatus::Revoked,
        ]
        .into_iter()
        .find(|x| x.as_str().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: Uuid,
    pub user_id: Uuid,
    /// The invited mailbox, lower-cased. Redemption must prove it.
    pub email: String,
    pub display_name: Option<String>,
    pub redirect_url: String,
    pub message: Option<String>,
    pub message_language: Option<String>,
    pub cc_recipients: Vec<String>,
    pub send_message: bool,
    pub user_type: UserType,
    pub state: InvitationState,
    /// Bumped by every resend: the redeem link is a MAC over (id, generation),
    /// so a new generation kills every older link. Nothing secret is stored.
    pub link_generation: i32,
    pub expires_at: DateTime<Utc>,
    pub invited_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The group an app owner's invitation adds the guest to (`grantedGroup`).
    pub granted_group_id: Option<Uuid>,
}

impl Invitation {
    pub fn status(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.state {
            InvitationState::Accepted => InvitationStatus::Accepted,
            InvitationState::Revoked => InvitationStatus::Revoked,
            InvitationState::Pending if now >= self.expires_at => InvitationStatus::Expired,
            InvitationState::Pending => InvitationStatus::PendingAcceptance,
        }
    }

    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "invitedUserEmailAddress": self.email,
            "inviteRedirectUrl": self.redirect_url,
            "state": self.state.as_str(),
            "linkGeneration": self.link_generation,
            "expiresAt": self.expires_at,
        })
    }
}

/// The import row an invitation was made for; its outcome is written in the
/// invitation's transaction, so a resumed import never repeats or loses it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRowOutcome {
    pub job_id: Uuid,
    pub row_number: i64,
    pub outcome: crate::import::RowOutcome,
}

/// Everything one invitation writes, in one transaction.
#[derive(Debug, Clone)]
pub struct InvitationWrite {
    /// A new guest to insert, or an existing user to update (reset redemption).
    pub user: UserWrite,
    pub invitation: Invitation,
    /// Revoked in the same transaction (the pending invitation a reset replaces).
    pub supersede: Option<Uuid>,
    pub mail: Option<OutgoingMail>,
    pub audit: Vec<AuditEntry>,
    pub import_row: Option<ImportRowOutcome>,
    /// The group the guest joins with the invitation, and the audit entry
    /// written only if the membership is new. A group deleted meanwhile
    /// undoes the whole invitation.
    pub join_group: Option<(Uuid, AuditEntry)>,
}

#[derive(Debug, Clone)]
pub enum UserWrite {
    Create(User),
    /// Update the user (identities replaced); `cut_off` also ends its sessions
    /// and revokes its grants and consents (a reset redemption).
    Update {
        user: User,
        cut_off: bool,
    },
    Unchanged,
}

/// A filter over invitations, newest first.
#[derive(Debug, Clone, Default)]
pub struct InvitationQuery {
    pub status: Option<InvitationStatus>,
    pub email: Option<String>,
    pub user_id: Option<Uuid>,
    /// Needed to tell pending from expired.
    pub now: Option<DateTime<Utc>>,
    /// Only ids less than this one (the last id of the previous page).
    pub before: Option<Uuid>,
    pub limit: u64,
}

/// A one-time passcode sent to a mailbox. The code is stored as a keyed hash
/// over (id, code); `binding_hash` ties it to the browser that asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct OneTimeCode {
    pub id: Uuid,
    /// "redeem" (an invitation) or "signin" (an interaction).
    pub purpose: String,
    /// The invitation id or the interaction id.
    pub subject: String,
    pub email: String,
    pub code_hash: String,
    pub binding_hash: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// The answer to a code attempt, decided atomically in storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code, first use: consumed now.
    Accepted,
    /// Wrong code; the attempts left.
    Wrong { attempts_left: i32 },
    /// Expired, consumed, or out of attempts.
    Spent,
}

#[async_trait]
pub trait InvitationRepo: crate::collaboration::CollaborationRepo + Send + Sync {
    /// Writes the user change, the invitation, the queued mail, the import row
    /// outcome and the audit entries in one transaction. A `Conflict` means a
    /// concurrent invite created the same guest first.
    async fn save_invitation(&self, w: &InvitationWrite) -> Result<(), DirectoryError>;
    async fn find_invitation(&self, id: Uuid) -> Result<Option<Invitation>, DirectoryError>;
    async fn list_invitations(
        &self,
        q: &InvitationQuery,
    ) -> Result<Vec<Invitation>, DirectoryError>;
    /// Updates the invitation if it is still in state `expected` with the
    /// stored `link_generation` of `expected_generation` (resend, revoke);
    /// writes `mail` and `audit` with it. False when it changed meanwhile.
    async fn update_invitation(
        &self,
        inv: &Invitation,
        expected: InvitationState,
        expected_generation: i32,
        mail: Option<&OutgoingMail>,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError>;
    /// Marks the invitation accepted if it is still pending with its
    /// `link_generation`, and saves the guest (now Accepted, with its identity)
    /// and the audit entries, in one transaction. False when the invitation
    /// changed meanwhile (resent, revoked, accepted elsewhere).
    async fn accept_invitation(
        &self,
        inv: &Invitation,
        guest: &User,
        audit: &[AuditEntry],
    ) -> Result<bool, DirectoryError>;

    /// Saves a new code and queues its email in one transaction.
    async fn create_code(&self, c: &OneTimeCode, mail: &OutgoingMail)
    -> Result<(), DirectoryError>;
    /// [`create_code`](Self::create_code) unless `limit` codes were sent to
    /// `c.email` since `since`; then nothing is written and the answer is
    /// false. Atomic: concurrent calls, on any nodes, never exceed `limit`.
    async fn create_code_within_limit(
        &self,
        c: &OneTimeCode,
        mail: &OutgoingMail,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<bool, DirectoryError>;
    async fn find_code(&self, id: Uuid) -> Result<Option<OneTimeCode>, DirectoryError>;
    /// How many codes were sent to `email` since `since` (send rate limit).
    async fn count_codes_since(
        &self,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, DirectoryError>;
    /// Checks `code_hash` against the code atomically: consumes it when right
    /// and unexpired, counts the attempt when wrong; after `max_attempts` wrong
    /// tries it is spent.
    async fn check_code(
        &self,
        id: Uuid,
        code_hash: &str,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, DirectoryError>;

    /// Adds the mailbox to the block list (idempotent), revoking `revoke`
    /// (if still pending) in the same transaction.
    async fn block_recipient(
        &self,
        email: &str,
        revoke: Option<&Invitation>,
        audit: &[AuditEntry],
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError>;
    async fn is_blocked(&self, email: &str) -> Result<bool, DirectoryError>;
    /// The origins of every registered application's redirect and
    /// post-logout URIs: where an invitation may send a guest.
    async fn application_origins(&self) -> Result<Vec<String>, DirectoryError>;
}

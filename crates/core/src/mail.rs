//! An email Portico wants to send. Feature crates build it (rendered by the UI's
//! templates) and storage queues it in the same transaction as the change that
//! caused it; `portico-mail` delivers it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a queued message is for; used in logs, metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    OneTimeCode,
    /// Tells a user that one of their MFA recovery codes was used.
    RecoveryCodeUsed,
    /// A request to join a group (to its owners) or the decision (to the requester).
    GroupJoinRequest,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::OneTimeCode => "one_time_code",
            MailKind::RecoveryCodeUsed => "recovery_code_used",
            MailKind::GroupJoinRequest => "group_join_request",
        }
    }
    /// The queue lane: 0 for mail someone is waiting for right now (a
    /// one-time code, a security notice), 1 for bulk (invitations, which an
    /// import queues by the thousand). Lane 0 is always claimed first.
    pub fn lane(self) -> i16 {
        match self {
            MailKind::Invitation | MailKind::GroupJoinRequest => 1,
            MailKind::OneTimeCode | MailKind::RecoveryCodeUsed => 0,
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invitation" => Some(MailKind::Invitation),
            "one_time_code" => Some(MailKind::OneTimeCode),
            "recovery_code_used" => Some(MailKind::RecoveryCodeUsed),
            "group_join_request" => Some(MailKind::GroupJoinRequest),
            _ => None,
        }
    }
}

/// A message with a plain-text and an HTML part. `to` and `cc` are addresses
/// the caller has already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub id: Uuid,
    pub kind: MailKind,
    pub to: String,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
}

//! What the directory's emails say (invitation, one-time code, recovery code
//! used). The UI renders them (it owns the templates); the directory only
//! hands over the facts, and queues the result in the same transaction as the
//! change that caused it.

/// The facts of an invitation email.
#[derive(Debug, Clone)]
pub struct InvitationMessage {
    pub organization: String,
    pub inviter_name: String,
    pub invitee_email: String,
    pub invitee_name: Option<String>,
    /// The inviter's own words, plain text: the renderer escapes it.
    pub message: Option<String>,
    pub language: Option<String>,
    pub redeem_url: String,
    pub block_url: String,
    pub privacy_url: Option<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The facts of a one-time passcode email.
#[derive(Debug, Clone)]
pub struct CodeMessage {
    pub organization: String,
    pub email: String,
    pub code: String,
    pub minutes_valid: i64,
}

/// A rendered message: subject, plain text and HTML.
#[derive(Debug, Clone)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub trait MailComposer: Send + Sync {
    fn invitation(&self, m: &InvitationMessage) -> RenderedMail;
    fn one_time_code(&self, m: &CodeMessage) -> RenderedMail;
    fn recovery_code_used(&self, m: &crate::mfa::RecoveryCodeUsedMessage) -> RenderedMail;
}

//! The MFA model: what a user has registered, what storage keeps, the errors,
//! and the repository trait storage implements.

use crate::DirectoryError;
use crate::audit::AuditEntry;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portico_core::OutgoingMail;
use uuid::Uuid;

/// What the MFA service needs to know about the organization.
#[derive(Debug, Clone)]
pub struct MfaConfig {
    /// The issuer label authenticator apps show (the organization's name).
    pub issuer: String,
    /// Wrong codes per user, or per IP address, that lock further checks.
    pub lockout_threshold: u32,
    /// The window failures are counted in; a lockout ends when the failure
    /// that caused it is this old.
    pub lockout_window: Duration,
}

impl MfaConfig {
    /// Five failures within 15 minutes, per user or per IP address.
    pub fn new(organization: &str) -> Self {
        Self {
            issuer: organization.to_string(),
            lockout_threshold: 5,
            lockout_window: Duration::minutes(15),
        }
    }
}

/// A confirmed authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpMethod {
    pub id: Uuid,
    /// When the enrolment was started.
    pub created_at: DateTime<Utc>,
    /// When the user proved the app works: from then on it is a method.
    pub confirmed_at: DateTime<Utc>,
}

/// A user's second factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaMethods {
    /// The confirmed authenticator app; a pending enrolment is not listed.
    pub totp: Option<TotpMethod>,
    pub recovery_codes_left: u32,
}

/// What the enrolment page shows once: the secret for manual entry, the
/// `otpauth://` URI and the same URI as a QR code (SVG). `Debug` hides them.
#[derive(Clone)]
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the code is not right ({attempts_left} attempts left)")]
    WrongCode { attempts_left: u32 },
    #[error("too many wrong codes; try again after {until}")]
    Locked { until: DateTime<Utc> },
    /// The code's time step was already used (RFC 6238 §5.2).
    #[error("this code was already used; wait for the next one")]
    Replayed,
    #[error("no such method is registered")]
    NotEnrolled,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DirectoryError> for MfaError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Internal(e) => MfaError::Internal(e),
            DirectoryError::NotFound => MfaError::NotEnrolled,
            other => MfaError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

/// A stored authenticator app, pending (`confirmed_at` is `None`) or confirmed.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredTotp {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `Sealer` output over the raw secret, bound to the user.
    pub secret_sealed: String,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last accepted time step (unix time / 30).
    pub last_used_step: Option<i64>,
}

impl std::fmt::Debug for StoredTotp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTotp")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish_non_exhaustive()
    }
}

/// A recovery code as stored: its keyed hash only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecoveryCode {
    pub id: Uuid,
    pub user_id: Uuid,
    pub code_hash: String,
    pub created_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Confirming an enrolment: the pending method becomes the user's app, with
/// its first step used, and the recovery codes are replaced.
#[derive(Debug, Clone)]
pub struct TotpConfirmation {
    pub user_id: Uuid,
    pub totp_id: Uuid,
    pub step: i64,
    pub at: DateTime<Utc>,
    pub recovery_codes: Vec<StoredRecoveryCode>,
    pub audit: AuditEntry,
}

/// What storage writes with a consumed recovery code, built once it knows how
/// many codes are left.
#[derive(Debug, Clone)]
pub struct RecoveryCodeUse {
    pub mail: OutgoingMail,
    pub audit: AuditEntry,
}

/// Builds the email and audit entry from the number of codes left.
pub type ComposeRecoveryCodeUse<'a> = dyn Fn(u32) -> RecoveryCodeUse + Send + Sync + 'a;

/// Failure times inside the lockout window, newest first, at most `limit` each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecentFailures {
    pub by_user: Vec<DateTime<Utc>>,
    pub by_ip: Vec<DateTime<Utc>>,
}

/// The facts of the "a recovery code was used" email.
#[derive(Debug, Clone)]
pub struct RecoveryCodeUsedMessage {
    pub organization: String,
    pub email: String,
    pub display_name: String,
    pub used_at: DateTime<Utc>,
    pub codes_left: u32,
}

#[async_trait]
pub trait MfaRepo: Send + Sync {
    /// The user's authenticator apps: at most one confirmed and one pending.
    async fn find_totps(&self, user_id: Uuid) -> Result<Vec<StoredTotp>, DirectoryError>;
    /// Saves a pending enrolment, replacing the user's previous pending one
    /// (a confirmed app stays until the new one is confirmed).
    async fn save_pending_totp(&self, t: &StoredTotp) -> Result<(), DirectoryError>;
    /// In one transaction: confirms the pending app (still pending, else
    /// false and nothing is written) with `step` used, deletes the user's
    /// other apps, replaces the recovery codes and writes the audit entry.
    async fn confirm_totp(&self, c: &TotpConfirmation) -> Result<bool, DirectoryError>;
    /// Marks `step` used on the confirmed app `id` when no later or equal step
    /// was used: one conditional UPDATE, true for exactly one caller.
    async fn consume_totp_step(&self, id: Uuid, step: i64) -> Result<bool, DirectoryError>;

    async fn count_recovery_codes_left(&self, user_id: Uuid) -> Result<u32, DirectoryError>;
    /// Replaces all the user's recovery codes, with the audit entry, in one transaction.
    async fn replace_recovery_codes(
        &self,
        user_id: Uuid,
        codes: &[StoredRecoveryCode],
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError>;
    /// Consumes the unused code `code_hash` of the user (one conditional
    /// UPDATE) and, in the same transaction, queues the email and writes the
    /// audit entry `compose` builds from the number of codes left. `None`
    /// when no unused code matched (nothing written).
    async fn consume_recovery_code(
        &self,
        user_id: Uuid,
        code_hash: &str,
        at: DateTime<Utc>,
        compose: &ComposeRecoveryCodeUse<'_>,
    ) -> Result<Option<u32>, DirectoryError>;

    /// Deletes the user's apps (pending and confirmed) and recovery codes,
    /// with the audit entry, in one transaction.
    async fn delete_methods(&self, user_id: Uuid, audit: &AuditEntry)
    -> Result<(), DirectoryError>;

    /// Records a wrong code; failures older than `purge_before` (of anyone)
    /// are deleted on the way.
    async fn record_failure(
        &self,
        user_id: Uuid,
        ip: &str,
        at: DateTime<Utc>,
        purge_before: DateTime<Utc>,
    ) -> Result<(), DirectoryError>;
    /// Failures after `since` for the user and for the IP address.
    async fn recent_failures(
        &self,
        user_id: Uuid,
        ip: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<RecentFailures, DirectoryError>;
}

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

/// A registered passkey, as the account page and the admin API list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyMethod {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// The authenticator model (AAGUID), when the registration named one.
    pub aaguid: Option<String>,
}

/// A user's second factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaMethods {
    /// The confirmed authenticator app; a pending enrolment is not listed.
    pub totp: Option<TotpMethod>,
    pub passkeys: Vec<PasskeyMethod>,
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

/// A stored passkey: webauthn-rs's credential (public key, counter, flags)
/// as JSON. Nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub user_id: Uuid,
    /// base64url (unpadded) of the WebAuthn credential id.
    pub credential_id: String,
    pub name: String,
    pub credential: String,
    pub counter: i64,
    pub aaguid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredPasskey {
    pub fn method(&self) -> PasskeyMethod {
        PasskeyMethod {
            id: self.id,
            name: self.name.clone(),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            aaguid: self.aaguid.clone(),
        }
    }
}

/// What a WebAuthn ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    Register,
    Authenticate,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Authenticate => "authenticate",
        }
    }
}

/// A WebAuthn ceremony in flight: webauthn-rs's state between the options
/// sent to the browser and its answer. Single use; short-lived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCeremony {
    pub id: Uuid,
    /// `None` for a discoverable sign-in (the passkey will say who).
    pub user_id: Option<Uuid>,
    /// What asked for it: `interaction:{id}` or `account:{grant id}`.
    pub binding: String,
    pub kind: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A new passkey, written with its audit entry (and, when it is the user's
/// first method, their recovery codes) in one transaction.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub passkey: StoredPasskey,
    pub recovery_codes: Option<Vec<StoredRecoveryCode>>,
    pub audit: AuditEntry,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The issuer's host is an IP address: browsers refuse it as a relying party id.
    #[error("passkeys are not available at this address")]
    Unavailable,
    /// Unknown, used, expired, or asked for by another interaction or session.
    #[error("this passkey request has expired")]
    Expired,
    /// The browser's answer did not verify, or named an unknown credential.
    #[error("the passkey was not accepted")]
    Refused,
    #[error("this passkey is already registered")]
    AlreadyRegistered,
    #[error("no such passkey")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DirectoryError> for PasskeyError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound => PasskeyError::NotFound,
            DirectoryError::Internal(e) => PasskeyError::Internal(e),
            other => PasskeyError::Internal(anyhow::anyhow!("{other}")),
        }
    }
}

impl From<MfaError> for PasskeyError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::Internal(e) => PasskeyError::Internal(e),
            MfaError::NotEnrolled => PasskeyError::NotFound,
            other => PasskeyError::Internal(anyhow::anyhow!("{other}")),
        }
    }
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

    /// Deletes the user's apps (pending and confirmed), passkeys and
    /// recovery codes, with the audit entry, in one transaction.
    async fn delete_methods(&self, user_id: Uuid, audit: &AuditEntry)
    -> Result<(), DirectoryError>;
    /// Deletes the user's apps (pending and confirmed), and their recovery
    /// codes with them when `with_recovery_codes`, with the audit entry.
    async fn delete_totps(
        &self,
        user_id: Uuid,
        with_recovery_codes: bool,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError>;

    async fn find_passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>, DirectoryError>;
    /// The passkey with this WebAuthn credential id, whoever it belongs to.
    async fn find_passkey_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, DirectoryError>;
    /// In one transaction: the passkey (false, nothing written, when its
    /// credential id is registered already), the recovery codes when given,
    /// and the audit entry.
    async fn add_passkey(&self, r: &NewPasskey) -> Result<bool, DirectoryError>;
    /// After a sign-in with it: the updated credential, its counter and the time.
    async fn record_passkey_use(
        &self,
        id: Uuid,
        credential: &str,
        counter: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DirectoryError>;
    /// Renames the user's passkey `id` with the audit entry; false when it is not theirs.
    async fn rename_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;
    /// Deletes the user's passkey `id` (and the recovery codes when
    /// `with_recovery_codes`) with the audit entry; false when it is not theirs.
    async fn delete_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        with_recovery_codes: bool,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError>;

    /// Saves a ceremony; expired ones (of anyone) and the earlier one of the
    /// same binding and kind are deleted on the way.
    async fn save_ceremony(&self, c: &StoredCeremony) -> Result<(), DirectoryError>;
    /// Takes the ceremony `id` of `binding` and `kind` out (one DELETE whose
    /// row count decides): `Some` for exactly one caller, expired or not.
    async fn consume_ceremony(
        &self,
        id: Uuid,
        binding: &str,
        kind: &str,
    ) -> Result<Option<StoredCeremony>, DirectoryError>;

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

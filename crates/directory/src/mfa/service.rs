//! The MFA service: enrol and confirm an authenticator app, verify its codes
//! and recovery codes under the lockout, replace and remove methods.
//! Passkeys are in `passkey.rs`.

use super::model::*;
use super::recovery::{self, RECOVERY_CODE_COUNT, RECOVERY_PURPOSE, normalize_recovery_code};
use super::totp;
use crate::audit::{Actor, ActorKind};
use crate::invitations::MailComposer;
use crate::users::{User, UserRepo};
use chrono::{DateTime, Utc};
use portico_core::{Clock, MailKind, OutgoingMail, Sealer, SecretHasher};
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Clone)]
pub struct Mfa {
    pub(super) repo: Arc<dyn MfaRepo>,
    users: Arc<dyn UserRepo>,
    pub(super) clock: Arc<dyn Clock>,
    hasher: SecretHasher,
    sealer: Sealer,
    composer: Arc<dyn MailComposer>,
    pub(super) config: MfaConfig,
    /// Woken after a committed write that queued mail (the mail worker listens).
    mail_queued: Arc<Notify>,
    /// The WebAuthn relying party; `None` where passkeys cannot work.
    pub(super) webauthn: Option<Arc<webauthn_rs::Webauthn>>,
}

/// The sealing context of a user's TOTP secret: a sealed secret moved to
/// another user's row does not open.
fn seal_context(user_id: Uuid) -> String {
    format!("totp:{user_id}")
}

/// What failures are counted under for an address: IPv4 as is, IPv6 by its
/// /64 (one host usually holds a whole /64, so single addresses are free to it).
fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = a.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl Mfa {
    pub fn new(
        repo: Arc<dyn MfaRepo>,
        users: Arc<dyn UserRepo>,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
        sealer: Sealer,
        composer: Arc<dyn MailComposer>,
        config: MfaConfig,
    ) -> Self {
        Self {
            repo,
            users,
            clock,
            hasher,
            sealer,
            composer,
            config,
            mail_queued: Arc::new(Notify::new()),
            webauthn: None,
        }
    }

    /// Wakes `notify` whenever a "recovery code used" email was queued.
    pub fn with_mail_notifier(mut self, notify: Arc<Notify>) -> Self {
        self.mail_queued = notify;
        self
    }

    pub fn config(&self) -> &MfaConfig {
        &self.config
    }

    /// The user's confirmed authenticator app and how many recovery codes are left.
    pub async fn methods(&self, user_id: Uuid) -> Result<MfaMethods, MfaError> {
        let totp = self.confirmed(user_id).await?.map(|t| TotpMethod {
            id: t.id,
            created_at: t.created_at,
            confirmed_at: t.confirmed_at.unwrap_or(t.created_at),
        });
        let recovery_codes_left = self.repo.count_recovery_codes_left(user_id).await?;
        let passkeys = self
            .repo
            .find_passkeys(user_id)
            .await?
            .iter()
            .map(StoredPasskey::method)
            .collect();
        Ok(MfaMethods {
            totp,
            passkeys,
            recovery_codes_left,
        })
    }

    /// Whether the user has a confirmed app or a passkey (recovery codes alone are not one).
    pub async fn has_strong_method(&self, user_id: Uuid) -> Result<bool, MfaError> {
        Ok(self.confirmed(user_id).await?.is_some()
            || !self.repo.find_passkeys(user_id).await?.is_empty())
    }

    /// Starts (or restarts) enrolling an authenticator app: a new 160-bit
    /// secret, saved sealed as the user's pending app. A confirmed app keeps
    /// working until the new one is confirmed.
    pub async fn start_totp_enrolment(
        &self,
        user_id: Uuid,
        account_label: &str,
    ) -> Result<TotpEnrolment, MfaError> {
        let secret = totp_rs::Secret::generate();
        let enrolment = self.enrolment(secret.as_bytes(), account_label)?;
        let secret_sealed = self
            .sealer
            .seal(&seal_context(user_id), secret.as_bytes())
            .map_err(|e| MfaError::Internal(e.into()))?;
        let pending = StoredTotp {
            id: Uuid::now_v7(),
            user_id,
            secret_sealed,
            created_at: self.clock.now(),
            confirmed_at: None,
            last_used_step: None,
        };
        self.repo.save_pending_totp(&pending).await?;
        Ok(enrolment)
    }

    /// The user's pending enrolment, shown again (a reload or a wrong code
    /// keeps the secret already scanned), or a new one when none is pending.
    pub async fn current_totp_enrolment(
        &self,
        user_id: Uuid,
        account_label: &str,
    ) -> Result<TotpEnrolment, MfaError> {
        let pending = self
            .repo
            .find_totps(user_id)
            .await?
            .into_iter()
            .find(|t| t.confirmed_at.is_none());
        match pending {
            Some(p) => {
                let secret = self
                    .sealer
                    .open(&seal_context(user_id), &p.secret_sealed)
                    .map_err(|e| MfaError::Internal(e.into()))?;
                self.enrolment(&secret, account_label)
            }
            None => self.start_totp_enrolment(user_id, account_label).await,
        }
    }

    /// What the enrolment page shows for `secret`: the key, the otpauth URI and its QR code.
    fn enrolment(&self, secret: &[u8], account_label: &str) -> Result<TotpEnrolment, MfaError> {
        let t = totp::build(secret, &self.config.issuer, account_label)?;
        let otpauth_uri = t.to_url().map_err(|e| {
            MfaError::Internal(anyhow::anyhow!("cannot build the otpauth URI: {e}"))
        })?;
        let qr_svg = totp::qr_svg(&otpauth_uri)?;
        Ok(TotpEnrolment {
            secret_base32: totp_rs::Secret::from(secret).to_base32(),
            otpauth_uri,
            qr_svg,
        })
    }

    /// Confirms the pending app with a code from it. It replaces any previous
    /// app, and the user gets ten new recovery codes, returned to be shown once.
    pub async fn confirm_totp(
        &self,
        user_id: Uuid,
        code: &str,
        ip: IpAddr,
        actor: &Actor,
    ) -> Result<Vec<String>, MfaError> {
        let now = self.clock.now();
        let pending = self
            .repo
            .find_totps(user_id)
            .await?
            .into_iter()
            .find(|t| t.confirmed_at.is_none())
            .ok_or(MfaError::NotEnrolled)?;
        self.reject_locked(user_id, ip, now).await?;
        let Some(step) = self.matching_step(&pending, code, now)? else {
            return Err(self.wrong_code(user_id, ip, now).await);
        };
        let user = self.user(user_id).await?;
        let (codes, recovery_codes) = self.new_recovery_codes(user_id, now);
        let audit = crate::audit::for_user(now, actor, "Registered authenticator app", &user)
            .after(json!({ "authenticatorApp": true, "recoveryCodesLeft": codes.len() }));
        let confirmation = TotpConfirmation {
            user_id,
            totp_id: pending.id,
            step,
            at: now,
            recovery_codes,
            audit,
        };
        if self.repo.confirm_totp(&confirmation).await? {
            Ok(codes)
        } else {
            // Replaced or confirmed meanwhile (another tab, another node).
            Err(MfaError::NotEnrolled)
        }
    }

    /// Checks a code from the user's confirmed app (one step of skew either
    /// way). Each time step is accepted once (RFC 6238 §5.2).
    pub async fn verify_totp(&self, user_id: Uuid, code: &str, ip: IpAddr) -> Result<(), MfaError> {
        let now = self.clock.now();
        let app = self
            .confirmed(user_id)
            .await?
            .ok_or(MfaError::NotEnrolled)?;
        self.reject_locked(user_id, ip, now).await?;
        let Some(step) = self.matching_step(&app, code, now)? else {
            return Err(self.wrong_code(user_id, ip, now).await);
        };
        if self.repo.consume_totp_step(app.id, step).await? {
            Ok(())
        } else {
            Err(MfaError::Replayed)
        }
    }

    /// Accepts one of the user's unused recovery codes, once. The user is
    /// told by email, with how many codes are left.
    pub async fn verify_recovery_code(
        &self,
        user_id: Uuid,
        code: &str,
        ip: IpAddr,
    ) -> Result<(), MfaError> {
        let now = self.clock.now();
        if self.repo.count_recovery_codes_left(user_id).await? == 0 {
            return Err(MfaError::NotEnrolled);
        }
        self.reject_locked(user_id, ip, now).await?;
        let Some(normalized) = normalize_recovery_code(code) else {
            return Err(self.wrong_code(user_id, ip, now).await);
        };
        let user = self.user(user_id).await?;
        let code_hash = self.hasher.hash(RECOVERY_PURPOSE, &normalized);
        let compose = |left: u32| self.recovery_code_use(&user, now, left);
        let used = self
            .repo
            .consume_recovery_code(user_id, &code_hash, now, &compose)
            .await?;
        match used {
            Some(_) => {
                self.mail_queued.notify_one();
                Ok(())
            }
            None => Err(self.wrong_code(user_id, ip, now).await),
        }
    }

    /// Ten new recovery codes; the old ones stop working. Needs a confirmed app.
    pub async fn regenerate_recovery_codes(
        &self,
        user_id: Uuid,
        actor: &Actor,
    ) -> Result<Vec<String>, MfaError> {
        if !self.has_strong_method(user_id).await? {
            return Err(MfaError::NotEnrolled);
        }
        let now = self.clock.now();
        let user = self.user(user_id).await?;
        let (codes, stored) = self.new_recovery_codes(user_id, now);
        let audit = crate::audit::for_user(now, actor, "Regenerated recovery codes", &user)
            .after(json!({ "recoveryCodesLeft": codes.len() }));
        self.repo
            .replace_recovery_codes(user_id, &stored, &audit)
            .await?;
        Ok(codes)
    }

    /// Removes the user's authenticator app (and a pending enrolment). The
    /// recovery codes go with it when no passkey remains for them to back.
    pub async fn remove_totp(&self, user_id: Uuid, actor: &Actor) -> Result<(), MfaError> {
        if self.repo.find_totps(user_id).await?.is_empty() {
            return Err(MfaError::NotEnrolled);
        }
        let before = self.methods(user_id).await?;
        let with_codes = before.passkeys.is_empty();
        let user = self.user(user_id).await?;
        let left = if with_codes {
            0
        } else {
            before.recovery_codes_left
        };
        let audit =
            crate::audit::for_user(self.clock.now(), actor, "Removed authenticator app", &user)
                .before(json!({
                    "authenticatorApp": before.totp.is_some(),
                    "recoveryCodesLeft": before.recovery_codes_left,
                }))
                .after(json!({ "authenticatorApp": false, "recoveryCodesLeft": left }));
        self.repo.delete_totps(user_id, with_codes, &audit).await?;
        Ok(())
    }

    /// An admin's "require re-registration": every method and recovery code
    /// is deleted, so the user registers again at the next sign-in.
    pub async fn reset_methods(&self, user_id: Uuid, actor: &Actor) -> Result<(), MfaError> {
        self.delete_methods(user_id, actor, "Required MFA re-registration")
            .await
    }

    async fn delete_methods(
        &self,
        user_id: Uuid,
        actor: &Actor,
        activity: &str,
    ) -> Result<(), MfaError> {
        let before = self.methods(user_id).await?;
        let user = self.user(user_id).await?;
        let audit = crate::audit::for_user(self.clock.now(), actor, activity, &user)
            .before(json!({
                "authenticatorApp": before.totp.is_some(),
                "passkeys": before.passkeys.len(),
                "recoveryCodesLeft": before.recovery_codes_left,
            }))
            .after(json!({ "authenticatorApp": false, "passkeys": 0, "recoveryCodesLeft": 0 }));
        self.repo.delete_methods(user_id, &audit).await?;
        Ok(())
    }

    async fn confirmed(&self, user_id: Uuid) -> Result<Option<StoredTotp>, MfaError> {
        Ok(self
            .repo
            .find_totps(user_id)
            .await?
            .into_iter()
            .find(|t| t.confirmed_at.is_some()))
    }

    pub(super) async fn user(&self, user_id: Uuid) -> Result<User, MfaError> {
        self.users
            .find_user(user_id)
            .await?
            .ok_or(MfaError::NotEnrolled)
    }

    /// Opens the app's secret and finds the step `code` belongs to.
    fn matching_step(
        &self,
        app: &StoredTotp,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, MfaError> {
        let secret = self
            .sealer
            .open(&seal_context(app.user_id), &app.secret_sealed)
            .map_err(|e| MfaError::Internal(e.into()))?;
        let t = totp::build(&secret, &self.config.issuer, "account")?;
        Ok(totp::matching_step(&t, code, now))
    }

    pub(super) fn new_recovery_codes(
        &self,
        user_id: Uuid,
        now: DateTime<Utc>,
    ) -> (Vec<String>, Vec<StoredRecoveryCode>) {
        let codes: Vec<String> = (0..RECOVERY_CODE_COUNT)
            .map(|_| recovery::generate())
            .collect();
        let stored = codes
            .iter()
            .filter_map(|c| normalize_recovery_code(c))
            .map(|n| StoredRecoveryCode {
                id: Uuid::now_v7(),
                user_id,
                code_hash: self.hasher.hash(RECOVERY_PURPOSE, &n),
                created_at: now,
                used_at: None,
            })
            .collect();
        (codes, stored)
    }

    fn recovery_code_use(&self, user: &User, now: DateTime<Utc>, left: u32) -> RecoveryCodeUse {
        let r = self.composer.recovery_code_used(&RecoveryCodeUsedMessage {
            organization: self.config.issuer.clone(),
            email: user.mail.clone(),
            display_name: user.display_name.clone(),
            used_at: now,
            codes_left: left,
        });
        let actor = Actor {
            kind: ActorKind::User,
            id: user.id.to_string(),
            display_name: user.display_name.clone(),
        };
        RecoveryCodeUse {
            mail: OutgoingMail {
                id: Uuid::now_v7(),
                kind: MailKind::RecoveryCodeUsed,
                to: user.mail.clone(),
                cc: Vec::new(),
                subject: r.subject,
                text: r.text,
                html: r.html,
                created_at: now,
            },
            audit: crate::audit::for_user(now, &actor, "Used recovery code", user)
                .after(json!({ "recoveryCodesLeft": left })),
        }
    }

    /// `Locked` while the user, or the address, has `lockout_threshold`
    /// failures in the window. The lock ends when the failure that reached
    /// the threshold leaves the window (with exactly that many, the oldest).
    async fn reject_locked(
        &self,
        user_id: Uuid,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> Result<(), MfaError> {
        let threshold = self.config.lockout_threshold.max(1);
        let window = self.config.lockout_window;
        let f = self
            .repo
            .recent_failures(user_id, &ip_key(ip), now - window, threshold)
            .await?;
        let lock_end = |times: &[DateTime<Utc>]| {
            times
                .get(threshold as usize - 1)
                .map(|nth_newest| *nth_newest + window)
        };
        match lock_end(&f.by_user).max(lock_end(&f.by_ip)) {
            Some(until) if now < until => Err(MfaError::Locked { until }),
            _ => Ok(()),
        }
    }

    /// Records a wrong code and says how many tries are left before the lock.
    async fn wrong_code(&self, user_id: Uuid, ip: IpAddr, now: DateTime<Utc>) -> MfaError {
        let threshold = self.config.lockout_threshold.max(1);
        let window = self.config.lockout_window;
        let key = ip_key(ip);
        let counted = async {
            self.repo
                .record_failure(user_id, &key, now, now - window)
                .await?;
            let f = self
                .repo
                .recent_failures(user_id, &key, now - window, threshold)
                .await?;
            Ok::<_, MfaError>(f.by_user.len().max(f.by_ip.len()))
        };
        match counted.await {
            Ok(n) => MfaError::WrongCode {
                attempts_left: threshold.saturating_sub(u32::try_from(n).unwrap_or(u32::MAX)),
            },
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let check = |ip: &str, key: &str| assert_eq!(ip_key(ip.parse().unwrap()), key, "{ip}");
        check("192.0.2.7", "192.0.2.7");
        check("::ffff:192.0.2.7", "192.0.2.7");
        check("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64");
        check("2001:db8:1:2::ffff", "2001:db8:1:2::/64");
    }
}

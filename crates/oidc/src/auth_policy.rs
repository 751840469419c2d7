//! The tenant's authentication policy (`/api/v1/policies/authenticationPolicy`):
//! when MFA applies, how long a second factor is remembered, whether the
//! mailbox may serve as a second factor, and passkey-only sign-in. Read by
//! the sign-in policy at every decision, so a change applies to the next step.

use crate::Provider;
use crate::store::{SettingsChange, StoreError};
use portico_policy::{MfaScope, TenantSettings};
use serde::Deserialize;

/// The longest time a second factor may be remembered: 30 days.
pub const MAX_REMEMBER_MFA_MINUTES: i64 = 30 * 24 * 60;

/// A PATCH of the policy; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticationPolicyPatch {
    pub require_mfa_for: Option<String>,
    pub remember_mfa_minutes: Option<i64>,
    pub email_otp_as_second_factor: Option<bool>,
    pub passkey_only_sign_in: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthenticationPolicyPatch {
    /// `p` with this patch applied, or what is wrong with it (naming the field).
    pub fn apply(&self, mut p: TenantSettings) -> Result<TenantSettings, String> {
        if let Some(v) = &self.require_mfa_for {
            p.require_mfa_for = MfaScope::parse(v).ok_or_else(|| {
                format!("requireMfaFor must be one of none, guests, everyone (got '{v}').")
            })?;
        }
        if let Some(v) = self.remember_mfa_minutes {
            if !(0..=MAX_REMEMBER_MFA_MINUTES).contains(&v) {
                return Err(format!(
                    "rememberMfaMinutes must be from 0 to {MAX_REMEMBER_MFA_MINUTES}."
                ));
            }
            p.remember_mfa_minutes = v;
        }
        if let Some(v) = self.email_otp_as_second_factor {
            p.email_otp_as_second_factor = v;
        }
        if let Some(v) = self.passkey_only_sign_in {
            p.passkey_only_sign_in = v;
        }
        Ok(p)
    }
}

impl Provider {
    pub async fn authentication_policy(&self) -> Result<TenantSettings, StoreError> {
        self.store.authentication_policy().await
    }

    /// Applies `patch`; `actor` is (`User`|`Application`, id, name) for the audit log.
    pub async fn update_authentication_policy(
        &self,
        patch: &AuthenticationPolicyPatch,
        actor: (&'static str, String, String),
    ) -> Result<TenantSettings, PolicyError> {
        // Merged into what is stored now, not this node's copy of it.
        self.store.catch_up_settings().await?;
        let current = self.store.authentication_policy().await?;
        let next = patch.apply(current).map_err(PolicyError::Invalid)?;
        let json = |p: &TenantSettings| serde_json::to_value(p).unwrap_or_default();
        let change = SettingsChange {
            at: self.clock.now(),
            actor_kind: actor.0,
            actor_id: actor.1,
            actor_name: actor.2,
            activity: "Update authentication policy",
            before: json(&current),
            after: json(&next),
        };
        self.store
            .save_authentication_policy(&next, &change)
            .await?;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_are_validated_field_by_field() {
        let base = TenantSettings::default();
        let p = AuthenticationPolicyPatch {
            require_mfa_for: Some("guests".into()),
            remember_mfa_minutes: Some(60),
            ..Default::default()
        };
        let got = p.apply(base).unwrap_or_default();
        assert_eq!(got.require_mfa_for, MfaScope::Guests);
        assert_eq!(got.remember_mfa_minutes, 60);
        let bad = AuthenticationPolicyPatch {
            require_mfa_for: Some("admins".into()),
            ..Default::default()
        };
        assert!(bad.apply(base).unwrap_err().contains("requireMfaFor"));
        let bad = AuthenticationPolicyPatch {
            remember_mfa_minutes: Some(-1),
            ..Default::default()
        };
        assert!(bad.apply(base).unwrap_err().contains("rememberMfaMinutes"));
    }
}

//! Passkeys (WebAuthn, through webauthn-rs): registering one, signing in with
//! one (as a second factor, or alone where the policy allows it), renaming
//! and removing one.
//!
//! Every ceremony is two requests: the options (a fresh challenge) and the
//! browser's answer. The state between them is stored (webauthn-rs's
//! `danger-allow-state-serialisation`), so the answer may reach any node; it
//! is bound to what asked (`interaction:{id}` or `account:{grant}`), taken
//! out by the answer (single use) and good for five minutes. Passkeys
//! always require user verification, so one is never weaker than a code.

use super::ceremony::CeremonyState;
use super::model::*;
use super::recovery::RECOVERY_CODE_COUNT;
use super::service::Mfa;
use crate::audit::Actor;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;
use webauthn_rs::prelude::{
    Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// How long the browser has to answer the options.
pub const PASSKEY_CEREMONY_MINUTES: i64 = 5;
/// The longest name a user may give a passkey.
const NAME_MAX: usize = 64;

/// The options for `navigator.credentials.create/get` (the `publicKey`
/// member, JSON), and the ceremony the answer must name.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyOptions {
    pub ceremony: Uuid,
    #[serde(rename = "publicKey")]
    pub public_key: serde_json::Value,
}

pub(super) fn internal(e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(anyhow::anyhow!("{e}"))
}

fn parse<T: DeserializeOwned>(json: &str) -> Result<T, PasskeyError> {
    serde_json::from_str(json).map_err(|_| PasskeyError::Refused)
}

/// A user's name for a passkey: trimmed, control characters dropped, at most
/// [`NAME_MAX`] characters, "Passkey" when empty.
pub(crate) fn clean_name(name: &str) -> String {
    let n: String = name
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_MAX)
        .collect();
    match n.trim() {
        "" => "Passkey".to_string(),
        t => t.to_string(),
    }
}

impl Mfa {
    /// Makes passkeys available with the issuer as the relying party: its
    /// host is the RP id, its origin the only origin accepted. An issuer
    /// whose host is an IP address leaves them unavailable (browsers refuse
    /// such an RP id); nothing fails.
    pub fn with_passkeys(mut self, issuer: &str) -> Self {
        self.webauthn = build_webauthn(issuer, &self.config.issuer).map(Arc::new);
        self
    }

    /// Whether passkeys work at this issuer.
    pub fn passkeys_available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn.as_deref().ok_or(PasskeyError::Unavailable)
    }

    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: Uuid) -> Result<Vec<PasskeyMethod>, PasskeyError> {
        let rows = self.repo.find_passkeys(user_id).await?;
        Ok(rows.iter().map(StoredPasskey::method).collect())
    }

    /// Options to register a new passkey for the user. Their passkeys are
    /// excluded (the authenticator says so instead of making a duplicate);
    /// a discoverable credential is asked for, so it can sign in alone.
    pub async fn start_passkey_registration(
        &self,
        user_id: Uuid,
        binding: &str,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let w = self.webauthn()?;
        let user = self.user(user_id).await?;
        let exclude = self
            .repo
            .find_passkeys(user_id)
            .await?
            .iter()
            .map(|p| parse::<Passkey>(&p.credential).map(|k| k.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| internal("a stored passkey does not parse"))?;
        let (mut ccr, state) = w
            .start_passkey_registration(user_id, &user.mail, &user.display_name, Some(exclude))
            .map_err(internal)?;
        if let Some(sel) = ccr.public_key.authenticator_selection.as_mut() {
            // "preferred" makes platform authenticators store the key, so
            // `passkeyOnlySignIn` can find it without a user name.
            sel.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
        let ceremony = self
            .save(
                Some(user_id),
                binding,
                CeremonyKind::Register,
                CeremonyState::Register(state),
            )
            .await?;
        let public_key = serde_json::to_value(&ccr.public_key).map_err(internal)?;
        Ok(PasskeyOptions {
            ceremony,
            public_key,
        })
    }

    /// Verifies the browser's answer and stores the passkey as `name`. When
    /// it is the user's first method, they get ten recovery codes, returned
    /// to be shown once.
    pub async fn finish_passkey_registration(
        &self,
        user_id: Uuid,
        binding: &str,
        ceremony: Uuid,
        answer: &str,
        name: &str,
        actor: &Actor,
    ) -> Result<Option<Vec<String>>, PasskeyError> {
        let w = self.webauthn()?;
        let (owner, state) = self.take(ceremony, binding, CeremonyKind::Register).await?;
        let CeremonyState::Register(state) = state else {
            return Err(PasskeyError::Expired);
        };
        if owner != Some(user_id) {
            return Err(PasskeyError::Expired);
        }
        let answer: RegisterPublicKeyCredential = parse(answer)?;
        let key = w
            .finish_passkey_registration(&answer, &state)
            .map_err(|e| {
                tracing::info!(error = %e, "passkey registration refused");
                PasskeyError::Refused
            })?;
        let now = self.clock.now();
        let user = self.user(user_id).await?;
        let first = !self.has_strong_method(user_id).await?;
        let (codes, stored) = if first {
            let (codes, stored) = self.new_recovery_codes(user_id, now);
            (Some(codes), Some(stored))
        } else {
            (None, None)
        };
        let name = clean_name(name);
        let passkey = StoredPasskey {
            id: Uuid::now_v7(),
            user_id,
            credential_id: URL_SAFE_NO_PAD.encode(key.cred_id()),
            name: name.clone(),
            credential: serde_json::to_string(&key).map_err(internal)?,
            counter: 0,
            aaguid: None,
            created_at: now,
            last_used_at: None,
        };
        let mut after = json!({ "passkey": name });
        if first {
            after["recoveryCodesLeft"] = json!(RECOVERY_CODE_COUNT);
        }
        let audit = crate::audit::for_user(now, actor, "Registered passkey", &user).after(after);
        let new = NewPasskey {
            passkey,
            recovery_codes: stored,
            audit,
        };
        if !self.repo.add_passkey(&new).await? {
            return Err(PasskeyError::AlreadyRegistered);
        }
        Ok(codes)
    }

    /// Options to sign in with a passkey: the user's own (a second factor),
    /// or, with no user, any discoverable one (`passkeyOnlySignIn`).
    pub async fn start_passkey_authentication(
        &self,
        user_id: Option<Uuid>,
        binding: &str,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let w = self.webauthn()?;
        let (public_key, state) = match user_id {
            Some(user_id) => {
                let keys = self
                    .repo
                    .find_passkeys(user_id)
                    .await?
                    .iter()
                    .map(|p| parse::<Passkey>(&p.credential))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| internal("a stored passkey does not parse"))?;
                if keys.is_empty() {
                    return Err(PasskeyError::NotFound);
                }
                let (rcr, state) = w.start_passkey_authentication(&keys).map_err(internal)?;
                (rcr.public_key, CeremonyState::Authenticate(state))
            }
            None => {
                // Not conditional mediation (autofill): the page asks on a
                // button press, so the browser shows its passkey chooser.
                let (rcr, state) = w.start_discoverable_authentication().map_err(internal)?;
                (rcr.public_key, CeremonyState::Discover(state))
            }
        };
        let ceremony = self
            .save(user_id, binding, CeremonyKind::Authenticate, state)
            .await?;
        Ok(PasskeyOptions {
            ceremony,
            public_key: serde_json::to_value(&public_key).map_err(internal)?,
        })
    }

    /// Verifies the browser's assertion; the user whose passkey it was. The
    /// passkey's counter and last use are recorded.
    pub async fn finish_passkey_authentication(
        &self,
        binding: &str,
        ceremony: Uuid,
        answer: &str,
    ) -> Result<Uuid, PasskeyError> {
        let w = self.webauthn()?;
        let (owner, state) = self
            .take(ceremony, binding, CeremonyKind::Authenticate)
            .await?;
        let answer: PublicKeyCredential = parse(answer)?;
        let credential_id = URL_SAFE_NO_PAD.encode(&answer.raw_id);
        let stored = self
            .repo
            .find_passkey_by_credential_id(&credential_id)
            .await?
            .ok_or(PasskeyError::Refused)?;
        if owner.is_some_and(|u| u != stored.user_id) {
            return Err(PasskeyError::Refused);
        }
        let mut key: Passkey =
            parse(&stored.credential).map_err(|_| internal("a stored passkey does not parse"))?;
        let result = match state {
            CeremonyState::Authenticate(state) => w.finish_passkey_authentication(&answer, &state),
            CeremonyState::Discover(state) => {
                // The user handle must name the passkey's owner.
                match w.identify_discoverable_authentication(&answer) {
                    Ok((user, _)) if user == stored.user_id => {
                        w.finish_discoverable_authentication_v2(&answer, state, &key)
                    }
                    _ => return Err(PasskeyError::Refused),
                }
            }
            CeremonyState::Register(_) => return Err(PasskeyError::Expired),
        }
        .map_err(|e| {
            tracing::info!(error = %e, "passkey assertion refused");
            PasskeyError::Refused
        })?;
        key.update_credential(&result);
        let counter = i64::from(result.counter());
        let credential = serde_json::to_string(&key).map_err(internal)?;
        self.repo
            .record_passkey_use(stored.id, &credential, counter, self.clock.now())
            .await?;
        Ok(stored.user_id)
    }

    /// Renames one of the user's passkeys.
    pub async fn rename_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        name: &str,
        actor: &Actor,
    ) -> Result<(), PasskeyError> {
        let old = self.own_passkey(user_id, id).await?;
        let name = clean_name(name);
        let user = self.user(user_id).await?;
        let audit = crate::audit::for_user(self.clock.now(), actor, "Renamed passkey", &user)
            .before(json!({ "passkey": old.name }))
            .after(json!({ "passkey": name }));
        if self.repo.rename_passkey(user_id, id, &name, &audit).await? {
            Ok(())
        } else {
            Err(PasskeyError::NotFound)
        }
    }

    /// Removes one of the user's passkeys. The recovery codes go with the
    /// last method they back.
    pub async fn remove_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        actor: &Actor,
    ) -> Result<(), PasskeyError> {
        let old = self.own_passkey(user_id, id).await?;
        let before = self.methods(user_id).await?;
        let last = before.totp.is_none() && before.passkeys.len() == 1;
        let user = self.user(user_id).await?;
        let left = if last { 0 } else { before.recovery_codes_left };
        let audit = crate::audit::for_user(self.clock.now(), actor, "Removed passkey", &user)
            .before(json!({
                "passkey": old.name,
                "recoveryCodesLeft": before.recovery_codes_left,
            }))
            .after(json!({ "passkeys": before.passkeys.len() - 1, "recoveryCodesLeft": left }));
        if self.repo.delete_passkey(user_id, id, last, &audit).await? {
            Ok(())
        } else {
            Err(PasskeyError::NotFound)
        }
    }

    async fn own_passkey(&self, user_id: Uuid, id: Uuid) -> Result<StoredPasskey, PasskeyError> {
        self.repo
            .find_passkeys(user_id)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(PasskeyError::NotFound)
    }
}

/// The relying party for `issuer`, or `None` where WebAuthn cannot work.
fn build_webauthn(issuer: &str, rp_name: &str) -> Option<Webauthn> {
    let origin = Url::parse(issuer).ok()?;
    let rp_id = origin.domain()?.to_string();
    let built = WebauthnBuilder::new(&rp_id, &origin).and_then(|b| b.rp_name(rp_name).build());
    match built {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, issuer, "passkeys are unavailable at this issuer");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_never_empty() {
        assert_eq!(clean_name("  Laptop  "), "Laptop");
        assert_eq!(clean_name(""), "Passkey");
        assert_eq!(clean_name("\u{7}\n"), "Passkey");
        assert_eq!(clean_name(&"x".repeat(100)).len(), NAME_MAX);
    }

    #[test]
    fn the_relying_party_is_the_issuer_host_and_never_an_ip_address() {
        assert!(build_webauthn("https://id.contoso.example", "Contoso").is_some());
        assert!(build_webauthn("http://localhost:8080", "Contoso").is_some());
        assert!(build_webauthn("http://127.0.0.1:8080", "Contoso").is_none());
        assert!(build_webauthn("http://[::1]:8080", "Contoso").is_none());
        assert!(build_webauthn("not a url", "Contoso").is_none());
    }
}

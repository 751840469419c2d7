//! A passkey ceremony between its two requests: webauthn-rs's state, stored
//! (so the answer may reach any node), bound to what asked for it, taken out
//! once by the answer, good for [`PASSKEY_CEREMONY_MINUTES`].

use super::model::*;
use super::passkey::{PASSKEY_CEREMONY_MINUTES, internal};
use super::service::Mfa;
use chrono::Duration;
use uuid::Uuid;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

/// The ceremony states kept between the two requests.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) enum CeremonyState {
    Register(PasskeyRegistration),
    Authenticate(PasskeyAuthentication),
    Discover(DiscoverableAuthentication),
}

impl Mfa {
    pub(super) async fn save(
        &self,
        user_id: Option<Uuid>,
        binding: &str,
        kind: CeremonyKind,
        state: CeremonyState,
    ) -> Result<Uuid, PasskeyError> {
        let now = self.clock.now();
        let c = StoredCeremony {
            id: Uuid::now_v7(),
            user_id,
            binding: binding.to_string(),
            kind: kind.as_str().to_string(),
            state: serde_json::to_string(&state).map_err(internal)?,
            created_at: now,
            expires_at: now + Duration::minutes(PASSKEY_CEREMONY_MINUTES),
        };
        self.repo.save_ceremony(&c).await?;
        Ok(c.id)
    }

    /// Takes the ceremony out: once, by what started it, within its time.
    pub(super) async fn take(
        &self,
        ceremony: Uuid,
        binding: &str,
        kind: CeremonyKind,
    ) -> Result<(Option<Uuid>, CeremonyState), PasskeyError> {
        let c = self
            .repo
            .consume_ceremony(ceremony, binding, kind.as_str())
            .await?
            .ok_or(PasskeyError::Expired)?;
        if c.expires_at <= self.clock.now() {
            return Err(PasskeyError::Expired);
        }
        let state = serde_json::from_str(&c.state).map_err(internal)?;
        Ok((c.user_id, state))
    }
}

//! `grant_type=refresh_token` (RFC 6749 §6). Rules:
//! - every use rotates: the presented token is consumed and a new one issued;
//! - a consumed token presented again is a replay: the whole family (grant) is
//!   revoked, the new token included (RFC 9700 §4.14.2);
//! - the token belongs to the authenticated client, is unexpired, its grant is
//!   not revoked and its user may still sign in;
//! - `scope` may only narrow the original grant (§6);
//! - conditional access is evaluated again, from where this request comes:
//!   a policy that blocks refuses it, and one that asks MFA refuses a grant
//!   signed in without it (the user signs in again).

use super::TokenForm;
use super::issue::{IssueParams, Refresh, TokenResponse};
use crate::Provider;
use crate::error::OAuthError;
use crate::model::{Client, GRANT_REFRESH_TOKEN, RefreshToken};

impl Provider {
    pub(crate) async fn grant_refresh_token(
        &self,
        client: &Client,
        form: &TokenForm,
        ctx: &crate::signin_log::RequestContext,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.allows_grant(GRANT_REFRESH_TOKEN) {
            return Err(OAuthError::unauthorized_client(
                "This application may not use the refresh_token grant.",
            ));
        }
        let token = form.require("refresh_token")?;
        let now = self.clock.now();
        let hash = self.hasher.hash("refresh", token);
        // Read here, used (marked, with its successor saved) only once every
        // check below has passed: issue_tokens rotates it.
        let r = match self.store.find_refresh_token(&hash).await? {
            None => return Err(OAuthError::invalid_grant("The refresh token is invalid.")),
            Some(r) if r.consumed_at.is_some() => return Err(self.refresh_reused(&r, now).await),
            Some(r) => r,
        };
        if r.client_id != client.client_id {
            self.store.revoke_grant(r.grant_id, now).await?;
            return Err(OAuthError::invalid_grant(
                "The refresh token was issued to another client.",
            ));
        }
        if r.expires_at <= now {
            return Err(OAuthError::invalid_grant("The refresh token has expired."));
        }
        let mut grant = self
            .store
            .find_grant(r.grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none())
            .ok_or_else(|| OAuthError::invalid_grant("The authorization was revoked."))?;
        if let Some(requested) = form.get("scope") {
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            let narrowed: Vec<&str> = requested.split(' ').filter(|s| !s.is_empty()).collect();
            if narrowed.iter().any(|s| !granted.contains(s)) {
                return Err(OAuthError::invalid_scope(
                    "The requested scope exceeds the original grant.",
                ));
            }
            grant.scope = narrowed.join(" ");
        }
        let account = self.live_account(&grant).await?;
        // Assignment is checked again here: a user unassigned since the
        // sign-in gets no new tokens (a cheap query; the grant stays revocable).
        if let Some(a) = &account
            && client.app_role_assignment_required
            && !client.first_party
            && !self.store.is_assigned(client.id, a.id).await?
        {
            return Err(OAuthError::invalid_grant(
                "The user is no longer assigned to this application.",
            ));
        }
        // A guest whose domain the organization no longer accepts gets no new
        // tokens either (the invitation domains policy, checked at sign-in too).
        if let Some(a) = &account
            && a.user_type == "Guest"
            && let Some(email) = &a.email
            && self.store.guest_domain_blocked(email).await?
        {
            return Err(OAuthError::invalid_grant(
                "This organization no longer accepts guests from your email domain.",
            ));
        }
        if let (Some(user_id), Some(a)) = (grant.user_id, &account) {
            self.refresh_access_check(user_id, a, &grant, ctx).await?;
        }
        self.issue_tokens(IssueParams {
            client,
            grant: &grant,
            account: account.as_ref(),
            nonce: None,
            refresh: Refresh::Rotate(&hash),
            extra: Default::default(),
        })
        .await
    }
}

impl Provider {
    /// A used refresh token presented again (or lost in a race): its whole
    /// family is revoked, the tokens issued since included (RFC 9700
    /// §4.14.2). The error to answer (the store's, if it could not).
    pub(crate) async fn refresh_reused(
        &self,
        r: &RefreshToken,
        now: chrono::DateTime<chrono::Utc>,
    ) -> OAuthError {
        if let Err(e) = self.store.revoke_grant(r.grant_id, now).await {
            return e.into();
        }
        tracing::warn!(client_id = %r.client_id, grant = %r.grant_id, "refresh token reused; family revoked");
        OAuthError::invalid_grant("The refresh token was already used.")
    }

    /// Conditional access on refresh: enforced policies only.
    async fn refresh_access_check(
        &self,
        user_id: uuid::Uuid,
        account: &crate::model::Account,
        grant: &crate::model::Grant,
        ctx: &crate::signin_log::RequestContext,
    ) -> Result<(), OAuthError> {
        let user_type = if account.user_type == "Guest" {
            portico_policy::UserType::Guest
        } else {
            portico_policy::UserType::Member
        };
        let origin = crate::conditional_access::Origin::of(ctx);
        let results = self
            .evaluate_access(user_id, user_type, &grant.client_id, &origin)
            .await?;
        let e = portico_policy::conditional_access::Enforcement::of(&results);
        if let Some((_, name)) = e.blocked_by.first() {
            return Err(OAuthError::invalid_grant(
                crate::conditional_access::blocked_message(name),
            ));
        }
        if !e.mfa_required_by.is_empty() && grant.acr.as_deref() != Some(portico_policy::ACR_MFA) {
            return Err(OAuthError::invalid_grant(format!(
                "The organization's access policy \"{}\" requires multi-factor authentication: sign in again.",
                e.mfa_required_by[0]
            )));
        }
        Ok(())
    }
}

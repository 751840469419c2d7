//! The federation service: trusted IdPs (admin CRUD), and one upstream
//! sign-in as a flow:
//!
//! 1. [`Federation::begin`]: discovery (cached), a fresh `state`, `nonce` and
//!    PKCE verifier saved as a flow bound to the browser's secret; the
//!    browser goes to the upstream authorization endpoint.
//! 2. [`Federation::callback`] at `<issuer>/federation/callback`: the `state`
//!    is consumed atomically (single use), the code is exchanged with the
//!    PKCE verifier, the ID token validated (`verify.rs`), userinfo read when
//!    the token lacks the mapped email, and the verified
//!    [`UpstreamIdentity`] is stored on the flow.
//! 3. The continuation (the interaction or the redeem page, which hold the
//!    browser's secret) reads the result with [`Federation::result`] or
//!    takes it once with [`Federation::claim_result`].

use crate::client::{FederationConfig, http_client};
use crate::discovery::{MetadataCache, chain};
use crate::egress::GuardedHttp;
use crate::error::{FederationError, UpstreamProblem};
use crate::model::*;
use crate::store::{FlowRepo, IdpRepo};
use crate::verify::{Expectations, Rejection, map_claims, verify_id_token};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope,
};
use portico_core::audit::{Actor, AuditEntry, CATEGORY_IDENTITY_PROVIDERS};
use portico_core::{Clock, SecretHasher, random_token};
use serde_json::{Map, Value};
use std::sync::Arc;
use uuid::Uuid;

const STATE_PURPOSE: &str = "federation-state";
const BINDING_PURPOSE: &str = "federation-binding";
/// Clock skew allowed between Portico and the IdP for `auth_time`.
const AUTH_TIME_LEEWAY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Clone)]
pub struct Federation {
    pub(crate) idps: Arc<dyn IdpRepo>,
    pub(crate) flows: Arc<dyn FlowRepo>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hasher: SecretHasher,
    pub(crate) config: FederationConfig,
    pub(crate) http: GuardedHttp,
    pub(crate) cache: Arc<MetadataCache>,
}

/// Where to send the browser to sign in upstream.
#[derive(Debug, Clone)]
pub struct BeginFlow {
    pub authorization_url: String,
    pub flow_id: Uuid,
}

/// The callback's query (RFC 6749 §4.1.2, RFC 9207 `iss`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// What the callback found: the flow (when the state named one) and either
/// the verified identity or why there is none.
#[derive(Debug)]
pub struct CallbackOutcome {
    pub flow: Option<FederationFlow>,
    pub result: Result<UpstreamIdentity, FederationError>,
}

fn problem(p: UpstreamProblem, detail: impl Into<String>) -> FederationError {
    FederationError::upstream(p, detail)
}

impl Federation {
    pub fn new(
        idps: Arc<dyn IdpRepo>,
        flows: Arc<dyn FlowRepo>,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
        config: FederationConfig,
    ) -> Result<Self, FederationError> {
        let http = http_client(&config)
            .map_err(|e| FederationError::Internal(anyhow::anyhow!("HTTP client: {e}")))?;
        Ok(Self {
            idps,
            flows,
            clock,
            hasher,
            config,
            http,
            cache: Arc::new(MetadataCache::default()),
        })
    }

    /// Now, at the precision the databases keep (PostgreSQL: microseconds),
    /// so what an admin call returns equals what a later read returns.
    fn stored_now(&self) -> chrono::DateTime<chrono::Utc> {
        use chrono::SubsecRound;
        self.clock.now().trunc_subsecs(6)
    }

    pub fn config(&self) -> &FederationConfig {
        &self.config
    }

    /// The one redirect URI admins register at every upstream IdP.
    pub fn redirect_uri(&self) -> String {
        self.config.redirect_uri()
    }

    // --- Admin: trusted IdPs. Creating one does not contact it.

    /// Adds a trusted IdP, audited with `actor` in the same transaction.
    pub async fn create(
        &self,
        input: IdpInput,
        actor: &Actor,
    ) -> Result<IdentityProvider, FederationError> {
        let idp = input.validate(self.stored_now())?;
        self.check_issuer_address(&idp.issuer)?;
        if self.idps.find_idp_by_issuer(&idp.issuer).await?.is_some() {
            return Err(FederationError::Conflict(format!(
                "issuer: an identity provider with issuer {} exists already",
                idp.issuer
            )));
        }
        let audit = self.idp_audit(actor, "Add identity provider", None, Some(&idp));
        self.idps.create_idp(&idp, &audit).await?;
        Ok(idp)
    }

    /// An issuer on a non-public IP literal (or `localhost`) is refused when
    /// it is saved, not only when it is first called: the admin learns at once.
    fn check_issuer_address(&self, issuer: &str) -> Result<(), FederationError> {
        self.http
            .check(issuer)
            .map_err(|why| FederationError::Invalid(format!("issuer: {why}")))
    }

    pub async fn list(&self) -> Result<Vec<IdentityProvider>, FederationError> {
        Ok(self.idps.list_idps().await?)
    }

    pub async fn get(&self, id: Uuid) -> Result<IdentityProvider, FederationError> {
        self.idps
            .find_idp(id)
            .await?
            .ok_or(FederationError::NotFound)
    }

    /// Applies `patch`, audited with `actor` (before and after) in the same
    /// transaction.
    pub async fn update(
        &self,
        id: Uuid,
        patch: IdpPatch,
        actor: &Actor,
    ) -> Result<IdentityProvider, FederationError> {
        let current = self.get(id).await?;
        let next = patch.apply(&current, self.stored_now())?;
        self.check_issuer_address(&next.issuer)?;
        if next.issuer != current.issuer
            && let Some(other) = self.idps.find_idp_by_issuer(&next.issuer).await?
            && other.id != id
        {
            return Err(FederationError::Conflict(format!(
                "issuer: an identity provider with issuer {} exists already",
                next.issuer
            )));
        }
        let audit = self.idp_audit(
            actor,
            "Update identity provider",
            Some(&current),
            Some(&next),
        );
        if !self.idps.update_idp(&next, &audit).await? {
            return Err(FederationError::NotFound);
        }
        self.cache.invalidate(id);
        Ok(next)
    }

    /// Deletes the IdP, audited with `actor` in the same transaction.
    pub async fn delete(&self, id: Uuid, actor: &Actor) -> Result<(), FederationError> {
        let before = self.get(id).await?;
        let audit = self.idp_audit(actor, "Delete identity provider", Some(&before), None);
        if !self.idps.delete_idp(id, &audit).await? {
            return Err(FederationError::NotFound);
        }
        self.cache.invalidate(id);
        Ok(())
    }

    /// The audit entry of an IdP change (`before`/`after`: the IdP as it was
    /// and is; `None` for create/delete). The views never hold the secret.
    fn idp_audit(
        &self,
        actor: &Actor,
        activity: &str,
        before: Option<&IdentityProvider>,
        after: Option<&IdentityProvider>,
    ) -> AuditEntry {
        let named = after.or(before);
        let mut e = AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_IDENTITY_PROVIDERS,
            "IdentityProvider",
            named.map(|i| i.id.to_string()).unwrap_or_default(),
            named.map(|i| i.display_name.as_str()).unwrap_or_default(),
        );
        e.before = before.map(IdentityProvider::audit_view);
        e.after = after.map(IdentityProvider::audit_view);
        e
    }

    // --- The upstream sign-in.

    /// Starts a sign-in at `idp` for the browser holding `binding`.
    pub async fn begin(
        &self,
        idp: &IdentityProvider,
        purpose: FlowPurpose,
        binding: &str,
        login_hint: Option<&str>,
    ) -> Result<BeginFlow, FederationError> {
        if !idp.enabled {
            return Err(problem(UpstreamProblem::Disabled, "the IdP is disabled"));
        }
        let metadata = self
            .cache
            .metadata(&self.http, idp, self.config.metadata_ttl)
            .await?;
        let client = self.client(idp, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token(32);
        let nonce = random_token(32);
        let (state_for_url, nonce_for_url) = (state.clone(), nonce.clone());
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_for_url),
                move || Nonce::new(nonce_for_url),
            )
            .set_pkce_challenge(challenge);
        for s in idp.scopes.iter().filter(|s| *s != "openid") {
            req = req.add_scope(Scope::new(s.clone()));
        }
        if let Some(hint) = login_hint.map(str::trim).filter(|h| !h.is_empty()) {
            req = req.add_extra_param("login_hint", hint.to_string());
        }
        if let FlowPurpose::SignIn { forwarded, .. } = &purpose {
            req = forward(req, forwarded);
        }
        let (url, _, _) = req.url();
        let now = self.clock.now();
        let flow = FederationFlow {
            id: Uuid::now_v7(),
            state_hash: self.hasher.hash(STATE_PURPOSE, &state),
            idp_id: idp.id,
            purpose,
            binding_hash: self.hasher.hash(BINDING_PURPOSE, binding),
            nonce,
            pkce_verifier: verifier.secret().clone(),
            status: FlowStatus::Pending,
            result: None,
            created_at: now,
            expires_at: now + self.config.flow_ttl + self.config.result_ttl,
        };
        self.flows.create_flow(&flow).await?;
        Ok(BeginFlow {
            authorization_url: url.to_string(),
            flow_id: flow.id,
        })
    }

    fn client(
        &self,
        idp: &IdentityProvider,
        metadata: CoreProviderMetadata,
    ) -> Result<UpstreamClient, FederationError> {
        // client_secret_basic unless the IdP says it only takes the secret
        // in the body (OIDC Discovery: absent means basic).
        let post_only = metadata
            .token_endpoint_auth_methods_supported()
            .is_some_and(|m| {
                !m.contains(&CoreClientAuthMethod::ClientSecretBasic)
                    && m.contains(&CoreClientAuthMethod::ClientSecretPost)
            });
        let redirect = RedirectUrl::new(self.redirect_uri())
            .map_err(|e| FederationError::Internal(anyhow::anyhow!("redirect URI: {e}")))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(idp.client_id.clone()),
            Some(ClientSecret::new(idp.client_secret.clone())),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(if post_only {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        });
        Ok(client)
    }

    /// Handles `GET /federation/callback`.
    pub async fn callback(&self, params: CallbackParams) -> CallbackOutcome {
        let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
            return CallbackOutcome {
                flow: None,
                result: Err(problem(UpstreamProblem::InvalidState, "no state")),
            };
        };
        let now = self.clock.now();
        let flow = match self
            .flows
            .consume_flow_state(&self.hasher.hash(STATE_PURPOSE, state), now)
            .await
        {
            Ok(Some(f)) => f,
            Ok(None) => {
                return CallbackOutcome {
                    flow: None,
                    result: Err(problem(
                        UpstreamProblem::InvalidState,
                        "unknown, used or expired state",
                    )),
                };
            }
            Err(e) => {
                return CallbackOutcome {
                    flow: None,
                    result: Err(e.into()),
                };
            }
        };
        let result = self.finish(&flow, &params).await;
        if let Ok(identity) = &result
            && let Err(e) = self.flows.complete_flow(flow.id, identity).await
        {
            return CallbackOutcome {
                flow: Some(flow),
                result: Err(e.into()),
            };
        }
        CallbackOutcome {
            flow: Some(flow),
            result,
        }
    }

    async fn finish(
        &self,
        flow: &FederationFlow,
        params: &CallbackParams,
    ) -> Result<UpstreamIdentity, FederationError> {
        if self.clock.now() > flow.created_at + self.config.flow_ttl {
            return Err(problem(
                UpstreamProblem::InvalidState,
                "the flow took too long",
            ));
        }
        let idp = match self.idps.find_idp(flow.idp_id).await? {
            Some(i) if i.enabled => i,
            _ => {
                return Err(problem(
                    UpstreamProblem::Disabled,
                    "IdP disabled or deleted",
                ));
            }
        };
        if let Some(err) = &params.error {
            let short: String = err.chars().take(64).collect();
            return Err(problem(
                UpstreamProblem::Refused,
                format!("the IdP answered error={short}"),
            ));
        }
        // RFC 9207: an `iss` in the response must be the IdP we sent the browser to.
        if let Some(iss) = &params.iss
            && iss != &idp.issuer
        {
            return Err(problem(
                UpstreamProblem::InvalidState,
                "the response's iss is another issuer (mix-up)",
            ));
        }
        let code = params
            .code
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| problem(UpstreamProblem::Refused, "no code in the response"))?;
        let metadata = self
            .cache
            .metadata(&self.http, &idp, self.config.metadata_ttl)
            .await?;
        let userinfo_url = metadata.userinfo_endpoint().map(|u| u.url().clone());
        let client = self.client(&idp, metadata.clone())?;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| problem(UpstreamProblem::Unavailable, format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match &e {
                RequestTokenError::ServerResponse(r) => problem(
                    UpstreamProblem::Refused,
                    format!("token endpoint refused the code: {}", r.error()),
                ),
                other => problem(
                    UpstreamProblem::Unavailable,
                    format!("token endpoint: {}", chain(other)),
                ),
            })?;
        let raw = response
            .extra_fields()
            .id_token()
            .map(|t| t.to_string())
            .ok_or_else(|| problem(UpstreamProblem::InvalidToken, "no ID token in the response"))?;
        let (claims, payload) = self.verify(&idp, &metadata, &raw, &flow.nonce).await?;
        check_auth_time(flow, claims.auth_time(), self.clock.now(), AUTH_TIME_LEEWAY)?;
        let subject = claims.subject().as_str().to_string();
        let userinfo = match (
            &userinfo_url,
            payload.contains_key(&idp.claims_mapping.email),
        ) {
            (Some(url), false) => Some(
                self.userinfo(url.as_str(), response.access_token().secret(), &subject)
                    .await?,
            ),
            _ => None,
        };
        let mapped = map_claims(&idp.claims_mapping, &payload, userinfo.as_ref());
        Ok(UpstreamIdentity {
            idp_id: idp.id,
            idp_name: idp.display_name.clone(),
            issuer: claims.issuer().as_str().to_string(),
            subject,
            email: mapped.email,
            email_verified: mapped.email_verified,
            display_name: mapped.display_name,
            amr: claims
                .auth_method_refs()
                .map(|v| v.iter().map(|a| a.as_str().to_string()).collect())
                .unwrap_or_default(),
            acr: claims.auth_context_ref().map(|a| a.as_str().to_string()),
            auth_time: claims.auth_time(),
        })
    }

    async fn verify(
        &self,
        idp: &IdentityProvider,
        metadata: &CoreProviderMetadata,
        raw: &str,
        nonce: &str,
    ) -> Result<(openidconnect::core::CoreIdTokenClaims, Map<String, Value>), FederationError> {
        let x = Expectations {
            client_id: &idp.client_id,
            issuer: &idp.issuer,
            nonce,
            now: self.clock.now(),
            leeway: self.config.leeway,
            max_age: self.config.max_token_age,
        };
        let invalid = |why: String| problem(UpstreamProblem::InvalidToken, why);
        match verify_id_token(raw, metadata.jwks(), &x) {
            Ok(v) => Ok(v),
            Err(Rejection::Invalid(why)) => Err(invalid(why)),
            Err(Rejection::UnknownKey) => {
                let Some(jwks) = self.cache.refresh_jwks(&self.http, idp, metadata).await? else {
                    return Err(invalid("signed with a key the IdP does not publish".into()));
                };
                match verify_id_token(raw, &jwks, &x) {
                    Ok(v) => Ok(v),
                    Err(Rejection::UnknownKey) => {
                        Err(invalid("signed with a key the IdP does not publish".into()))
                    }
                    Err(Rejection::Invalid(why)) => Err(invalid(why)),
                }
            }
        }
    }

    /// Userinfo (OIDC Core §5.3); its `sub` must be the ID token's (§5.3.2).
    async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
        subject: &str,
    ) -> Result<Map<String, Value>, FederationError> {
        let unavailable = |d: String| problem(UpstreamProblem::Unavailable, d);
        let resp = self
            .http
            .get(url)
            .map_err(|e| unavailable(format!("userinfo: {e}")))?
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unavailable(format!("userinfo: {}", chain(&e))))?;
        if !resp.status().is_success() {
            return Err(unavailable(format!("userinfo answered {}", resp.status())));
        }
        let body: Value = resp
            .json()
            .await
            .map_err(|e| unavailable(format!("userinfo is not JSON: {}", chain(&e))))?;
        let Value::Object(m) = body else {
            return Err(unavailable("userinfo is not a JSON object".into()));
        };
        if m.get("sub").and_then(Value::as_str) != Some(subject) {
            return Err(problem(
                UpstreamProblem::InvalidToken,
                "userinfo is about another subject",
            ));
        }
        Ok(m)
    }

    /// The verified identity of a completed flow, for the browser holding
    /// `binding`, without using it up (the redeem pages read it on each step).
    pub async fn result(
        &self,
        flow_id: Uuid,
        binding: &str,
    ) -> Result<(FlowPurpose, UpstreamIdentity), FederationError> {
        let gone = || problem(UpstreamProblem::InvalidState, "no such completed flow");
        let flow = self.flows.find_flow(flow_id).await?.ok_or_else(gone)?;
        if !self
            .hasher
            .verify(BINDING_PURPOSE, binding, &flow.binding_hash)
        {
            return Err(problem(
                UpstreamProblem::InvalidState,
                "another browser's flow",
            ));
        }
        if flow.expires_at <= self.clock.now() {
            return Err(gone());
        }
        match (flow.status, flow.result) {
            (FlowStatus::Completed, Some(r)) => Ok((flow.purpose, r)),
            _ => Err(gone()),
        }
    }

    /// Like [`Self::result`], and uses the flow up: exactly one caller gets it.
    pub async fn claim_result(
        &self,
        flow_id: Uuid,
        binding: &str,
    ) -> Result<(FlowPurpose, UpstreamIdentity), FederationError> {
        let r = self.result(flow_id, binding).await?;
        if !self.flows.claim_flow(flow_id, self.clock.now()).await? {
            return Err(problem(
                UpstreamProblem::InvalidState,
                "the flow was used already",
            ));
        }
        Ok(r)
    }
}

/// The app's requirements on the upstream authorization request (OIDC Core
/// §3.1.2.1): its `acr_values` as sent, `max_age`, and `prompt=login`.
type UpstreamAuthRequest<'a> = openidconnect::AuthorizationRequest<
    'a,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::core::CoreResponseType,
>;

fn forward<'a>(mut req: UpstreamAuthRequest<'a>, f: &Forwarded) -> UpstreamAuthRequest<'a> {
    for acr in f.acr_values.iter().flat_map(|v| v.split_whitespace()) {
        req = req.add_auth_context_value(AuthenticationContextClass::new(acr.to_string()));
    }
    if let Some(secs) = f.max_age.and_then(|s| u64::try_from(s).ok()) {
        req = req.set_max_age(std::time::Duration::from_secs(secs));
    }
    if f.prompt_login {
        req = req.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
    }
    req
}

/// With `prompt=login` forwarded, an `auth_time` must not predate the request.
/// With a forwarded `max_age`, the IdP must say when it authenticated the
/// person (`auth_time`), no longer ago than that (plus the clock leeway);
/// otherwise it ignored the app's freshness requirement (OIDC Core §3.1.2.1).
fn check_auth_time(
    flow: &FederationFlow,
    auth_time: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    leeway: chrono::Duration,
) -> Result<(), FederationError> {
    let FlowPurpose::SignIn { forwarded, .. } = &flow.purpose else {
        return Ok(());
    };
    // prompt=login: a sign-in from before the request is not a new one.
    if forwarded.prompt_login
        && let Some(at) = auth_time
        && at < flow.created_at - leeway
    {
        return Err(problem(
            UpstreamProblem::StaleAuthentication,
            "prompt=login was sent and auth_time is older than the request",
        ));
    }
    let Some(max_age) = forwarded.max_age else {
        return Ok(());
    };
    let Some(at) = auth_time else {
        return Err(problem(
            UpstreamProblem::StaleAuthentication,
            "max_age was sent and the ID token has no auth_time",
        ));
    };
    if now - at > chrono::Duration::seconds(max_age) + leeway {
        return Err(problem(
            UpstreamProblem::StaleAuthentication,
            format!(
                "auth_time is {}s old, max_age was {max_age}s",
                (now - at).num_seconds()
            ),
        ));
    }
    Ok(())
}

type UpstreamClient = openidconnect::Client<
    openidconnect::EmptyAdditionalClaims,
    openidconnect::core::CoreAuthDisplay,
    openidconnect::core::CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJsonWebKey,
    openidconnect::core::CoreAuthPrompt,
    openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    openidconnect::core::CoreTokenResponse,
    openidconnect::core::CoreTokenIntrospectionResponse,
    openidconnect::core::CoreRevocableToken,
    openidconnect::core::CoreRevocationErrorResponse,
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;
